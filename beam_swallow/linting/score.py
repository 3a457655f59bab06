"""The pylint score as SwallowCode defines it: flags, pylint's note, comment penalty.

Pure functions, no pylint import: the worker processes compute the raw note
from pylint's message counts, and everything after that (the comment-token
penalty, the threshold) is plain arithmetic that tests can check by hand.

- :data:`PYLINT_FLAGS` are the paper's flags, and nothing else (no rc file).
- :func:`pylint_note` is pylint's default evaluation, written out so the
  result is bit-for-bit what the ``pylint`` CLI computes; ``None`` when the
  file has no statements (pylint prints no rating then).
- :func:`comment_ratio` is COMMENT tokens over all tokens of
  ``tokenize.generate_tokens``; a source that does not tokenize counts as 0.
- :func:`penalized` scales a note by ``1 - ratio`` (0 when the file is all
  comments).
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

__all__ = [
    "DISABLED_MESSAGES",
    "PYLINT_FLAGS",
    "LintResult",
    "Status",
    "comment_ratio",
    "penalized",
    "printed_score",
    "pylint_note",
]

DISABLED_MESSAGES = (
    "E0401",
    "C0114",
    "C0301",
    "C0103",
    "C0116",
    "C0411",
    "R0903",
    "W0511",
    "C0412",
)
PYLINT_FLAGS = ("--persistent=n", "--disable=" + ",".join(DISABLED_MESSAGES))


class Status:
    """What linting one file can come to."""

    OK = "ok"
    NO_STATEMENTS = "no_statements"
    UNPARSABLE = "unparsable"  # pylint could not read or parse the file
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass(frozen=True)
class LintResult:
    """The outcome for one file.

    ``pylint_score`` is the note as the CLI prints it (two decimals), ``score``
    the penalized one; both are ``None`` unless ``status`` is ``ok``.
    ``error`` says what went wrong for ``unparsable`` (pylint's message),
    ``timeout`` and ``error``.
    """

    status: str
    pylint_score: float | None = None
    comment_ratio: float | None = None
    score: float | None = None
    error: str = ""


def pylint_note(
    *, fatal: int, error: int, warning: int, refactor: int, convention: int, statement: int
) -> float | None:
    """pylint's default evaluation, in the same operation order; None without statements."""
    if statement == 0:
        return None
    if fatal:
        return 0.0
    return max(0, 10.0 - ((float(5 * error + warning + refactor + convention) / statement) * 10))


def printed_score(note: float) -> float:
    """The note as the CLI shows it ("rated at 7.35/10"), read back as a float."""
    return float(f"{note:.2f}")


def comment_ratio(source: str) -> float:
    """COMMENT tokens / all tokens; 0 when the source does not tokenize or is empty."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return 0.0
    if not tokens:
        return 0.0
    comments = sum(1 for token in tokens if token.type == tokenize.COMMENT)
    return comments / len(tokens)


def penalized(score: float, ratio: float) -> float:
    """The paper's comment penalty: a file of only comments scores 0."""
    if ratio >= 1.0:
        return 0.0
    return score * (1.0 - ratio)
