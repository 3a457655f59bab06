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
- rejected ``lint_timeout``: no score within ``timeout_s``; the worker was
  killed, ``error`` says so.
- dead letter: pylint or astroid crashed on the file, or the worker died on it
  twice (``error_type`` ``LintError``), or the text is not a string.

Counters: ``lint.kept``, ``lint.low_quality``, ``lint.no_statements``,
``lint.lint_timeout``, ``lint.dead_letter``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.utils.windowed_value import WindowedValue

from beam_swallow.linting.pool import LintPool, default_workers
from beam_swallow.linting.score import LintResult, Status
from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.transforms.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_dead_letter,
    emit_verdict,
)

__all__ = ["STAGE", "Lint", "LintConfig", "LintError", "lint_verdict"]

STAGE = "lint"
_FILES_PER_WORKER_PER_BATCH = 16


class LintError(RuntimeError):
    """pylint could not score a file: it crashed, or its worker died on it."""


@dataclass(frozen=True)
class LintConfig:
    """The lint stage's settings; ``workers=None`` means one per CPU of the worker machine."""

    min_quality: float = 7.0
    timeout_s: float = 120.0
    workers: int | None = None
    recycle_after: int = 500

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise ValueError(f"lint timeout must be positive, got {self.timeout_s}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"lint workers must be >= 1, got {self.workers}")
        if self.recycle_after < 1:
            raise ValueError(f"lint recycle_after must be >= 1, got {self.recycle_after}")


def lint_verdict(record: Record, result: LintResult, min_quality: float) -> Record | Reject:
    """Turn one file's lint result into a verdict; raise LintError for a crash."""
    if result.status == Status.ERROR:
        raise LintError(result.error)
    if result.status == Status.TIMEOUT:
        return Reject(Reason.LINT_TIMEOUT, {"error": result.error})
    if result.status == Status.NO_STATEMENTS:
        return Reject(Reason.NO_STATEMENTS)
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
        workers = self._cfg.workers or default_workers()
        self._pool = LintPool(workers, self._cfg.timeout_s, self._cfg.recycle_after)
        self._batch_size = _FILES_PER_WORKER_PER_BATCH * workers

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
            output = self._judge(item.value, results.get(index))
            yield pvalue.TaggedOutput(output.tag, item.with_value(output.value))

    def _judge(self, record: Record, result: LintResult | None) -> pvalue.TaggedOutput:
        if result is None:
            return emit_dead_letter(STAGE, record, LintError("record has no string text"))
        try:
            verdict = lint_verdict(record, result, self._cfg.min_quality)
        except LintError as exc:
            return emit_dead_letter(STAGE, record, exc)
        return emit_verdict(STAGE, record, verdict)

    def teardown(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


class Lint(beam.PTransform):
    """The lint stage as a PTransform returning a StageResult."""

    def __init__(self, cfg: LintConfig | None = None):
        super().__init__(label=STAGE)
        self._cfg = cfg or LintConfig()

    def expand(self, records: beam.PCollection) -> StageResult:
        tagged = records | "Score" >> beam.ParDo(_LintDoFn(self._cfg)).with_outputs(
            KEPT, REJECTED, DEAD_LETTER
        )
        return StageResult.from_tagged(tagged)
