"""Cache keys and the one line format of a cache entry.

A key is the SHA-256 of the canonical JSON of everything that determines a
result: the stage's identity (stage, tool versions, flags, engine, model,
prompt hash, ...) and the content of one unit of work (a file's text, a chat
request without its record id). Canonical JSON sorts keys and has no spaces, so
equal inputs give equal keys in any process.

An entry is one JSON line ``{"key": K, "value": V, "check": C}`` where ``C``
hashes ``[K, V]``: a line cut short, edited, or holding a key that is not the
one its value was written under decodes to ``None`` (corrupt), never to a
wrong answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["FORMAT", "cache_key", "decode_entry", "digest", "encode_entry"]

FORMAT = 1  # bump when the meaning of an entry's value changes


def _canonical(value: Any) -> bytes:
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8", "surrogatepass")


def digest(value: Any) -> str:
    """SHA-256 (hex) of ``value``'s canonical JSON; raises ValueError/TypeError if not JSON."""
    return hashlib.sha256(_canonical(value)).hexdigest()


def cache_key(identity: Mapping[str, Any], content: Any) -> str:
    """The key of one unit of work (``content``) done by a stage with ``identity``."""
    return digest([FORMAT, dict(identity), content])


def _check(key: str, value: Any) -> str:
    return digest([key, value])[:32]


def encode_entry(key: str, value: Any) -> str:
    """One entry as an ASCII JSON line (no newline); ``value`` must be JSON."""
    return json.dumps({"key": key, "value": value, "check": _check(key, value)}, allow_nan=False)


def decode_entry(line: bytes) -> tuple[str, Any] | None:
    """``(key, value)`` of an entry line, or ``None`` when it is not a whole, intact entry."""
    try:
        entry = json.loads(line.decode("utf-8"))
        key, value, check = entry["key"], entry["value"], entry["check"]
        if isinstance(key, str) and check == _check(key, value):
            return key, value
    except (UnicodeDecodeError, ValueError, TypeError, KeyError):
        pass
    return None
