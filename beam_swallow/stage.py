"""The three exits every stage has, the one dead-letter guard, and per-record stages.

The bottom floor of the package: the reader, the stages, the engines' stage and
the report all route records through these helpers, and this module imports
nothing of the package but :mod:`beam_swallow.records`.

A stage is a plain function ``judge(record) -> record | Reject``: testable
without Beam. :class:`RecordStage` wraps it in a DoFn with three tagged
outputs. Stages that need batches or pools (lint, rewriting, dedup) build their
own DoFns but return the same :class:`StageResult`, emitting through
:func:`emit_verdict`, :func:`emit_judged` and :func:`guarded` so the
bookkeeping, and the one ``except`` that turns a broken record into a dead
letter, stay in one place.

Counters, under namespace ``beam_swallow``: ``<stage>.kept``,
``<stage>.dead_letter`` and ``<stage>.<reason>`` for each rejection reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, NamedTuple, TypeVar

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
    "emit_judged",
    "emit_verdict",
    "guarded",
    "merge_exits",
]

KEPT = "kept"
REJECTED = "rejected"
DEAD_LETTER = "dead_letter"

METRICS_NAMESPACE = "beam_swallow"

Judge = Callable[..., "Record | Reject"]
T = TypeVar("T")


class StageResult(NamedTuple):
    """A stage's outputs: what goes on, what was judged out, what broke."""

    kept: beam.PCollection
    rejected: beam.PCollection
    dead_letter: beam.PCollection

    @classmethod
    def from_tagged(cls, tagged: pvalue.DoOutputsTuple) -> StageResult:
        return cls(tagged[KEPT], tagged[REJECTED], tagged[DEAD_LETTER])


@functools.lru_cache(maxsize=4096)
def _counter(stage: str, event: str) -> Metrics.DelegatingCounter:
    """The counter ``<stage>.<event>``, made once per process.

    A counter finds the running bundle's metrics when it is incremented, so one
    object serves every bundle. Making a new one for each record cost ~7 us a
    record under the profiler (24,000 records, 0.18 s).
    """
    return Metrics.counter(METRICS_NAMESPACE, f"{stage}.{event}")


def emit_verdict(stage: str, record: Record, verdict: Record | Reject) -> pvalue.TaggedOutput:
    """Route one verdict to its exit and count it."""
    if isinstance(verdict, Reject):
        _counter(stage, verdict.reason).inc()
        return pvalue.TaggedOutput(
            REJECTED, rejected(record, stage, verdict.reason, **verdict.fields)
        )
    _counter(stage, KEPT).inc()
    return pvalue.TaggedOutput(KEPT, verdict)


def emit_dead_letter(
    stage: str, payload: object, error: BaseException | str, kind: str | None = None
) -> pvalue.TaggedOutput:
    """Route a broken record (or raw input) to the dead-letter exit and count it.

    ``kind`` is the ``error_type`` (see :func:`~beam_swallow.records.error_kind`).
    """
    _counter(stage, DEAD_LETTER).inc()
    return pvalue.TaggedOutput(DEAD_LETTER, dead_letter(payload, stage, error, kind))


def guarded(stage: str, record: Any, work: Callable[..., T], *args: Any) -> T | pvalue.TaggedOutput:
    """``work(*args)``, or the dead letter of ``record`` when it raises.

    The one place where an exception about one record becomes that record's dead
    letter instead of failing its bundle (Beam would retry the bundle, then fail
    the job). Callers yield the result when it is a ``TaggedOutput``.
    """
    try:
        return work(*args)
    except Exception as exc:  # a broken record is a dead letter, never a crash
        return emit_dead_letter(stage, record, exc)


def emit_judged(stage: str, record: Record, judge: Judge, *args: Any) -> pvalue.TaggedOutput:
    """Route ``judge(record, *args)`` to its exit, or ``record`` to the dead letters."""
    verdict = guarded(stage, record, judge, record, *args)
    if isinstance(verdict, pvalue.TaggedOutput):
        return verdict
    return emit_verdict(stage, record, verdict)


class _JudgeDoFn(beam.DoFn):
    def __init__(self, stage: str, judge: Judge):
        self._stage = stage
        self._judge = judge

    def process(self, record: Record) -> Iterator[pvalue.TaggedOutput]:
        yield emit_judged(self._stage, record, self._judge)


class RecordStage(beam.PTransform):
    """A stage that judges one record at a time; returns a :class:`StageResult`.

    Subclasses name their ``stage`` and hand their judge to ``__init__``.
    """

    stage: ClassVar[str]

    def __init__(self, judge: Judge):
        super().__init__(label=self.stage)
        if not callable(judge):
            raise TypeError(f"judge for stage {self.stage!r} must be callable")
        self._judge = judge

    def expand(self, records: beam.PCollection) -> StageResult:
        tagged = records | beam.ParDo(_JudgeDoFn(self.stage, self._judge)).with_outputs(
            KEPT, REJECTED, DEAD_LETTER
        )
        return StageResult.from_tagged(tagged)


def merge_exits(results: dict[str, StageResult]) -> StageResult:
    """One StageResult for a run of chained stages: the last one's kept records,
    every stage's rejected records and every stage's dead letters."""
    last = list(results.values())[-1]
    rejected = [r.rejected for r in results.values()] | "AllRejected" >> beam.Flatten()
    dead = [r.dead_letter for r in results.values()] | "AllDead" >> beam.Flatten()
    return StageResult(last.kept, rejected, dead)
