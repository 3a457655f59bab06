"""Stage ``lint_errors`` (SwallowCode-v2): drop files in which ``ruff check`` finds errors.

The last stage of the authors' second code recipe. Each file is checked with
``ruff check --select RULES`` (``--lint_error_rules``, default
``E9,F63,F7,F82``: syntax errors, comparisons that are always wrong,
statements in the wrong place, undefined names: errors, not style), in batches
(:class:`~beam_swallow.transforms.tool_stage.ToolStage`).

- kept: no finding; the record unchanged.
- rejected ``lint_errors``: ``lint_errors`` lists the findings, at most 20, as
  ``"F821 3:5 Undefined name `x`"``.
- dead letter: ruff failed the whole batch (``tool_error``), or the record has
  no string text.

Counters: ``lint_errors.kept``, ``lint_errors.lint_errors``, ``lint_errors.dead_letter``.
"""

from __future__ import annotations

from collections.abc import Sequence

from beam_swallow.languages.formatting.ruff import RuffConfig, check_sources
from beam_swallow.records import Reason, Record, Reject
from beam_swallow.transforms.tool_stage import ToolStage

__all__ = ["STAGE", "LintErrors", "lint_error_verdict"]

STAGE = "lint_errors"
_MAX_FINDINGS = 20


def lint_error_verdict(record: Record, findings: list[str], stage: str) -> Record | Reject:
    """Kept without findings; else ``lint_errors`` with the first findings."""
    if findings:
        return Reject(Reason.LINT_ERRORS, {"lint_errors": findings[:_MAX_FINDINGS]})
    return record


def check_batch(language: str, sources: Sequence[str], cfg: RuffConfig) -> list[list[str]]:
    """``ruff check`` of a batch of one language's sources."""
    return check_sources(sources, cfg)


class LintErrors(ToolStage):
    """The lint_errors stage: ``LintErrors(RuffConfig)`` returns a StageResult."""

    stage = STAGE
    run = staticmethod(check_batch)
    verdict = staticmethod(lint_error_verdict)

    @classmethod
    def default_config(cls) -> RuffConfig:
        return RuffConfig()
