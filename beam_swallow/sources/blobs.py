"""A Stack v2 blob's bytes judged: gzip checked, decoded by its ``src_encoding``, NUL refused.

Software Heritage stores each file as a gzip'd blob. :func:`blob_value` turns
one blob's bytes into a plain JSON value (so the result cache can hold it):

- ``{"text", "decoded_as"}``: the text, and the encoding that decoded it;
- ``{"reason": "too_large", "blob_bytes"}``: the decoded bytes pass the bound
  (decompression stops there; ``blob_bytes`` is the compressed size);
- ``{"reason": "undecodable"}``: neither the ``src_encoding`` nor UTF-8
  decodes it (both strict; an encoding name Python does not know is skipped);
- ``{"reason": "null_bytes"}``: the text holds NUL, as BigCode dropped them.

BigCode tried UTF-8 first, then a detector's guess, and recorded the one that
worked as ``src_encoding``: decoding by it first repeats that decision.
A blob that is not whole gzip raises :class:`CorruptBlob`: it is broken, not judged.
"""

from __future__ import annotations

import codecs
import zlib
from typing import Any

from beam_swallow.records import REASON, TEXT, Reason

__all__ = ["BLOB_BYTES", "DECODED_AS", "FALLBACK_ENCODING", "CorruptBlob", "blob_value"]

DECODED_AS = "decoded_as"
BLOB_BYTES = "blob_bytes"
FALLBACK_ENCODING = "utf-8"


class CorruptBlob(Exception):
    """A blob that is not gzip, or whose gzip stream is cut short or damaged."""


def _gunzip(data: bytes, max_bytes: int) -> bytes | None:
    """The decompressed bytes of a gzip blob (every member), or None once they pass
    ``max_bytes`` (decompression stops there); raises CorruptBlob."""
    out = bytearray()
    rest = data
    while True:
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            out += inflater.decompress(rest, max_bytes + 1 - len(out))
        except zlib.error as exc:
            raise CorruptBlob(f"not a gzip blob: {exc}") from None
        if len(out) > max_bytes or inflater.unconsumed_tail:
            return None
        if not inflater.eof:
            raise CorruptBlob("gzip stream cut short")
        rest = inflater.unused_data
        if not rest.strip(b"\0"):  # padding after the last member, as gzip(1) accepts
            return bytes(out)


def _decode(data: bytes, src_encoding: Any) -> tuple[str, str] | None:
    tried = [src_encoding] if isinstance(src_encoding, str) and src_encoding else []
    for name in [*tried, FALLBACK_ENCODING]:
        try:
            codecs.lookup(name)
            return data.decode(name), name
        except (LookupError, UnicodeDecodeError):
            continue
    return None


def blob_value(data: bytes, src_encoding: Any, max_bytes: int) -> dict[str, Any]:
    """What one gzip'd blob gives: ``{"text", "decoded_as"}``, or ``{"reason", ...}``.

    The value is plain JSON, so the result cache can hold it. Raises
    CorruptBlob for a blob that is not whole gzip.
    """
    raw = _gunzip(data, max_bytes)
    if raw is None:
        return {REASON: Reason.TOO_LARGE, BLOB_BYTES: len(data)}
    decoded = _decode(raw, src_encoding)
    if decoded is None:
        return {REASON: Reason.UNDECODABLE}
    text, encoding = decoded
    if "\0" in text:
        return {REASON: Reason.NULL_BYTES}
    return {TEXT: text, DECODED_AS: encoding}
