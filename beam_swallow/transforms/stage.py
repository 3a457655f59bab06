"""The three exits every stage has, and the PTransform for per-record stages.

A stage is a plain function ``judge(record) -> record | Reject``: testable
without Beam. :class:`RecordStage` wraps it in a DoFn with three tagged
outputs. Stages that need batches or pools (lint, rewriting, dedup) build their
own DoFns but return the same :class:`StageResult`, emitting through
:func:`emit_verdict` so the bookkeeping stays in one place.

Counters, under namespace ``beam_swallow``: ``<stage>.kept``,
``<stage>.dead_letter`` and ``<stage>.<reason>`` for each rejection reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from beam_swallow.records import Record, Reject, dead_letter, rejected

__all__ = [
    "DEAD_LETTER",
    "KEPT",
    "REJECTED",
    "RecordStage",
    "StageResult",
    "emit_dead_letter",
    "emit_verdict",
]

KEPT = "kept"
REJECTED = "rejected"
DEAD_LETTER = "dead_letter"

METRICS_NAMESPACE = "beam_swallow"

Judge = Callable[[Record], "Record | Reject"]


class StageResult(NamedTuple):
    """A stage's outputs: what goes on, what was judged out, what broke."""

    kept: beam.PCollection
    rejected: beam.PCollection
    dead_letter: beam.PCollection

    @classmethod
    def from_tagged(cls, tagged: pvalue.DoOutputsTuple) -> StageResult:
        return cls(tagged[KEPT], tagged[REJECTED], tagged[DEAD_LETTER])


def emit_verdict(stage: str, record: Record, verdict: Record | Reject) -> pvalue.TaggedOutput:
    """Route one verdict to its exit and count it."""
    if isinstance(verdict, Reject):
        Metrics.counter(METRICS_NAMESPACE, f"{stage}.{verdict.reason}").inc()
        return pvalue.TaggedOutput(
            REJECTED, rejected(record, stage, verdict.reason, **verdict.fields)
        )
    Metrics.counter(METRICS_NAMESPACE, f"{stage}.{KEPT}").inc()
    return pvalue.TaggedOutput(KEPT, verdict)


def emit_dead_letter(
    stage: str, payload: object, error: BaseException | str
) -> pvalue.TaggedOutput:
    """Route a broken record (or raw input) to the dead-letter exit and count it."""
    Metrics.counter(METRICS_NAMESPACE, f"{stage}.{DEAD_LETTER}").inc()
    return pvalue.TaggedOutput(DEAD_LETTER, dead_letter(payload, stage, error))


class _JudgeDoFn(beam.DoFn):
    def __init__(self, stage: str, judge: Judge):
        self._stage = stage
        self._judge = judge

    def process(self, record: Record) -> Iterator[pvalue.TaggedOutput]:
        try:
            verdict = self._judge(record)
        except Exception as exc:  # a broken record is a dead letter, never a crash
            yield emit_dead_letter(self._stage, record, exc)
            return
        yield emit_verdict(self._stage, record, verdict)


class RecordStage(beam.PTransform):
    """Apply a per-record judge; returns a :class:`StageResult`."""

    def __init__(self, stage: str, judge: Judge):
        super().__init__(label=stage)
        if not callable(judge):
            raise TypeError(f"judge for stage {stage!r} must be callable")
        self._stage = stage
        self._judge = judge

    def expand(self, records: beam.PCollection) -> StageResult:
        tagged = records | beam.ParDo(_JudgeDoFn(self._stage, self._judge)).with_outputs(
            KEPT, REJECTED, DEAD_LETTER
        )
        return StageResult.from_tagged(tagged)
