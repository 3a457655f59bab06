"""The fetch stage: a Stack v2 file's contents from the blob store, decoded by its ``src_encoding``.

Records come from :mod:`beam_swallow.sources.stack_v2` without text. For each,
the stage GETs ``{--stack_v2_content_url}{blob_id}`` (default
``s3://softwareheritage/content/``, Software Heritage's public bucket, where
each file is a gzip'd blob), unsigned unless S3 credentials are configured,
through Beam's ``--s3_endpoint_url`` when given. At most
``--fetch_concurrency`` GETs are in flight per worker process, fed
continuously (a new one starts as soon as one ends, never a batch at a time).
A GET answered 5xx (``SlowDown`` included), throttled, timed out or cut off
is retried up to ``--fetch_retries`` times with exponential backoff and full
jitter (tenacity); a missing blob is not retried.

Each blob is judged by :func:`~beam_swallow.sources.blobs.blob_value`:

- kept: the record with ``text`` and ``decoded_as`` (the encoding that decoded it);
- rejected ``too_large`` (the compressed blob, or its decoded bytes, over
  ``--stack_v2_max_bytes``; decompression stops at the bound; ``blob_bytes``
  is the compressed size), ``undecodable`` (neither its ``src_encoding`` nor UTF-8 decodes it),
  ``null_bytes`` (the decoded text holds NUL, as BigCode dropped them);
- dead letter ``missing_blob`` (no object under the blob id: the error names
  it), ``corrupt_blob`` (not gzip, or cut short), or the error of a GET that
  failed after its retries (e.g. ``client_error`` for a refused one).

Counters: ``fetch.kept``, ``fetch.<reason>``, ``fetch.dead_letter``.
"""

from __future__ import annotations

import argparse
import queue
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.transforms.window import BoundedWindow
from apache_beam.utils import shared
from apache_beam.utils.timestamp import Timestamp
from apache_beam.utils.windowed_value import WindowedValue

from beam_swallow.records import ID, REASON, ErrorKind, Reason, Record, Reject
from beam_swallow.sources.blobs import BLOB_BYTES, CorruptBlob, blob_value
from beam_swallow.sources.s3 import S3Settings, has_credentials, make_client, split_s3_url
from beam_swallow.sources.stack_v2 import BLOB_ID, MAX_BYTES
from beam_swallow.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_dead_letter,
    emit_judged,
)

__all__ = [
    "CONTENT_URL",
    "STAGE",
    "Fetch",
    "FetchConfig",
    "MissingBlob",
    "add_arguments",
    "apply_value",
    "fetch_value",
]

STAGE = "fetch"
CONTENT_URL = "s3://softwareheritage/content/"

# S3 error codes worth another try besides any 5xx status (S3's own throttling answers).
_TRANSIENT_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout"}
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}


class MissingBlob(Exception):
    """The store holds no object under a blob id (S3 answered 404)."""


