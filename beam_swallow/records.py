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
import re
import traceback
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ID",
    "LANGUAGE",
    "RAW",
    "REASON",
    "REPLAYED_FROM",
    "STAGE",
    "TEXT",
    "ERROR_TYPE",
    "ErrorKind",
    "Reason",
    "Record",
    "Reject",
    "dead_letter",
    "error_kind",
    "rejected",
    "replayed",
    "text_id",
]

Record = dict[str, Any]

TEXT = "text"
ID = "id"
LANGUAGE = "language"  # the code pipeline's language of a record (the catalog's name)
STAGE = "stage"
REASON = "reason"
RAW = "raw"  # a dead letter's input line (or row) that never became a record
# On a record read back from an earlier run's dead letters: the stage it failed in.
REPLAYED_FROM = "replayed_from"
ERROR_TYPE = "error_type"
# What a dead letter adds to its record (see dead_letter), dropped again on replay.
_DEAD_LETTER_FIELDS = (STAGE, ERROR_TYPE, "error", "traceback")
_GENERATION = "generation"


class Reason:
    """Every rejection reason a stage may give, one constant each."""

    # read
    TOO_LARGE = "too_large"
    UNSUPPORTED_LANGUAGE = "unsupported_language"  # a label or extension of no known language
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
    DOES_NOT_PARSE = "does_not_parse"  # the v2 rewrite, by its language's exact parser
    WRONG_LANGUAGE = "wrong_language"  # the v2 rewrite's code fence names another language
    # dedup / decontamination
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    CONTAMINATED = "contaminated"
    # the v2 recipes (format, length, score, lint_errors, math_extract)
    UNFORMATTABLE = "unformattable"
    TEXT_TOO_SHORT = "text_too_short"
    TEXT_TOO_LONG = "text_too_long"
    NO_SCORE = "no_score"
    LOW_SCORE = "low_score"
    LINT_ERRORS = "lint_errors"
    NO_MATH = "no_math"
    # read: a known language the run does not take (--languages); for The Stack v2,
    # before anything is fetched
    OTHER_LANGUAGE = "other_language"
    VENDORED = "vendored"
    GENERATED = "generated"
    LICENSE_TYPE = "license_type"
    # fetch (a blob over the size bound is ``too_large``, NUL bytes ``null_bytes``)
    UNDECODABLE = "undecodable"


class ErrorKind:
    """The named ``error_type`` of dead letters for input that is broken, not judged.

    Exceptions have no constant here: their kind is :func:`error_kind` of the
    exception (``lint_error``, ``engine_error``, ``value_error``, ...).
    """

    # read: one line or row
    INVALID_UTF8 = "invalid_utf8"
    INVALID_JSON = "invalid_json"
    INVALID_UNICODE = "invalid_unicode"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_TEXT = "missing_text"
    MISSING_ID = "missing_id"
    # read: a whole file (its records before the failure went on)
    TRUNCATED_FILE = "truncated_file"
    CORRUPT_FILE = "corrupt_file"
    # dedup: two records claim one id with different texts
    DUPLICATE_ID = "duplicate_id"
    # read, The Stack v2: a file entry without its blob id
    MISSING_BLOB_ID = "missing_blob_id"
    # fetch: the store has no blob under the id, or the blob is not gzip
    MISSING_BLOB = "missing_blob"
    CORRUPT_BLOB = "corrupt_blob"


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


_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def error_kind(error: BaseException | type[BaseException] | str) -> str:
    """The ``error_type`` of a dead letter: one snake_case vocabulary for every exit.

    Input problems have named kinds (``invalid_json``, ``duplicate_id``, ...);
    an exception's kind is its class name in snake_case, so ``LintError`` is
    ``lint_error`` and ``JSONDecodeError`` is ``json_decode_error``. A name
    given as a string (an engine's error class) is converted the same way.
    """
    if isinstance(error, BaseException):
        name = type(error).__name__
    elif isinstance(error, type):
        name = error.__name__
    else:
        name = error
    return _WORD_START.sub("_", name).lower()


def dead_letter(
    payload: Any, stage: str, error: BaseException | str, kind: str | None = None
) -> Record:
    """A dead letter: what broke (record or raw input), where, and the error.

    ``payload`` is a record dict, or raw input (bytes or str) that never became
    one. Raw bytes are kept as text with undecodable bytes escaped, so the
    dead-letter sink itself can never fail on them. ``error_type`` is ``kind``
    when given, else :func:`error_kind` of the exception; a message given as a
    string needs its ``kind``.
    """
    if isinstance(payload, dict):
        out: Record = dict(payload)
    elif isinstance(payload, bytes):
        out = {RAW: payload.decode("utf-8", "backslashreplace")}
    else:
        out = {RAW: payload}
    out[STAGE] = stage
    if isinstance(error, BaseException):
        out[ERROR_TYPE] = kind or error_kind(error)
        out["error"] = str(error)[:2000]
        out["traceback"] = "".join(traceback.format_exception(error))[-4000:]
    else:
        if kind is None:
            raise ValueError("a dead letter with a message needs its kind")
        out[ERROR_TYPE] = kind
        out["error"] = error
    return out


def replayed(obj: dict[str, Any]) -> dict[str, Any]:
    """An input object as a replay reads it: a dead letter loses what its failure added.

    A dead letter of an earlier run (an object with string ``stage`` and
    ``error_type``, as :func:`dead_letter` writes them) gives back its record:
    without ``stage``, ``error_type``, ``error`` and ``traceback``, without the
    failed stage's entry in ``generation`` (the settings of a request that never
    produced this text), and with ``replayed_from`` naming the failed stage, so the
    pipeline sends it past the stages it had already passed. Any other object is
    returned as it is.
    """
    stage = obj.get(STAGE)
    if not isinstance(stage, str) or not isinstance(obj.get(ERROR_TYPE), str):
        return obj
    out = {k: v for k, v in obj.items() if k not in _DEAD_LETTER_FIELDS}
    generation = out.get(_GENERATION)
    if isinstance(generation, dict) and stage in generation:
        kept = {k: v for k, v in generation.items() if k != stage}
        if kept:
            out[_GENERATION] = kept
        else:
            del out[_GENERATION]
    out[REPLAYED_FROM] = stage
    return out
