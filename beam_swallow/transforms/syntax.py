"""Stage ``syntax``: keep files that CPython compiles (SwallowCode stage 1).

The paper keeps a file when ``compile(src, "<string>", "exec")`` succeeds. The
original caught only ``SyntaxError``; NUL bytes, deep nesting (RecursionError,
MemoryError) and other failures crashed its workers. Here every exception is a
rejection with a specific reason:

- ``null_bytes``: the text holds a NUL character (CPython refuses it).
- ``too_deep``: nesting beyond the parser's limits (RecursionError,
  MemoryError, or the parser's own "too many nested" SyntaxError).
- ``syntax_error``: any other SyntaxError (Python 2 code lands here).
- ``uncompilable``: any other exception from ``compile``; ``error_type`` says which.

Kept records gain ``syntax_ok: true``. Rejected records carry ``error``.
Counters: ``syntax.kept``, ``syntax.<reason>``, ``syntax.dead_letter``.
"""

from __future__ import annotations

from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.stage import RecordStage

__all__ = ["STAGE", "Syntax", "compile_verdict", "judge_syntax"]

STAGE = "syntax"


def compile_verdict(source: str) -> tuple[str | None, str]:
    """Compile ``source`` as the paper does; return ``(reason or None, error)``."""
    if "\0" in source:
        return Reason.NULL_BYTES, "source contains NUL bytes"
    try:
        compile(source, "<string>", "exec")
    except SyntaxError as exc:
        reason = Reason.TOO_DEEP if "too many nested" in str(exc) else Reason.SYNTAX_ERROR
        return reason, f"{type(exc).__name__}: {exc}"
    except (RecursionError, MemoryError) as exc:
        return Reason.TOO_DEEP, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # ValueError, OverflowError, ...: judged, not broken
        return Reason.UNCOMPILABLE, f"{type(exc).__name__}: {exc}"
    return None, ""


def judge_syntax(record: Record) -> Record | Reject:
    """Keep a record whose text compiles; reject it with a reason otherwise."""
    reason, error = compile_verdict(record[TEXT])
    if reason is not None:
        return Reject(reason, {"error": error[:500]})
    return {**record, "syntax_ok": True}


class Syntax(RecordStage):
    """The syntax stage as a PTransform returning a StageResult."""

    stage = STAGE

    def __init__(self) -> None:
        super().__init__(judge_syntax)