@dataclass(frozen=True)
class FetchConfig:
    """Where blobs live and how they are fetched; raises ValueError on impossible values.

    ``anonymous``: None sends unsigned requests unless S3 credentials are
    configured (``s3``'s keys or boto3's chain), True always, False never.
    Waits are in seconds: the first retry waits up to ``retry_initial_s``, each
    next one up to twice as long, at most ``retry_max_wait_s``.
    """

    content_url: str = CONTENT_URL
    max_bytes: int = MAX_BYTES
    concurrency: int = 32
    retries: int = 8
    timeout_s: float = 30.0
    retry_initial_s: float = 0.5
    retry_max_wait_s: float = 20.0
    anonymous: bool | None = None
    s3: S3Settings = field(default_factory=S3Settings)

    def __post_init__(self) -> None:
        split_s3_url(self.content_url)
        if self.max_bytes < 1:
            raise ValueError(f"--stack_v2_max_bytes must be positive, got {self.max_bytes}")
        if self.concurrency < 1:
            raise ValueError(f"--fetch_concurrency must be >= 1, got {self.concurrency}")
        if self.retries < 0:
            raise ValueError(f"--fetch_retries must be >= 0, got {self.retries}")
        if not (self.timeout_s > 0 and self.retry_initial_s > 0 and self.retry_max_wait_s > 0):
            raise ValueError("fetch timeouts and waits must be positive")

    def location(self, blob_id: str) -> tuple[str, str]:
        """``(bucket, key)`` of one blob."""
        bucket, prefix = split_s3_url(self.content_url)
        return bucket, prefix + blob_id


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of :class:`FetchConfig` (the fetch stage), one group."""
    defaults = FetchConfig()
    group = parser.add_argument_group("fetch (The Stack v2 contents; S3 settings: Beam's --s3_*)")
    group.add_argument(
        "--stack_v2_content_url",
        default=defaults.content_url,
        help="Where the gzip'd blobs are, as s3://BUCKET/PREFIX/ (a blob is PREFIX + its "
        f"blob_id; default {defaults.content_url}). Unsigned requests unless S3 credentials "
        "are configured; Beam's --s3_endpoint_url names another S3-protocol server.",
    )
    group.add_argument(
        "--fetch_concurrency",
        type=int,
        default=defaults.concurrency,
        help=f"GETs in flight at once per worker process (default {defaults.concurrency}).",
    )
    group.add_argument(
        "--fetch_retries",
        type=int,
        default=defaults.retries,
        help="Retries of a GET answered 5xx or SlowDown, throttled, timed out or cut off, with "
        "exponential backoff and jitter; none for a missing blob; then the record is a dead "
        f"letter (default {defaults.retries}).",
    )
    group.add_argument(
        "--fetch_timeout",
        type=float,
        default=defaults.timeout_s,
        help=f"Seconds to connect, and to wait for each read, of one GET (default "
        f"{defaults.timeout_s:g}).",
    )
    group.add_argument(
        "--fetch_retry_max_wait",
        type=float,
        default=defaults.retry_max_wait_s,
        help=f"Longest wait between two tries of a GET, in seconds (default "
        f"{defaults.retry_max_wait_s:g}).",
    )


def apply_value(record: Record, value: dict[str, Any]) -> Record | Reject:
    """The verdict a fetched (or cached) value gives ``record``."""
    if REASON in value:
        fields = {k: v for k, v in value.items() if k != REASON}
        return Reject(value[REASON], fields)
    return {**record, **value}


def _blob_id(record: Record) -> str:
    blob_id = record.get(BLOB_ID, record.get(ID))
    if not isinstance(blob_id, str) or not blob_id:
        raise ValueError(f"record {record.get(ID)!r} has no string {BLOB_ID!r}")
    return blob_id


def _status(exc: BaseException) -> tuple[int, str]:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return 0, ""
    response = exc.response
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return status, str(response.get("Error", {}).get("Code", ""))


def _transient(exc: BaseException) -> bool:
    """Worth another try: 5xx, S3's throttling codes, timeouts and broken connections."""
    from botocore.exceptions import (
        ConnectionError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )

    if isinstance(
        exc, (ConnectionError, ReadTimeoutError, IncompleteReadError, ResponseStreamingError)
    ):
        return True
    status, code = _status(exc)
    return status >= 500 or code in _TRANSIENT_CODES


