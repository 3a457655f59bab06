"""Stage ``lint``: keep files whose penalized pylint score is high enough (SwallowCode stage 2).

Each file is scored by pylint with the paper's flags exactly as the ``pylint``
CLI would score it alone, then penalized by its share of comment tokens (see
:mod:`beam_swallow.linting.score`). Records are batched and each batch is
fanned out over a :class:`~beam_swallow.linting.pool.LintPool` of warm worker
processes, built in ``DoFn.setup`` and closed in ``teardown``. Batches are
gathered inside the DoFn, sized from the pool it built: the pool is as large
as the CPU count of the machine the DoFn runs on, which the launcher that
builds the graph (a laptop submitting to a cluster) does not know.

Exits:

- kept: ``quality_score >= min_quality``; the record gains ``pylint_score``
  (pylint's note as the CLI prints it), ``comment_ratio`` and
  ``quality_score`` (the penalized note).
- rejected ``low_quality``: scored below ``min_quality`` (same three fields).
- rejected ``no_statements``: pylint counts no statement, so there is no score.
- rejected ``unparsable``: pylint could not read or parse the file (an
  unknown codec in its coding line, bytes its codec cannot decode); ``error``
  carries pylint's message.
- rejected ``lint_timeout``: no score within ``timeout_s``; the worker was
  killed, ``error`` says so.
- dead letter: pylint or astroid crashed on the file, or the worker died on it
  twice (``error_type`` ``lint_error``), or the text is not a string.

Counters: ``lint.kept``, ``lint.low_quality``, ``lint.no_statements``,
``lint.unparsable``, ``lint.lint_timeout``, ``lint.dead_letter``.
"""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.utils.windowed_value import WindowedValue

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
_FILES_PER_WORKER_PER_BATCH = 16


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
    """Buffers a bundle's records into batches of ``_FILES_PER_WORKER_PER_BATCH`` per pool worker."""

    def __init__(self, cfg: LintConfig):
        self._cfg = cfg
        self._pool: LintPool | None = None
        self._batch_size = 0
        self._buffer: list[WindowedValue] = []

    def setup(self) -> None:
        self._pool = self._cfg.pool()  # sized on this worker, not on the launcher
        self._batch_size = _FILES_PER_WORKER_PER_BATCH * self._pool.size

    def start_bundle(self) -> None:
        self._buffer = []

    def process(
        self,
        record: Record,
        timestamp=beam.DoFn.TimestampParam,
        window=beam.DoFn.WindowParam,
    ) -> Iterator[pvalue.TaggedOutput]:
        self._buffer.append(WindowedValue(record, timestamp, [window]))
        if len(self._buffer) >= self._batch_size:
            yield from self._flush()

    def finish_bundle(self) -> Iterator[pvalue.TaggedOutput]:
        yield from self._flush()

    def _flush(self) -> Iterator[pvalue.TaggedOutput]:
        batch, self._buffer = self._buffer, []
        texts = [item.value.get(TEXT) for item in batch]
        valid = [i for i, text in enumerate(texts) if isinstance(text, str)]
        results = dict(zip(valid, self._pool.map([texts[i] for i in valid]), strict=True))
        for index, item in enumerate(batch):
            result = results.get(index, _NO_TEXT)
            output = emit_judged(STAGE, item.value, lint_verdict, result, self._cfg.min_quality)
            yield pvalue.TaggedOutput(output.tag, item.with_value(output.value))

    def teardown(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


class Lint(beam.PTransform):
    """The lint stage as a PTransform returning a StageResult."""

    stage = STAGE

    def __init__(self, cfg: LintConfig | None = None):
        super().__init__(label=STAGE)
        self._cfg = cfg or LintConfig()

    def expand(self, records: beam.PCollection) -> StageResult:
        tagged = records | "Score" >> beam.ParDo(_LintDoFn(self._cfg)).with_outputs(
            KEPT, REJECTED, DEAD_LETTER
        )
        return StageResult.from_tagged(tagged)
