"""What every language's formatter offers the format stages: the program, a label, a run.

A :class:`Formatter` finds its program (:meth:`~Formatter.command`, raising
:class:`~beam_swallow.languages.tools.ToolMissing` with how to install it),
names itself and its version for the records it changes
(:meth:`~Formatter.label`: ``"gofmt go1.26.8"``, cached per process by
:func:`~beam_swallow.languages.tools.tool_version`), and formats a batch of
sources (:meth:`~Formatter.format`). :class:`Unformatted` is the formatter of
a language that has none: every source passes unchanged, labelled ``none``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from beam_swallow.languages.formatting.batch import FormatConfig, FormatOutcome

__all__ = ["NO_FORMATTER", "Formatter", "Unformatted"]

NO_FORMATTER = "none"


class Formatter(ABC):
    """One language's formatter (see the module docstring)."""

    @abstractmethod
    def command(self) -> list[str]:
        """The program and its fixed leading arguments; ToolMissing when it is not installed."""

    @abstractmethod
    def label(self) -> str:
        """The tool and its version as records carry it (``formatter``); ToolError when the
        version cannot be read."""

    @abstractmethod
    def format(self, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
        """Each source formatted or refused, in order; ToolError when the tool fails the batch."""


class Unformatted(Formatter):
    """A language without a formatter: sources pass unchanged."""

    def command(self) -> list[str]:
        return []

    def label(self) -> str:
        return NO_FORMATTER

    def format(self, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
        return [FormatOutcome(source) for source in sources]
