"""Stage ``lint``: keep files whose penalized pylint score is high enough (SwallowCode stage 2).

Each file is scored by pylint with the paper's flags exactly as the ``pylint``
CLI would score it alone, then penalized by its share of comment tokens (see
:mod:`beam_swallow.linting.score`). Records are fed one by one to a
:class:`~beam_swallow.linting.pool.LintPool` of warm worker processes, built
and launched in ``DoFn.setup`` (the workers import pylint while the rest of
the pipeline starts) and closed in ``teardown`` (kept for the next bundle with
``LintConfig.keep_pool``, as streaming runs set it). A record is emitted as soon
as its file is scored, so a worker that finishes takes the next file at once,
never waiting for a slower file beside it; at most ``_IN_FLIGHT_PER_WORKER``
records per worker are held, which bounds memory. The pool is as large as the
CPU count of the machine the DoFn runs on, which the launcher that builds the
graph (a laptop submitting to a cluster) does not know.

Exits:

- kept: ``quality_score >= min_quality``; the record gains ``pylint_score``
  (pylint's note as the CLI prints it), ``comment_ratio`` and
  ``quality_score`` (the penalized note).
- rejected ``low_quality``: scored below ``min_quality`` (same three fields).
- rejected ``no_statements``: pylint counts no statement, so there is no score.
- rejected ``unparsable``: pylint could not read or parse the file (an
  unknown codec in its coding line, bytes its codec cannot decode); ``error``
  carries pylint's message.
- rejected ``lint_timeout``: no score within ``timeout_s``, nor in the second
  try alone within the slow lane's bound (``LintConfig.slow_bound``; the main
  workers go on meanwhile); the workers were killed, ``error`` says so.
- dead letter: pylint or astroid crashed on the file, or the worker died on it
  twice (``error_type`` ``lint_error``), or the text is not a string.

Counters: ``lint.kept``, ``lint.low_quality``, ``lint.no_statements``,
``lint.unparsable``, ``lint.lint_timeout``, ``lint.dead_letter``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.utils.windowed_value import WindowedValue

from beam_swallow.languages import PYTHON
from beam_swallow.linting.config import LintConfig
from beam_swallow.linting.pool import LintPool
from beam_swallow.linting.score import LintResult, Status
from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_judged,
)

__all__ = ["STAGE", "Lint", "LintConfig", "LintError", "lint_verdict"]

STAGE = "lint"
_IN_FLIGHT_PER_WORKER = 4  # queued ahead, so a worker that finishes has its next file


class LintError(RuntimeError):
    """pylint could not score a file: it crashed, or its worker died on it."""


# What a record without a string text is given instead of a score: a LintError.
_NO_TEXT = LintResult(Status.ERROR, error="record has no string text")


def lint_verdict(record: Record, result: LintResult, min_quality: float) -> Record | Reject:
    """Turn one file's lint result into a verdict; raise LintError for a crash."""
    if result.status == Status.ERROR:
        raise LintError(result.error)
    if result.status == Status.TIMEOUT:
        return Reject(Reason.LINT_TIMEOUT, {"error": result.error})
    if result.status == Status.NO_STATEMENTS:
        return Reject(Reason.NO_STATEMENTS)
    if result.status == Status.UNPARSABLE:
        return Reject(Reason.UNPARSABLE, {"error": result.error})
    fields = {
        "pylint_score": result.pylint_score,
        "comment_ratio": result.comment_ratio,
        "quality_score": result.score,
    }
    if result.score is None or result.score < min_quality:
        return Reject(Reason.LOW_QUALITY, fields)
    return {**record, **fields}


class _LintDoFn(beam.DoFn):
    """Streams a bundle's records through the pool, holding ``_IN_FLIGHT_PER_WORKER`` per worker."""

    def __init__(self, cfg: LintConfig):
        self._cfg = cfg
        self._pool: LintPool | None = None
        self._window = 0
        self._held: dict[int, WindowedValue] = {}

    def setup(self) -> None:
        self._pool = self._cfg.take_pool()  # sized on this worker, not on the launcher
        self._window = _IN_FLIGHT_PER_WORKER * self._pool.size

    def start_bundle(self) -> None:
        self._held = {}

    def process(
        self,
        record: Record,
        timestamp=beam.DoFn.TimestampParam,
        window=beam.DoFn.WindowParam,
    ) -> Iterator[pvalue.TaggedOutput]:
        item = WindowedValue(record, timestamp, [window])
        text = record.get(TEXT)
        if not isinstance(text, str):
            yield self._judged(item, _NO_TEXT)
            return
        self._held[self._pool.submit(text)] = item
        yield from self._emit(max(0, len(self._held) - self._window + 1))

    def finish_bundle(self) -> Iterator[pvalue.TaggedOutput]:
        yield from self._emit(len(self._held))

    def _emit(self, wait_for: int) -> Iterator[pvalue.TaggedOutput]:
        """The verdicts of every record whose file is scored, waiting for ``wait_for`` of them."""
        for ticket, result in self._pool.collect(wait_for).items():
            yield self._judged(self._held.pop(ticket), result)

    def _judged(self, item: WindowedValue, result: LintResult) -> pvalue.TaggedOutput:
        output = emit_judged(STAGE, item.value, lint_verdict, result, self._cfg.min_quality)
        return pvalue.TaggedOutput(output.tag, item.with_value(output.value))

    def teardown(self) -> None:
        if self._pool is not None:
            self._cfg.release_pool(self._pool)
            self._pool = None


class Lint(beam.PTransform):
    """The lint stage as a PTransform returning a StageResult; pylint scores Python only,
    so a run with it takes Python (``languages``)."""

    stage = STAGE
    languages: ClassVar[frozenset[str] | None] = frozenset({PYTHON.name})

    def __init__(self, cfg: LintConfig | None = None):
        super().__init__(label=STAGE)
        self._cfg = cfg or LintConfig()

    def expand(self, records: beam.PCollection) -> StageResult:
        tagged = records | "Score" >> beam.ParDo(_LintDoFn(self._cfg)).with_outputs(
            KEPT, REJECTED, DEAD_LETTER
        )
        return StageResult.from_tagged(tagged)
