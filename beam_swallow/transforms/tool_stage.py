"""What the stages that judge records in batches per language share (``syntax``, ``format``,
``reformat``, ``lint_errors``).

A :class:`ToolStage` holds a bundle's records per language until
``cfg.batch_files`` of one language have come, hands their texts to one call of
the stage's ``run(language, texts, cfg)`` (one tool process, or one request to a
long-lived worker, over the batch: :mod:`beam_swallow.languages.parsing`,
:mod:`beam_swallow.languages.formatting`), and emits that batch's verdicts as
soon as the tool answers; the end of the bundle flushes what is left. Memory
holds at most one batch per language. A subclass names its ``stage``, its
``run`` and the ``verdict`` on each answer, and may say which languages are not held
(``holds``).

A record's language is :func:`~beam_swallow.languages.routing.record_language`
of it (its ``language`` field; Python when it has none). Dead letters: a
record without a string text (``type_error``) or with a language the catalog
does not know (``value_error``), and each record of a batch whose tool call
failed (:class:`~beam_swallow.languages.tools.ToolError`: ``tool_error``, or
``tool_missing``), the batch's other languages untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.utils.windowed_value import WindowedValue

from beam_swallow.languages.routing import record_language
from beam_swallow.records import TEXT, Record, Reject
from beam_swallow.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_dead_letter,
    emit_judged,
)

__all__ = ["ToolStage"]

Run = Callable[[str, Sequence[str], Any], list[Any]]
Verdict = Callable[[Record, Any, str], "Record | Reject"]
Holds = Callable[[str, Any], bool]


class _BatchDoFn(beam.DoFn):
    """Holds a bundle's records per language until ``batch_files`` of one have come."""

    def __init__(self, stage: str, cfg: Any, run: Run, verdict: Verdict, holds: Holds):
        self._stage = stage
        self._cfg = cfg
        self._run = run
        self._verdict = verdict
        self._holds = holds
        self._held: dict[str, list[WindowedValue]] = {}

    def start_bundle(self) -> None:
        self._held = {}

    def process(
        self, record: Record, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam
    ) -> Iterator[pvalue.TaggedOutput]:
        if not isinstance(record.get(TEXT), str):
            yield emit_dead_letter(self._stage, record, TypeError("record has no string text"))
            return
        try:
            language = record_language(record).name
        except ValueError as exc:
            yield emit_dead_letter(self._stage, record, exc)
            return
        held = self._held.setdefault(language, [])
        held.append(WindowedValue(record, timestamp, [window]))
        if len(held) >= self._cfg.batch_files or not self._holds(language, self._cfg):
            yield from self._flush(language)

    def finish_bundle(self) -> Iterator[pvalue.TaggedOutput]:
        for language in list(self._held):
            yield from self._flush(language)

    def _flush(self, language: str) -> Iterator[pvalue.TaggedOutput]:
        held = self._held.pop(language, [])
        if not held:
            return
        try:
            answers = self._run(language, [item.value[TEXT] for item in held], self._cfg)
        except Exception as exc:  # the tool failed the batch: each record is a dead letter
            for item in held:
                out = emit_dead_letter(self._stage, item.value, exc)
                yield pvalue.TaggedOutput(out.tag, item.with_value(out.value))
            return
        for item, answer in zip(held, answers, strict=True):
            out = emit_judged(self._stage, item.value, self._verdict, answer, self._stage)
            yield pvalue.TaggedOutput(out.tag, item.with_value(out.value))


class ToolStage(beam.PTransform):
    """A stage over an external tool, batched per language: ``Cls(cfg)`` returns a
    StageResult. ``cfg`` is the subclass's config (``default_config()`` when None) and
    must have ``batch_files``."""

    stage: ClassVar[str]
    run: ClassVar[Run]
    verdict: ClassVar[Verdict]

    def __init__(self, cfg: Any = None):
        super().__init__(label=self.stage)
        self._cfg = cfg if cfg is not None else self.default_config()

    @classmethod
    def default_config(cls) -> Any:
        """The config a stage built without one runs with."""
        raise NotImplementedError

    @staticmethod
    def holds(language: str, cfg: Any) -> bool:
        """Whether files of ``language`` wait for a batch; False sends each to ``run`` as it
        comes (a check in process gains nothing from a batch, and a record held waits for
        the bundle's end)."""
        return True

    def expand(self, records: beam.PCollection) -> StageResult:
        cls = type(self)
        tagged = records | "Batches" >> beam.ParDo(
            _BatchDoFn(self.stage, self._cfg, cls.run, cls.verdict, cls.holds)
        ).with_outputs(KEPT, REJECTED, DEAD_LETTER)
        return StageResult.from_tagged(tagged)
