"""Python source text to file bytes and back, in the encoding the file declares (PEP 263).

A record holds a file's text; pylint reads a file's bytes and decodes them as
Python does: a UTF-8 byte-order mark, else a ``# -*- coding: NAME -*-`` line
in the first two lines, else UTF-8. Text written for it under a coding line
must therefore be encoded with that codec (a ``euc-jp`` file written as
UTF-8 is unreadable to pylint), and a file read from disk must be decoded as
Python decodes it, not as UTF-8.

- :func:`encode_source`: the bytes of the file as saved in its declared
  encoding. Where that cannot be done (a codec Python does not know, or text
  the codec cannot hold) the text is written as UTF-8, as it was stored, and
  pylint reports what it makes of that file.
- :func:`decode_source`: bytes to text as Python reads a file (line endings
  kept as they are); raises ``SyntaxError`` (unknown codec, a bad coding
  line) or ``UnicodeDecodeError`` for a file Python cannot read.
"""

from __future__ import annotations

import io
import tokenize

__all__ = ["decode_source", "declared_encoding", "encode_source"]


def declared_encoding(data: bytes) -> str:
    """The codec Python reads ``data`` with (BOM, coding line, else UTF-8).

    Raises ``SyntaxError`` when the coding line names a codec Python lacks.
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return encoding


def encode_source(text: str) -> bytes:
    """``text`` as the bytes of a file saved in the encoding its coding line declares."""
    as_utf8 = text.encode("utf-8")  # a lone surrogate raises: no file holds one
    try:
        encoding = declared_encoding(as_utf8)
    except SyntaxError:
        return as_utf8  # an unknown codec: the tool says so
    if encoding in ("utf-8", "utf-8-sig"):
        return as_utf8
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return as_utf8


def decode_source(data: bytes) -> str:
    """A file's bytes as the text Python reads from it (a UTF-8 BOM dropped)."""
    return data.decode(declared_encoding(data))
