"""Stages ``exact_dedup`` and ``near_dedup`` of a streaming run: stateful, first seen kept.

A batch run sees the whole corpus, so exact_dedup.py and near_dedup.py keep
the smallest record of each group. A stream never ends: here each record is
compared with every record kept before it (across windows), the first one seen
is kept and later copies are rejected with ``duplicate_of``. Both stages take
windowed records, compare them in the global window (Beam keeps state per key
and window, so per-window state would forget at each window's end) and hand
them back in the input's windows, with their timestamps unchanged.

- ``exact_dedup``: state keyed by the text's digest
  (:func:`~beam_swallow.transforms.exact_dedup.text_digest`), holding the
  first record's id: one entry per distinct text.
- ``near_dedup``: three steps.

  1. Sign: the record's MinHash signature and its ``bands`` LSH band keys
     (:mod:`beam_swallow.dedup.minhash`, as in batch); each copy of a record
     gets a fresh ``uid``, its order is ``(timestamp, uid)``.
  2. Buckets, keyed by band key, each holding its first record: ``(order, id,
     signature)``, the signature as the lowest byte of each value
     (:func:`~beam_swallow.dedup.minhash.low_bytes`: a quarter of the state,
     similarity estimated without bias). A record whose estimated Jaccard to the holder reaches
     ``threshold`` is its duplicate when it comes later in order; when it
     comes earlier (records can reach a bucket out of order) it takes the
     bucket instead. A record that does not match leaves the bucket as it is.
     One answer per bucket: ``(uid, (id, similarity) or None)``.
  3. Verdict, keyed by uid: once the record and its ``bands`` answers are in,
     it is rejected ``near_duplicate`` (``duplicate_of``, ``similarity``: the
     best match) or kept, and its state is cleared.

  Because "later" is one total order, two records can never reject each
  other; the earliest of a chain is always kept. A pair that reaches one
  shared bucket in the wrong order is missed (both kept), never lost.
  ``--near_dedup_verify`` must be ``minhash`` or ``none``: ``exact`` would
  have to keep every record's shingles in state.

State per key is bounded (one entry per digest or band key, and per record
only until its verdict), but the number of keys grows with the stream. With
``ttl_s`` each entry is dropped that many seconds of event time after it was
stored (a watermark timer), so a copy arriving later is kept; without it
(None) state grows for ever. docs, "Streaming", give the cost at 40M records.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam import pvalue
from apache_beam.coders import PickleCoder
from apache_beam.transforms import window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    CombiningValueStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from apache_beam.utils.timestamp import Duration, Timestamp

from beam_swallow.dedup.minhash import (
    MinhashConfig,
    band_keys,
    estimate_jaccard_low_bytes,
    low_bytes,
    signature,
    text_window_hashes,
)
from beam_swallow.records import ID, TEXT, Reason, Record, Reject
from beam_swallow.stage import DEAD_LETTER, KEPT, REJECTED, StageResult, emit_verdict, guarded
from beam_swallow.transforms.exact_dedup import DEFAULT_NORMALIZE, NORMALIZATIONS, text_digest
from beam_swallow.transforms.exact_dedup import STAGE as EXACT_STAGE
from beam_swallow.transforms.near_dedup import STAGE as NEAR_STAGE

__all__ = ["StateConfig", "StreamExactDedup", "StreamNearDedup"]

_KEYED = "keyed"
_RECORD = "record"
_BAND = "band"
_STREAM_VERIFY = ("minhash", "none")


@dataclass(frozen=True)
class StateConfig:
    """How long dedup state lives: ``ttl_s`` seconds of event time, or for ever (None)."""

    ttl_s: float | None = None

    def __post_init__(self) -> None:
        if self.ttl_s is not None and not self.ttl_s > 0:
            raise ValueError(f"--dedup_state_ttl_s must be positive, got {self.ttl_s}")

    def expiry(self, timestamp: Timestamp) -> Timestamp | None:
        """When an entry stored at ``timestamp`` is dropped; None: never."""
        return None if self.ttl_s is None else timestamp + Duration(seconds=self.ttl_s)


def _typed_keys(pairs: beam.PCollection, key: type, label: str) -> beam.PCollection:
    """``pairs`` declared as ``(key, value)``, so the stateful step after it knows its keys
    have a deterministic coder."""
    return pairs | label >> beam.Map(lambda kv: kv).with_output_types(tuple[key, Any])


def _in_global_window(records: beam.PCollection, label: str) -> beam.PCollection:
    return records | label >> beam.WindowInto(window.GlobalWindows())


def _back_to(windowing: Any, result: StageResult, label: str) -> StageResult:
    """The three exits in the windows the stage's input had (timestamps unchanged)."""
    return StageResult(
        *(
            exit_ | f"{label}{name}" >> beam.WindowInto(windowing.windowfn)
            for name, exit_ in zip((KEPT, REJECTED, DEAD_LETTER), result, strict=True)
        )
    )


