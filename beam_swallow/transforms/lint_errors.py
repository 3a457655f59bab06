"""Stage ``lint_errors`` (SwallowCode-v2): drop Python files in which ``ruff check`` finds errors.

The last stage of the authors' second code recipe. Each Python file is checked
with ``ruff check --select RULES`` (``--lint_error_rules``, default
``E9,F63,F7,F82``: syntax errors, comparisons that are always wrong,
statements in the wrong place, undefined names: errors, not style), in batches
(:class:`~beam_swallow.transforms.tool_stage.ToolStage`).

ruff reads Python only. A file of another language passes the stage unchanged
(kept, ``lint_errors_checked: false``): a departure from the recipe, which was
written for Python; such a file was parsed by its language's exact parser after
the rewrite (the ``rewrite`` stage's check) and formatted again (``reformat``),
which is what this stage's rules stand for in Python (docs, Recipes).

- kept: no finding (the record unchanged), or not Python (``lint_errors_checked:
  false``).
- rejected ``lint_errors``: ``lint_errors`` lists the findings, at most 20, as
  ``"F821 3:5 Undefined name `x`"``.
- dead letter: ruff failed the whole batch (``tool_error``), or the record has
  no string text.

Counters: ``lint_errors.kept``, ``lint_errors.lint_errors``, ``lint_errors.dead_letter``.
"""

from __future__ import annotations

from collections.abc import Sequence

import apache_beam as beam

from beam_swallow.languages import PYTHON
from beam_swallow.languages.formatting.ruff import RuffConfig, check_sources
from beam_swallow.records import LANGUAGE, Reason, Record, Reject
from beam_swallow.stage import StageResult
from beam_swallow.transforms.tool_stage import ToolStage

__all__ = ["CHECKED", "STAGE", "LintErrors", "lint_error_verdict"]

STAGE = "lint_errors"
CHECKED = "lint_errors_checked"  # False on a record of a language ruff does not read
_MAX_FINDINGS = 20


def lint_error_verdict(record: Record, findings: list[str], stage: str) -> Record | Reject:
    """Kept without findings; else ``lint_errors`` with the first findings."""
    if findings:
        return Reject(Reason.LINT_ERRORS, {"lint_errors": findings[:_MAX_FINDINGS]})
    return record


def _not_python(record: Record, _partitions: int) -> int:
    # a label the catalog lacks is not Python either: it passes, as the read stage would
    # have rejected it (record_language would raise here, outside any dead-letter guard)
    return int(record.get(LANGUAGE, PYTHON.name) != PYTHON.name)


def check_batch(language: str, sources: Sequence[str], cfg: RuffConfig) -> list[list[str]]:
    """``ruff check`` of a batch of one language's sources (Python's: the others pass by)."""
    return check_sources(sources, cfg)


class LintErrors(ToolStage):
    """The lint_errors stage: ``LintErrors(RuffConfig)`` returns a StageResult; records of
    other languages than Python leave by its kept exit unchecked."""

    stage = STAGE
    run = staticmethod(check_batch)
    verdict = staticmethod(lint_error_verdict)

    @classmethod
    def default_config(cls) -> RuffConfig:
        return RuffConfig()

    def expand(self, records: beam.PCollection) -> StageResult:
        python, others = records | "ByLanguage" >> beam.Partition(_not_python, 2)
        result = super().expand(python)
        passed = others | "Unchecked" >> beam.Map(lambda record: {**record, CHECKED: False})
        return result._replace(kept=(result.kept, passed) | "Kept" >> beam.Flatten())
