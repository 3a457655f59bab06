"""JSON Lines as the format defines it, for every reader and writer in the project.

- A line ends at ``\\n`` only (a ``\\r`` before it is dropped too). Never
  ``str.splitlines``: it also breaks at U+2028, U+2029, U+0085, form feeds and
  other characters that JSON allows raw inside a string (``json.dumps(...,
  ensure_ascii=False)`` writes U+2028 as it is).
- A UTF-8 byte-order mark at the start of a file is ignored, as RFC 8259
  lets a parser do; anywhere else it is an error of the line it starts.
- Every line written is strict JSON: NaN and infinities, which ``json.dumps``
  writes as the non-JSON tokens ``NaN`` and ``Infinity``, become ``null``.
- Output records are encoded by orjson (:func:`encode_line`), ~4x faster than
  :func:`json.dumps` (BENCHMARKS.md, syntax): the same JSON values, written
  without spaces after ``:`` and ``,``. Reading stays on :mod:`json`, whose
  behaviour the readers' rules (which line is an error, and of what kind) are
  written against.
- Output files are compressed as :data:`COMPRESSIONS` says: gzip by ISA-L,
  zstd by zstandard. Any gzip or zstd reader takes them.

:func:`read_objects` reads a file that configures a run (a benchmark) and
stops at the first bad line with an error naming the file and line, so a
broken configuration file stops a run before it starts. Input shards are read
by :mod:`beam_swallow.io` with the same :func:`iter_lines`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, NamedTuple

import orjson
import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from isal import isal_zlib

from beam_swallow.files import FileError, read_lines

__all__ = [
    "BOM",
    "COMPRESSIONS",
    "Compression",
    "DEFAULT_COMPRESSION",
    "JsonlError",
    "dumps",
    "encode_line",
    "iter_lines",
    "line_content",
    "parse_objects",
    "read_objects",
]

BOM = b"\xef\xbb\xbf"


class Compression(NamedTuple):
    """How JSON Lines outputs of one ``--output_compression`` choice are written.

    ``suffix``: the file name's end. ``compressor``: a new streaming
    compressor, an object with ``compress(bytes) -> bytes`` and
    ``flush() -> bytes`` (the end of the stream), one per file.
    """

    suffix: str
    compressor: Callable[[], Any]


# gzip is written by ISA-L (python-isal) at its best level, 3: standard gzip
# files any reader takes, ~7x faster than zlib at level 6 (the level Beam's own
# text sink uses) and ~15% larger (BENCHMARKS.md, syntax). zstd is written at
# level 3 (zstandard's default, Beam's too): files of zlib level 6's size at
# ISA-L's speed. gzip stays the default, since more tools read it.
GZIP_LEVEL = isal_zlib.ISAL_BEST_COMPRESSION
ZSTD_LEVEL = 3
COMPRESSIONS: dict[str, Compression] = {
    "gzip": Compression(
        ".jsonl.gz",
        partial(isal_zlib.compressobj, GZIP_LEVEL, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS),
    ),
    "zstd": Compression(".jsonl.zst", lambda: zstandard.ZstdCompressor(ZSTD_LEVEL).compressobj()),
}
DEFAULT_COMPRESSION = "gzip"


class JsonlError(ValueError):
    """A line of a JSON Lines file that is not JSON; the message names file and line."""


def line_content(line: bytes, first: bool = False) -> bytes:
    """``line`` without its ``\\n`` or ``\\r\\n`` (and the file's BOM if ``first``)."""
    if first and line.startswith(BOM):
        line = line[len(BOM) :]
    if line.endswith(b"\n"):
        line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
    return line


def iter_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(line number, content)`` of every non-blank line, from lines split at ``\\n``."""
    for number, line in enumerate(lines, start=1):
        content = line_content(line, first=number == 1)
        if content.strip():
            yield number, content


def read_objects(path: str) -> Iterator[tuple[int, Any]]:
    """``(line number, value)`` per non-blank line of a JSONL file (plain, .gz or .zst), local or gs://.

    Raises :class:`JsonlError` naming ``path`` and the line at the first line
    that is not UTF-8 JSON, or where the file stops being readable.
    """
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        yield from parse_objects(read_lines(raw, path), path)


def parse_objects(lines: Iterable[bytes], name: str) -> Iterator[tuple[int, Any]]:
    """:func:`read_objects` on lines already open; ``name`` is the file's, for errors."""
    number = 0
    try:
        for number, content in iter_lines(lines):
            try:
                yield number, json.loads(content.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise JsonlError(f"{name}:{number}: not a JSON line: {exc}") from None
    except FileError as exc:
        raise JsonlError(f"{name}: {exc.kind} after line {number}: {exc}") from None


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (at any depth) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """Strict JSON text for ``value``: non-finite floats are written as null.

    Other keyword arguments go to :func:`json.dumps` (``ensure_ascii``,
    ``default``, ``indent``...). Values without NaN take the fast path.
    """
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:
        return json.dumps(_finite(value), allow_nan=False, **kwargs)


# Datetimes and dataclasses go to ``default`` as they do with json.dumps (orjson
# would write its own forms of them); NaN and infinities become null, as in dumps.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def encode_line(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """``value`` as one line's UTF-8 bytes (no newline): strict JSON, non-ASCII as is.

    The JSON value ``dumps(value, ensure_ascii=False, default=default)`` writes,
    encoded by orjson. What orjson refuses (integers beyond 64 bits, keys that
    are not strings, nesting past 254 levels, lone surrogates) goes through
    :func:`dumps`; a lone surrogate then raises ``UnicodeEncodeError``, as UTF-8
    cannot hold it.
    """
    try:
        return orjson.dumps(value, default=default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return dumps(value, ensure_ascii=False, default=default).encode("utf-8")
