"""A rewriting stage with the quality of each rewrite measured before and after.

``Measured(stage, kind, lint)`` wraps any rewriting stage (sgcr, scor,
math_rewrite, rewrite, math_extract, math_styles; cached or not) and returns
what it returns. The text each record brings is set aside under a private
field on the way in; on the way out, every rewritten record of the kept exit
gets ``quality[<stage>] = {"before": {...}, "after": {...}}``, the measures of
:mod:`~beam_swallow.transforms.quality` of the text it was given and of the text
it kept, and the private field is dropped from every exit. Records a stage let
through without rewriting them (the v2 ``rewrite``'s other bands,
``rewritten: false``) are not measured.

Code is measured in the record's ``language``: both texts are parsed by its
parser (``parses``), and Python's are scored by pylint in a
:class:`~beam_swallow.linting.pool.LintPool` (``lint``: the lint stage's
settings, timeout included), started when the first Python record comes: both
texts of a record are scored at once, each alone, as the CLI would score it. A
file pylint cannot score (a rewrite that does not parse, a timeout) gets None
scores; pylint crashing on it makes the record a dead letter of the stage
(``lint_error``), as in the lint stage. Other languages get no pylint measures.

The wrapper takes the languages its stage takes (``languages``), and its
``tools_preflight`` checks the parsers of the run's languages besides the
stage's own tools.

Counters: the stage's own, plus ``<stage>.measured``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from beam_swallow.languages import PYTHON
from beam_swallow.languages.routing import record_language
from beam_swallow.linting.config import LintConfig
from beam_swallow.linting.pool import LintPool
from beam_swallow.linting.score import LintResult, Status
from beam_swallow.records import TEXT, Record
from beam_swallow.stage import DEAD_LETTER, KEPT, METRICS_NAMESPACE, StageResult, guarded
from beam_swallow.transforms.lint import LintError
from beam_swallow.transforms.quality import code_measures, math_measures
from beam_swallow.transforms.recheck import recheck_preflight

__all__ = ["KINDS", "QUALITY", "Measured"]

QUALITY = "quality"
KINDS = ("code", "math")
_INPUT = "_quality_input"


def _stash(record: Record) -> Record:
    return {**record, _INPUT: record.get(TEXT)}


def _unstash(record: Record) -> Record:
    out = dict(record)
    out.pop(_INPUT, None)
    return out


class _MeasureDoFn(beam.DoFn):
    def __init__(self, stage: str, kind: str, lint: LintConfig):
        self._stage = stage
        self._kind = kind
        self._lint = lint
        self._pool: LintPool | None = None
        self._measured = Metrics.counter(METRICS_NAMESPACE, f"{stage}.measured")

    def _scores(self, before: str, after: str) -> tuple[LintResult, LintResult]:
        if self._pool is None:
            self._pool = self._lint.take_pool()
        tickets = (self._pool.submit(before), self._pool.submit(after))
        results: dict[int, LintResult] = {}
        while len(results) < 2:
            results.update(self._pool.collect(2 - len(results)))
        found = tuple(results[t] for t in tickets)
        for result in found:
            if result.status == Status.ERROR:
                raise LintError(result.error)
        return found

    def _measure(self, record: Record) -> Record:
        before, after = record[_INPUT], record[TEXT]
        if self._kind == "code":
            language = record_language(record).name
            lint_before = lint_after = None
            if language == PYTHON.name:
                lint_before, lint_after = self._scores(before, after)
            measures: dict[str, Any] = {
                "before": code_measures(before, language, lint_before),
                "after": code_measures(after, language, lint_after),
            }
            if "llm_score" in record:
                measures["before"]["llm_score"] = record["llm_score"]
        else:
            measures = {"before": math_measures(before), "after": math_measures(after)}
        out = _unstash(record)
        out[QUALITY] = {**record.get(QUALITY, {}), self._stage: measures}
        self._measured.inc()
        return out

    def process(self, record: Record) -> Iterator[pvalue.TaggedOutput]:
        if record.get("rewritten") is False or not isinstance(record.get(_INPUT), str):
            yield pvalue.TaggedOutput(KEPT, _unstash(record))
            return
        measured = guarded(self._stage, _unstash(record), self._measure, record)
        if isinstance(measured, pvalue.TaggedOutput):
            yield measured
        else:
            yield pvalue.TaggedOutput(KEPT, measured)

    def teardown(self) -> None:
        if self._pool is not None:
            self._lint.release_pool(self._pool)
            self._pool = None


class Measured(beam.PTransform):
    """``stage`` with the quality of its rewrites measured; returns what ``stage`` returns."""

    def __init__(self, stage: beam.PTransform, kind: str, lint: LintConfig | None = None):
        if kind not in KINDS:
            raise ValueError(f"quality measures are for {' or '.join(KINDS)} texts, not {kind!r}")
        self.stage = stage.stage
        super().__init__(label=self.stage)
        self._inner = stage
        self._kind = kind
        self._lint = lint or LintConfig()

    @property
    def engine(self) -> Any:
        """The engine the wrapped stage asks (its ``engine``), for the run's preflight."""
        return getattr(self._inner, "engine", None)

    @property
    def languages(self) -> frozenset[str] | None:
        """The languages the wrapped stage takes (None: every one)."""
        return getattr(self._inner, "languages", None)

    def tools_preflight(self, languages: Collection[str]) -> None:
        """ToolMissing when a parser the measures of ``languages`` need, or a tool of the
        wrapped stage, is missing."""
        if self._kind == "code":
            recheck_preflight(languages)
        inner = getattr(self._inner, "tools_preflight", None)
        if inner is not None:
            inner(languages)

    def expand(self, records: beam.PCollection) -> StageResult:
        result = records | "SetAside" >> beam.Map(_stash) | "Stage" >> self._inner
        measured = result.kept | "Measure" >> beam.ParDo(
            _MeasureDoFn(self.stage, self._kind, self._lint)
        ).with_outputs(KEPT, DEAD_LETTER)
        rejected = result.rejected | "DropInputRejected" >> beam.Map(_unstash)
        dead = (
            result.dead_letter | "DropInputDead" >> beam.Map(_unstash),
            measured[DEAD_LETTER],
        ) | "DeadLetters" >> beam.Flatten()
        return result._replace(kept=measured[KEPT], rejected=rejected, dead_letter=dead)
