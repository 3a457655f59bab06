"""What the stages that run ruff share (``format``, ``reformat``, ``lint_errors``).

A :class:`RuffStage` holds a bundle's records until ``--ruff_batch_files`` have
come, hands their texts to one ruff run (:mod:`beam_swallow.linting.ruff`: one
process per batch, ruff's own threads over the files) and emits each batch's
verdicts as soon as ruff answers, so memory holds one batch. A subclass names
its ``stage``, the ruff call (``run``) and the verdict on each answer. ruff
failing a whole batch (binary missing, crash, timeout) makes each of its
records a dead letter (``ruff_error``); a record without a string text is one
too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.utils.windowed_value import WindowedValue

from beam_swallow.linting.ruff import RuffConfig
from beam_swallow.records import TEXT, Record, Reject
from beam_swallow.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_dead_letter,
    emit_judged,
)

__all__ = ["RuffStage"]

RunRuff = Callable[[Sequence[str], RuffConfig], list[Any]]
Verdict = Callable[[Record, Any, str], "Record | Reject"]


class _RuffBatchDoFn(beam.DoFn):
    """Holds a bundle's records until ``batch_files`` have come, then asks ruff about all."""

    def __init__(self, stage: str, cfg: RuffConfig, run: RunRuff, verdict: Verdict):
        self._stage = stage
        self._cfg = cfg
        self._run = run
        self._verdict = verdict
        self._held: list[WindowedValue] = []

    def start_bundle(self) -> None:
        self._held = []

    def process(
        self, record: Record, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam
    ) -> Iterator[pvalue.TaggedOutput]:
        if not isinstance(record.get(TEXT), str):
            yield emit_dead_letter(self._stage, record, TypeError("record has no string text"))
            return
        self._held.append(WindowedValue(record, timestamp, [window]))
        if len(self._held) >= self._cfg.batch_files:
            yield from self._flush()

    def finish_bundle(self) -> Iterator[pvalue.TaggedOutput]:
        yield from self._flush()

    def _flush(self) -> Iterator[pvalue.TaggedOutput]:
        held, self._held = self._held, []
        if not held:
            return
        try:
            answers = self._run([item.value[TEXT] for item in held], self._cfg)
        except Exception as exc:  # ruff failed the batch: each record is a dead letter
            for item in held:
                out = emit_dead_letter(self._stage, item.value, exc)
                yield pvalue.TaggedOutput(out.tag, item.with_value(out.value))
            return
        for item, answer in zip(held, answers, strict=True):
            out = emit_judged(self._stage, item.value, self._verdict, answer, self._stage)
            yield pvalue.TaggedOutput(out.tag, item.with_value(out.value))


class RuffStage(beam.PTransform):
    """A stage over ruff: ``Cls(RuffConfig)`` returns a StageResult."""

    stage: ClassVar[str]
    run: ClassVar[RunRuff]
    verdict: ClassVar[Verdict]

    def __init__(self, cfg: RuffConfig | None = None):
        super().__init__(label=self.stage)
        self._cfg = cfg or RuffConfig()

    def expand(self, records: beam.PCollection) -> StageResult:
        cls = type(self)
        tagged = records | "Ruff" >> beam.ParDo(
            _RuffBatchDoFn(self.stage, self._cfg, cls.run, cls.verdict)
        ).with_outputs(KEPT, REJECTED, DEAD_LETTER)
        return StageResult.from_tagged(tagged)
