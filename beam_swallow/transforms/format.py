"""Stage ``format`` (SwallowCode-v2): every file through its language's formatter before it
is scored.

The authors' second recipe formats each file first (ruff for Python), so the
score and the rewrite see one layout, and formats again after the rewrite
(stage ``reformat``). Each language has its formatter
(:mod:`beam_swallow.languages.formatting`: ruff, clang-format, gofmt, rustfmt,
Biome, google-java-format, shfmt; none for PHP, Ruby, C#, Kotlin, Swift),
called over batches of one language's records
(:class:`~beam_swallow.transforms.tool_stage.ToolStage`).

- kept: ``text`` is the formatter's output, byte for byte what its CLI writes
  for the file alone (a language without a formatter: unchanged);
  ``formatter`` names the tool and its version (``"gofmt go1.26.8"``,
  ``"none"``); ``format_changed`` says whether the text changed.
- rejected ``unformattable``: the formatter refused the file; ``error`` is its
  message (positions as ``line:column`` of the file), ``formatter`` the tool.
- dead letter: the tool failed the whole batch (``tool_error``; not installed:
  ``tool_missing``), the record has no string text, or a language the catalog
  does not know.

A record without ``language`` is Python.

Counters: ``format.kept``, ``format.unformattable``, ``format.dead_letter``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import ClassVar

from beam_swallow.languages.formatting import (
    FormatConfig,
    FormatOutcome,
    format_sources,
    formatter_label,
    preflight,
)
from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.transforms.tool_stage import ToolStage

__all__ = ["FORMATTER_FIELD", "STAGE", "Format", "format_verdict"]

STAGE = "format"
FORMATTER_FIELD = "formatter"

Answer = tuple[FormatOutcome, str]


def format_batch(language: str, sources: Sequence[str], cfg: FormatConfig) -> list[Answer]:
    """Each source's outcome with the label of the formatter that gave it."""
    label = formatter_label(language)
    return [(outcome, label) for outcome in format_sources(language, sources, cfg)]


def format_verdict(record: Record, answer: Answer, stage: str) -> Record | Reject:
    """The formatted text as the record's text, or ``unformattable`` with the tool's message."""
    outcome, label = answer
    if outcome.text is None:
        return Reject(Reason.UNFORMATTABLE, {"error": outcome.error, FORMATTER_FIELD: label})
    return {
        **record,
        TEXT: outcome.text,
        FORMATTER_FIELD: label,
        f"{stage}_changed": outcome.text != record[TEXT],
    }


class Format(ToolStage):
    """The format stage: ``Format(FormatConfig)`` returns a StageResult."""

    stage = STAGE
    languages: ClassVar[frozenset[str] | None] = None  # every language: some pass unchanged
    run = staticmethod(format_batch)
    verdict = staticmethod(format_verdict)

    @classmethod
    def default_config(cls) -> FormatConfig:
        return FormatConfig()

    def tools_preflight(self, languages: Collection[str]) -> None:
        """Raise ToolMissing, naming the tool, the language and how to install it, when a
        formatter ``languages`` need is not installed or does not start."""
        preflight(languages)
