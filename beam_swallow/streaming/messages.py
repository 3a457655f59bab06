"""Pub/Sub messages -> the read stage's three exits, in fixed windows.

Each message is one record: its data is a JSON object, exactly like a JSONL
line, read by :func:`~beam_swallow.io.parse_line` (same fields, ids and size
limit). The message's id, publish time and attributes go on the record as
``pubsub: {"message_id", "publish_time", "attributes"}`` (an input field
named ``pubsub`` moves to ``pubsub.input``). A message that is not valid UTF-8
JSON, not an object or without a text is a dead letter with the same
``error_type`` as in batch, its raw data in ``raw`` and the same ``pubsub``
metadata.

A record's window is given by when the pipeline read it (the later of its
publish time and the reader's clock), not by its publish time alone: a
message that waited in its subscription would otherwise be behind the
watermark, and a window that has fired drops late records, which breaks
"nothing lost". The publish time stays on the record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.transforms import window
from apache_beam.utils.timestamp import Timestamp

from beam_swallow.io import READ_STAGE, SEEN, InvalidRecord, ReaderConfig, ReadResult, parse_line
from beam_swallow.records import Record
from beam_swallow.stage import DEAD_LETTER, KEPT, REJECTED, emit_dead_letter, emit_verdict
from beam_swallow.streaming.config import StreamConfig

__all__ = [
    "PUBSUB",
    "ParseMessages",
    "ReadMessages",
    "check_source",
    "message_exit",
    "window_exits",
]

PUBSUB = "pubsub"  # the record field of a message's metadata

ReadTime = Callable[[Any], float]  # a message -> when it was read, seconds since the epoch


def _now(_message: Any) -> float:
    return time.time()


def _metadata(message: Any) -> dict[str, Any]:
    published = message.publish_time
    return {
        "message_id": message.message_id,
        "publish_time": published.isoformat() if published is not None else None,
        "attributes": dict(message.attributes or {}),
    }


def _with_metadata(record: Record, field: str, metadata: dict[str, Any]) -> Record:
    if field in record:
        metadata = {**metadata, "input": record[field]}
    return {**record, field: metadata}


def message_exit(
    data: bytes, field: str, metadata: dict[str, Any], cfg: ReaderConfig
) -> pvalue.TaggedOutput:
    """One message's data -> the read stage's verdict on it, ``metadata`` stored under ``field``.

    The data is read as a JSONL line; a message that is not a JSON object with a
    text is a dead letter whose ``raw`` is the data (undecodable bytes escaped).
    """
    try:
        record = _with_metadata(parse_line(data, cfg), field, metadata)
    except InvalidRecord as exc:
        payload = {"raw": data.decode("utf-8", "backslashreplace"), field: metadata}
        return emit_dead_letter(READ_STAGE, payload, str(exc), exc.kind)
    return emit_verdict(READ_STAGE, record, cfg.judge(record))


def window_exits(tagged: Any, window_s: float) -> ReadResult:
    """The read stage's tagged outputs (and ``seen``) -> a ReadResult in fixed windows."""
    windows = window.FixedWindows(window_s)
    return ReadResult(
        *(
            tagged[tag] | f"Window{tag}" >> beam.WindowInto(windows)
            for tag in (KEPT, REJECTED, DEAD_LETTER, SEEN)
        )
    )


class _MessageDoFn(beam.DoFn):
    def __init__(self, cfg: ReaderConfig, read_time: ReadTime):
        self._cfg = cfg
        self._read_time = read_time

    def process(self, message: Any, timestamp=beam.DoFn.TimestampParam) -> Iterator[Any]:
        stamp = max(timestamp, Timestamp.of(self._read_time(message)))
        out = message_exit(message.data or b"", PUBSUB, _metadata(message), self._cfg)
        yield pvalue.TaggedOutput(out.tag, window.TimestampedValue(out.value, stamp))
        yield pvalue.TaggedOutput(SEEN, window.TimestampedValue(1, stamp))


class ParseMessages(beam.PTransform):
    """``PubsubMessage``s -> a :class:`~beam_swallow.io.ReadResult` in fixed windows of
    ``window_s`` seconds; ``seen`` counts one per message.

    ``read_time`` says when a message was read (default: now); tests pass the
    read times they script.
    """

    def __init__(self, cfg: ReaderConfig, window_s: float, read_time: ReadTime = _now):
        super().__init__()
        self._cfg = cfg
        self._window_s = window_s
        self._read_time = read_time

    def expand(self, messages: beam.PCollection) -> ReadResult:
        tagged = messages | "Parse" >> beam.ParDo(
            _MessageDoFn(self._cfg, self._read_time)
        ).with_outputs(KEPT, REJECTED, DEAD_LETTER, SEEN)
        return window_exits(tagged, self._window_s)


def check_source(stream: StreamConfig) -> None:
    """Raise ValueError unless the subscription or topic exists.

    Like a batch run's check that its input files exist: a typo is reported
    in one line before the job starts, not as the job failing once it runs.
    Other errors (no credentials, no permission) propagate as they are.
    """
    from google.api_core.exceptions import NotFound
    from google.cloud import pubsub_v1

    try:
        if stream.subscription is not None:
            with pubsub_v1.SubscriberClient() as client:
                client.get_subscription(subscription=stream.subscription)
        else:
            pubsub_v1.PublisherClient().get_topic(topic=stream.topic)
    except NotFound:
        what = "subscription" if stream.subscription else "topic"
        raise ValueError(
            f"Pub/Sub {what} {stream.subscription or stream.topic} does not exist"
        ) from None


class ReadMessages(beam.PTransform):
    """Read a Pub/Sub subscription or topic as records: a windowed ReadResult."""

    def __init__(self, stream: StreamConfig, cfg: ReaderConfig = ReaderConfig()):
        super().__init__()
        self._stream = stream
        self._cfg = cfg

    def expand(self, pbegin: beam.pvalue.PBegin) -> ReadResult:
        from apache_beam.io.gcp.pubsub import ReadFromPubSub

        source = ReadFromPubSub(
            topic=self._stream.topic,
            subscription=self._stream.subscription,
            with_attributes=True,
        )
        return (
            pbegin
            | "ReadPubSub" >> source
            | "Records" >> ParseMessages(self._cfg, self._stream.window_s)
        )