class _FirstTextDoFn(beam.DoFn):
    """Per text digest: the first record is kept, later ones are its duplicates."""

    FIRST = ReadModifyWriteStateSpec("first", PickleCoder())
    EXPIRE = TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, state: StateConfig):
        self._state = state

    def process(
        self,
        item: tuple[bytes, Record],
        timestamp=beam.DoFn.TimestampParam,
        first=beam.DoFn.StateParam(FIRST),
        expire=beam.DoFn.TimerParam(EXPIRE),
    ) -> Iterator[pvalue.TaggedOutput]:
        record = item[1]
        kept_id = first.read()
        if kept_id is None:
            first.write(record[ID])
            if (when := self._state.expiry(timestamp)) is not None:
                expire.set(when)
            yield emit_verdict(EXACT_STAGE, record, record)
        else:
            fields = {"duplicate_of": kept_id}
            yield emit_verdict(EXACT_STAGE, record, Reject(Reason.EXACT_DUPLICATE, fields))

    @on_timer(EXPIRE)
    def _expire(self, first=beam.DoFn.StateParam(FIRST)) -> None:
        first.clear()


class _DigestDoFn(beam.DoFn):
    def __init__(self, normalize: str):
        self._normalize = normalize

    def process(self, record: Record) -> Iterator[pvalue.TaggedOutput]:
        keyed = guarded(EXACT_STAGE, record, self._keyed, record)
        yield (
            keyed if isinstance(keyed, pvalue.TaggedOutput) else pvalue.TaggedOutput(_KEYED, keyed)
        )

    def _keyed(self, record: Record) -> tuple[bytes, Record]:
        return text_digest(record[TEXT], self._normalize), record


class StreamExactDedup(beam.PTransform):
    """exact_dedup for streaming: the first record of each text is kept."""

    stage = EXACT_STAGE

    def __init__(self, normalize: str = DEFAULT_NORMALIZE, state: StateConfig = StateConfig()):
        super().__init__(label=EXACT_STAGE)
        if normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}")
        self._normalize = normalize
        self._state = state

    def expand(self, records: beam.PCollection) -> StageResult:
        keyed = _in_global_window(records, "Global") | "Digest" >> beam.ParDo(
            _DigestDoFn(self._normalize)
        ).with_outputs(_KEYED, DEAD_LETTER)
        judged = _typed_keys(keyed[_KEYED], bytes, "ByDigest") | "FirstSeen" >> beam.ParDo(
            _FirstTextDoFn(self._state)
        ).with_outputs(KEPT, REJECTED)
        return _back_to(
            records.windowing,
            StageResult(judged[KEPT], judged[REJECTED], keyed[DEAD_LETTER]),
            "Rewindow",
        )


class _SignDoFn(beam.DoFn):
    """A record -> itself under a fresh uid, and one bucket entry per LSH band."""

    def __init__(self, cfg: MinhashConfig):
        self._cfg = cfg

    def process(
        self, record: Record, timestamp=beam.DoFn.TimestampParam
    ) -> Iterator[pvalue.TaggedOutput]:
        signed = guarded(NEAR_STAGE, record, self._sign, record)
        if isinstance(signed, pvalue.TaggedOutput):
            yield signed
            return
        sig, keys = signed
        uid = uuid.uuid4().hex
        order = (timestamp.micros, uid)
        yield pvalue.TaggedOutput(_RECORD, (uid, (_RECORD, record)))
        entry = (order, record[ID], low_bytes(sig))
        for key in keys:
            yield pvalue.TaggedOutput(_BAND, (key, entry))

    def _sign(self, record: Record) -> tuple[np.ndarray, list[bytes]]:
        sig = signature(text_window_hashes(record[TEXT], self._cfg.shingle_size), self._cfg)
        return sig, band_keys(sig, self._cfg.bands, self._cfg.rows)


