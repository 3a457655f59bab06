"""Input files read to their real end, or failing with a reason.

Beam's own decompression stops quietly where a ``.gz`` file stops, so a shard
cut short (a failed upload, a full disk) loses its tail in silence. Here a
``.gz`` file is read with Python's :mod:`gzip`, which checks what ``gzip -t``
checks: an empty file, a stream that ends before its end-of-stream marker,
a bad CRC or length, bytes that are not gzip data (trailing zero padding is
accepted, as gzip accepts it). A file whose name does not end in ``.gz`` but
whose first bytes are those of a compressed or Parquet file is mislabelled.

Each of these raises :class:`FileError` with ``kind``:

- ``truncated_file``: the file ends early (empty, no end-of-stream marker,
  cut in the middle of a record);
- ``corrupt_file``: the bytes are not what the name says (bad CRC, not gzip
  at all, a compressed file named as plain text, not a Parquet file).

The reader turns it into one dead letter for the file, after the records read
before it went on.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from beam_swallow.records import ErrorKind

__all__ = [
    "FileError",
    "parquet_error",
    "read_lines",
]


_PARQUET_MAGIC = b"PAR1"
# First bytes of formats that are never JSON Lines text.
_MAGIC = {
    b"\x1f\x8b": "gzip-compressed",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"\x28\xb5\x2f\xfd": "zstd-compressed",
    b"PK\x03\x04": "zip",
    _PARQUET_MAGIC: "Parquet",
}


class FileError(Exception):
    """An input file that cannot be read to its end; ``kind`` says how it fails."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _head(raw: BinaryIO, size: int = 8) -> bytes:
    head = raw.read(size)
    raw.seek(0)
    return head


def _open(raw: BinaryIO, path: str) -> BinaryIO:
    """The decompressed stream of ``raw``, chosen by ``path``'s name."""
    head = _head(raw)
    if path.endswith(".gz"):
        if not head:
            raise FileError(ErrorKind.TRUNCATED_FILE, "empty file: no gzip header")
        return gzip.GzipFile(fileobj=raw, mode="rb")
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise FileError(
                ErrorKind.CORRUPT_FILE, f"{what} data in a file not named .gz or .parquet"
            )
    return raw


def read_lines(raw: BinaryIO, path: str) -> Iterator[bytes]:
    """Every line of the file, ``\\n`` kept, decompressed if its name ends in ``.gz``.

    ``raw`` is the file's bytes as stored (seekable). Raises :class:`FileError`
    where the file stops being readable, after the lines before it.
    """
    stream = _open(raw, path)
    try:
        yield from iter(stream.readline, b"")
    except EOFError as exc:
        raise FileError(ErrorKind.TRUNCATED_FILE, str(exc)) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise FileError(ErrorKind.CORRUPT_FILE, str(exc)) from None


def parquet_error(raw: BinaryIO, error: Exception) -> FileError:
    """Name what a Parquet reading ``error`` means: a file cut short, or no Parquet at all.

    A Parquet file starts and ends with ``PAR1``: one that starts with it but
    lacks the footer (or is empty) was cut short.
    """
    raw.seek(0)
    head = raw.read(len(_PARQUET_MAGIC))
    raw.seek(0, 2)
    size = raw.tell()
    if size >= len(_PARQUET_MAGIC):
        raw.seek(size - len(_PARQUET_MAGIC))
        footer = raw.read(len(_PARQUET_MAGIC))
    else:
        footer = b""
    cut = not head or (head == _PARQUET_MAGIC and footer != _PARQUET_MAGIC)
    return FileError(
        ErrorKind.TRUNCATED_FILE if cut else ErrorKind.CORRUPT_FILE,
        f"{type(error).__name__}: {error}",
    )