def fetch_value(client: Any, cfg: FetchConfig, record: Record) -> dict[str, Any]:
    """GET one record's blob (retrying what is transient) and judge it with :func:`blob_value`.

    Raises MissingBlob for a 404, CorruptBlob for a blob that is not gzip, and
    the last error of a GET that failed after its retries.
    """
    from botocore.exceptions import ClientError
    from tenacity import (
        Retrying,
        retry_if_exception,
        stop_after_attempt,
        wait_random_exponential,
    )

    blob_id = _blob_id(record)
    bucket, key = cfg.location(blob_id)
    retrying = Retrying(
        stop=stop_after_attempt(cfg.retries + 1),
        wait=wait_random_exponential(multiplier=cfg.retry_initial_s, max=cfg.retry_max_wait_s),
        retry=retry_if_exception(_transient),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                response = client.get_object(Bucket=bucket, Key=key)
                size = int(response.get("ContentLength") or 0)
                if size > cfg.max_bytes:
                    response["Body"].close()
                    return {REASON: Reason.TOO_LARGE, BLOB_BYTES: size}
                data = response["Body"].read()
    except ClientError as exc:
        status, code = _status(exc)
        if status == 404 or code in _MISSING_CODES:
            raise MissingBlob(f"no blob {blob_id} at s3://{bucket}/{key}") from None
        raise
    return blob_value(data, record.get("src_encoding"), cfg.max_bytes)


class _Fetcher:
    """One per worker process (through ``shared.Shared``): the client and the GET threads."""

    def __init__(self, cfg: FetchConfig):
        anonymous = cfg.anonymous if cfg.anonymous is not None else not has_credentials(cfg.s3)
        self.cfg = cfg
        self.client = make_client(
            cfg.s3, anonymous=anonymous, timeout_s=cfg.timeout_s, max_connections=cfg.concurrency
        )
        self.pool = ThreadPoolExecutor(max_workers=cfg.concurrency, thread_name_prefix=STAGE)

    def submit(self, record: Record) -> Future:
        return self.pool.submit(fetch_value, self.client, self.cfg, record)


# Records handed to the GET threads per thread: a thread that ends a GET takes the next one
# from the pool's queue at once, without waiting for the bundle's thread to hand it over.
_QUEUED = 2


class _FetchDoFn(beam.DoFn):
    """Starts a GET per record and emits each answer when it is in, in any order.

    A finished GET puts its future on ``_done`` (a callback), so waiting costs
    nothing per record. The pool's ``concurrency`` threads bound the GETs in
    flight; up to ``_QUEUED`` times as many of this instance's records wait
    for one; the bundle's last ones are emitted by ``finish_bundle``, each in
    its own window. Counters are incremented here, on the bundle's thread
    (Beam's metrics are per thread), never in the GET threads.
    """

    def __init__(self, cfg: FetchConfig):
        self._cfg = cfg
        self._shared = shared.Shared()
        self._fetcher: _Fetcher | None = None
        self._pending: dict[Future, tuple[Record, BoundedWindow, Timestamp]] = {}
        self._done: queue.SimpleQueue[Future] | None = None  # made per bundle

    def setup(self) -> None:
        cfg = self._cfg
        self._fetcher = self._shared.acquire(lambda: _Fetcher(cfg), tag=f"{STAGE}-{hash(cfg)}")

    def start_bundle(self) -> None:
        self._pending = {}
        self._done = queue.SimpleQueue()

    def process(
        self,
        record: Record,
        window: BoundedWindow = beam.DoFn.WindowParam,
        timestamp: Timestamp = beam.DoFn.TimestampParam,
    ) -> Iterator[pvalue.TaggedOutput]:
        assert self._fetcher is not None and self._done is not None
        future = self._fetcher.submit(record)
        self._pending[future] = (record, window, timestamp)
        future.add_done_callback(self._done.put)
        yield from self._drain(block=len(self._pending) >= _QUEUED * self._cfg.concurrency)

    def finish_bundle(self) -> Iterator[pvalue.TaggedOutput]:
        while self._pending:
            yield from self._drain(block=True)

    def _drain(self, block: bool) -> Iterator[pvalue.TaggedOutput]:
        """Emit every finished GET; with ``block``, wait for one first."""
        assert self._done is not None
        while True:
            try:
                future = self._done.get() if block else self._done.get_nowait()
            except queue.Empty:
                return
            block = False
            record, window, timestamp = self._pending.pop(future)
            out = _emit(future, record)
            yield pvalue.TaggedOutput(out.tag, WindowedValue(out.value, timestamp, (window,)))


def _emit(future: Future, record: Record) -> pvalue.TaggedOutput:
    try:
        value = future.result()
    except MissingBlob as exc:
        return emit_dead_letter(STAGE, record, exc, ErrorKind.MISSING_BLOB)
    except CorruptBlob as exc:
        return emit_dead_letter(STAGE, record, exc, ErrorKind.CORRUPT_BLOB)
    except Exception as exc:  # a GET that failed after its retries: this record's dead letter
        return emit_dead_letter(STAGE, record, exc)
    return emit_judged(STAGE, record, apply_value, value)


class Fetch(beam.PTransform):
    """The fetch stage; returns a :class:`~beam_swallow.stage.StageResult`.

    Records are spread over workers first: a shard's files arrive together from
    one reader, and their GETs should not all wait on one worker.
    """

    stage = STAGE

    def __init__(self, cfg: FetchConfig):
        super().__init__(label=STAGE)
        self._cfg = cfg

    def expand(self, records: beam.PCollection) -> StageResult:
        tagged = (
            records
            | "Spread" >> beam.Reshuffle()
            | "Get" >> beam.ParDo(_FetchDoFn(self._cfg)).with_outputs(KEPT, REJECTED, DEAD_LETTER)
        )
        return StageResult.from_tagged(tagged)
