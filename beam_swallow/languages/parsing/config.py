"""What a syntax check is asked (:class:`ParseConfig`) and what it answers (:class:`ParseVerdict`).

The three modes (``--syntax_check``) for every language but Python:

- ``tree_sitter``: the language's tree-sitter grammar, in process.
- ``exact``: the language's own parser where a cheap one needs no project
  context (``gofmt -e``, ``rustfmt``, ``bash -n``, PHP's and Ruby's own parsers,
  esbuild and the TypeScript compiler, javac's parser); tree-sitter for a
  language without one (C, C++, CUDA, C#, Kotlin, Swift).
- ``both``: both; a file is rejected when either rejects it.

Python is judged by ``compile()`` in every mode (the paper's rule). Why
``tree_sitter`` is the default: docs, Languages (the agreement and speed measured
per language).
"""

from __future__ import annotations

from dataclasses import dataclass

from beam_swallow.records import Reason

__all__ = ["DEFAULT_SYNTAX_CHECK", "SYNTAX_CHECKS", "ParseConfig", "ParseVerdict"]

SYNTAX_CHECKS = ("tree_sitter", "exact", "both")
DEFAULT_SYNTAX_CHECK = "exact"


@dataclass(frozen=True)
class ParseConfig:
    """How files are checked.

    ``mode``: one of :data:`SYNTAX_CHECKS`. ``timeout_s``: seconds one parser
    call may take (one tree-sitter parse of one file, or one exact tool's call
    over a batch); a tree-sitter parse that runs out is rejected ``too_large``,
    an exact tool that runs out fails its whole call. ``max_chars``: a file
    longer than this (characters) is rejected ``too_large`` unparsed (not
    Python's: ``compile()`` judges any length, as the paper does). ``batch_files``:
    files per exact-tool call (one process or one worker request).
    """

    mode: str = DEFAULT_SYNTAX_CHECK
    timeout_s: float = 30.0
    max_chars: int = 1_000_000
    batch_files: int = 100

    def __post_init__(self) -> None:
        if self.mode not in SYNTAX_CHECKS:
            raise ValueError(f"syntax check must be one of {', '.join(SYNTAX_CHECKS)}")
        if self.timeout_s <= 0:
            raise ValueError(f"syntax timeout must be positive, got {self.timeout_s}")
        if self.max_chars < 1:
            raise ValueError(f"syntax max_chars must be positive, got {self.max_chars}")
        if self.batch_files < 1:
            raise ValueError(f"syntax batch_files must be positive, got {self.batch_files}")


@dataclass(frozen=True)
class ParseVerdict:
    """One file's verdict.

    ``ok``: the file parses. Otherwise ``reason`` is the rejection reason
    (``syntax_error``; Python's ``compile()`` also gives ``null_bytes``,
    ``too_deep``, ``uncompilable``; ``too_large`` over the size cap or the
    timeout), ``line`` and ``column`` locate the first error (1-based, as the
    checker counts them; None where it gives none) and ``message`` is its words.
    ``checker`` names the tool and version that judged (``"gofmt go1.26.8"``).
    """

    ok: bool
    checker: str
    line: int | None = None
    column: int | None = None
    message: str = ""
    reason: str | None = None

    @classmethod
    def rejected(
        cls,
        checker: str,
        message: str,
        line: int | None = None,
        column: int | None = None,
        reason: str = Reason.SYNTAX_ERROR,
    ) -> ParseVerdict:
        """A rejection (``syntax_error`` unless another reason is given)."""
        return cls(False, checker, line, column, message, reason)

    @property
    def error(self) -> str:
        """The rejection as one line: ``"line 3, column 7: expected ')'"``."""
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message
