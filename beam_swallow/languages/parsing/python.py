"""Python's syntax check: ``compile()``, the paper's rule (SwallowCode stage 1).

The paper keeps a file when ``compile(src, "<string>", "exec")`` succeeds. The
original caught only ``SyntaxError``; NUL bytes, deep nesting (RecursionError,
MemoryError) and other failures crashed its workers. Here every exception is a
verdict with a specific reason:

- ``null_bytes``: the text holds a NUL character (CPython refuses it).
- ``too_deep``: nesting beyond the parser's limits (RecursionError,
  MemoryError, or the parser's own "too many nested" SyntaxError).
- ``syntax_error``: any other SyntaxError (Python 2 code lands here).
- ``uncompilable``: any other exception from ``compile``.
"""

from __future__ import annotations

import platform

from beam_swallow.languages.parsing.config import ParseVerdict
from beam_swallow.records import Reason

__all__ = ["CHECKER", "check_python", "compile_verdict"]

CHECKER = f"python {platform.python_version()} compile()"


def _judge(source: str) -> ParseVerdict:
    if "\0" in source:
        return ParseVerdict.rejected(CHECKER, "source contains NUL bytes", reason=Reason.NULL_BYTES)
    try:
        compile(source, "<string>", "exec")
    except SyntaxError as exc:
        reason = Reason.TOO_DEEP if "too many nested" in str(exc) else Reason.SYNTAX_ERROR
        line = exc.lineno if isinstance(exc.lineno, int) else None
        column = exc.offset if isinstance(exc.offset, int) and exc.offset > 0 else None
        return ParseVerdict.rejected(CHECKER, f"{type(exc).__name__}: {exc}", line, column, reason)
    except (RecursionError, MemoryError) as exc:
        return ParseVerdict.rejected(
            CHECKER, f"{type(exc).__name__}: {exc}", reason=Reason.TOO_DEEP
        )
    except Exception as exc:  # ValueError, OverflowError, ...: judged, not broken
        return ParseVerdict.rejected(
            CHECKER, f"{type(exc).__name__}: {exc}", reason=Reason.UNCOMPILABLE
        )
    return ParseVerdict(True, CHECKER)


def compile_verdict(source: str) -> tuple[str | None, str]:
    """Compile ``source`` as the paper does; return ``(reason or None, error)``, where
    ``error`` is the exception's type and words (``"SyntaxError: invalid syntax (...)"``)."""
    verdict = _judge(source)
    return verdict.reason, verdict.message


def check_python(sources: list[str]) -> list[ParseVerdict]:
    """One :class:`ParseVerdict` per source, in order (``compile()`` of each)."""
    return [_judge(source) for source in sources]
