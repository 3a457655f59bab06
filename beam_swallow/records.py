"""Records, verdicts and the names every stage shares.

A record is a plain dict: ``id``, ``text`` (the input's text field, whatever its
name, is moved to ``text`` on read and back on write), every input metadata
field, plus the fields stages add. A stage function returns either the
(possibly updated) record, meaning *kept*, or a :class:`Reject` naming why it
was dropped. Exceptions are not verdicts: the stage runner turns them into
dead letters (:func:`dead_letter`), so ``input = kept + rejected + dead_letter``
holds for every stage.

Reasons are defined here once, as snake_case constants, so tests and reports
can name them exactly.
"""

from __future__ import annotations

import hashlib
import traceback
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ID",
    "REASON",
    "STAGE",
    "TEXT",
    "Reason",
    "Record",
    "Reject",
    "dead_letter",
    "rejected",
    "text_id",
]

Record = dict[str, Any]

TEXT = "text"
ID = "id"
STAGE = "stage"
REASON = "reason"


class Reason:
    """Every rejection reason a stage may give, one constant each."""

    # read
    TOO_LARGE = "too_large"
    # syntax
    SYNTAX_ERROR = "syntax_error"
    NULL_BYTES = "null_bytes"
    TOO_DEEP = "too_deep"
    UNCOMPILABLE = "uncompilable"
    # lint
    LOW_QUALITY = "low_quality"
    NO_STATEMENTS = "no_statements"
    UNPARSABLE = "unparsable"  # pylint could not read or parse the file
    LINT_TIMEOUT = "lint_timeout"
    # rewriting
    NO_CODE_BLOCK = "no_code_block"
    REPETITION = "repetition"
    TRUNCATED = "truncated"
    TOO_LONG = "too_long"
    TOO_SHORT = "too_short"
    DOES_NOT_COMPILE = "does_not_compile"
    # dedup / decontamination
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    CONTAMINATED = "contaminated"


@dataclass(frozen=True)
class Reject:
    """A stage's verdict that a record is dropped, with optional extra fields."""

    reason: str
    fields: dict[str, Any] = field(default_factory=dict)


def text_id(text: str) -> str:
    """A stable id for a record without one: the SHA-1 of its UTF-8 text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def rejected(record: Record, stage: str, reason: str, **fields: Any) -> Record:
    """The record as it goes to the rejected sink: a copy with stage and reason."""
    out = dict(record)
    out.update(fields)
    out[STAGE] = stage
    out[REASON] = reason
    return out


def dead_letter(payload: Any, stage: str, error: BaseException | str) -> Record:
    """A dead letter: what broke (record or raw input), where, and the error.

    ``payload`` is a record dict, or raw input (bytes or str) that never became
    one. Raw bytes are kept as text with undecodable bytes escaped, so the
    dead-letter sink itself can never fail on them.
    """
    if isinstance(payload, dict):
        out: Record = dict(payload)
    elif isinstance(payload, bytes):
        out = {"raw": payload.decode("utf-8", "backslashreplace")}
    else:
        out = {"raw": payload}
    out[STAGE] = stage
    if isinstance(error, BaseException):
        out["error_type"] = type(error).__name__
        out["error"] = str(error)[:2000]
        out["traceback"] = "".join(traceback.format_exception(error))[-4000:]
    else:
        out["error_type"] = "InvalidInput"
        out["error"] = error
    return out