class _BucketDoFn(beam.DoFn):
    """Per LSH band key: its earliest record; answers whether a record is a later copy."""

    FIRST = ReadModifyWriteStateSpec("first", PickleCoder())
    EXPIRE = TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, cfg: MinhashConfig, state: StateConfig):
        self._cfg = cfg
        self._state = state

    def process(
        self,
        item: tuple[bytes, tuple[tuple[int, str], str, bytes]],
        timestamp=beam.DoFn.TimestampParam,
        first=beam.DoFn.StateParam(FIRST),
        expire=beam.DoFn.TimerParam(EXPIRE),
    ) -> Iterator[tuple[str, tuple[str, Any]]]:
        entry = item[1]
        order, _, sig = entry
        uid = order[1]
        held = first.read()
        if held is not None:
            similarity = self._similarity(sig, held[2])
            if similarity >= self._cfg.threshold and order > held[0]:
                yield uid, (_BAND, (held[1], similarity))
                return
            if similarity < self._cfg.threshold:
                yield uid, (_BAND, None)
                return
        first.write(entry)  # the first record here, or an earlier copy of the holder
        if (when := self._state.expiry(timestamp)) is not None:
            expire.set(when)
        yield uid, (_BAND, None)

    def _similarity(self, a: bytes, b: bytes) -> float:
        if self._cfg.verify == "none":
            return 1.0
        return estimate_jaccard_low_bytes(a, b)

    @on_timer(EXPIRE)
    def _expire(self, first=beam.DoFn.StateParam(FIRST)) -> None:
        first.clear()


class _NearVerdictDoFn(beam.DoFn):
    """Per record uid: wait for the record and its ``bands`` answers, then judge it."""

    RECORD = ReadModifyWriteStateSpec("record", PickleCoder())
    ANSWERS = CombiningValueStateSpec("answers", sum)
    MATCHES = BagStateSpec("matches", PickleCoder())

    def __init__(self, bands: int):
        self._bands = bands

    def process(
        self,
        item: tuple[str, tuple[str, Any]],
        record_state=beam.DoFn.StateParam(RECORD),
        answers=beam.DoFn.StateParam(ANSWERS),
        matches=beam.DoFn.StateParam(MATCHES),
    ) -> Iterator[pvalue.TaggedOutput]:
        kind, value = item[1]
        if kind == _RECORD:
            record_state.write(value)
        else:
            answers.add(1)
            if value is not None:
                matches.add(value)
        record = record_state.read()
        if record is None or answers.read() < self._bands:
            return
        found = list(matches.read())
        record_state.clear()
        answers.clear()
        matches.clear()
        if not found:
            yield emit_verdict(NEAR_STAGE, record, record)
            return
        kept_id, similarity = max(found, key=lambda match: (match[1], match[0]))
        fields = {"duplicate_of": kept_id, "similarity": round(similarity, 4)}
        yield emit_verdict(NEAR_STAGE, record, Reject(Reason.NEAR_DUPLICATE, fields))


class StreamNearDedup(beam.PTransform):
    """near_dedup for streaming: a record is rejected when an earlier one shares a band
    and reaches the similarity threshold."""

    stage = NEAR_STAGE

    def __init__(self, cfg: MinhashConfig | None = None, state: StateConfig = StateConfig()):
        super().__init__(label=NEAR_STAGE)
        self._cfg = cfg or MinhashConfig()
        if self._cfg.verify not in _STREAM_VERIFY:
            raise ValueError(
                f"a streaming near_dedup verifies by {' or '.join(_STREAM_VERIFY)}, "
                f"not {self._cfg.verify!r}: exact would keep every record's shingles in state"
            )
        self._state = state

    def expand(self, records: beam.PCollection) -> StageResult:
        signed = _in_global_window(records, "Global") | "Sign" >> beam.ParDo(
            _SignDoFn(self._cfg)
        ).with_outputs(_RECORD, _BAND, DEAD_LETTER)
        answers = _typed_keys(signed[_BAND], bytes, "ByBand") | "Buckets" >> beam.ParDo(
            _BucketDoFn(self._cfg, self._state)
        )
        gathered = (signed[_RECORD], answers) | "Gather" >> beam.Flatten()
        judged = _typed_keys(gathered, str, "ByRecord") | "Verdicts" >> beam.ParDo(
            _NearVerdictDoFn(self._cfg.bands)
        ).with_outputs(KEPT, REJECTED)
        return _back_to(
            records.windowing,
            StageResult(judged[KEPT], judged[REJECTED], signed[DEAD_LETTER]),
            "Rewindow",
        )
