"""Input files read to their real end, or failing with a reason.

Beam's own decompression stops quietly where a ``.gz`` or ``.zst`` file stops,
so a shard cut short (a failed upload, a full disk) loses its tail in
silence. Here a ``.gz`` file is read with Python's :mod:`gzip`, which checks
what ``gzip -t`` checks: an empty file, a stream that ends before its
end-of-stream marker, a bad CRC or length, bytes that are not gzip data
(trailing zero padding is accepted, as gzip accepts it). A ``.zst`` file is
read frame by frame with :mod:`zstandard` (a dependency of Beam), and a file
that ends inside a frame, or holds no frame at all, is cut short: zstandard's
own stream reader returns what it has there without a word. A file whose name
does not end in ``.gz`` or ``.zst`` but whose first bytes are those of a
compressed or Parquet file is mislabelled.

Each of these raises :class:`FileError` with ``kind``:

- ``truncated_file``: the file ends early (empty, no end-of-stream marker,
  cut in the middle of a record or a frame);
- ``corrupt_file``: the bytes are not what the name says (bad CRC or
  checksum, not gzip or zstd at all, a compressed file named as plain text,
  not a Parquet file).

The reader turns it into one dead letter for the file, after the records read
before it went on.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import zstandard

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


_ZSTD_CHUNK = 1 << 17  # compressed bytes read at a time


class _ZstdFrames(io.RawIOBase):
    """The decompressed bytes of every zstd frame of ``raw``, in order.

    Raises :class:`EOFError` where the file ends inside a frame or holds no
    frame, and :class:`zstandard.ZstdError` on bytes that are not zstd data.
    """

    def __init__(self, raw: BinaryIO):
        super().__init__()
        self._raw = raw
        self._decompressor = zstandard.ZstdDecompressor()
        self._frame = self._decompressor.decompressobj()
        self._in_frame = False  # bytes of the current frame read, its end not yet
        self._frames = 0
        self._pending = memoryview(b"")
        self._error: zstandard.ZstdError | None = None

    def readable(self) -> bool:
        return True

    def _decompress(self) -> bytes | None:
        """The next decompressed bytes (maybe empty); None at the file's end.

        An error raises after the bytes decompressed before it are handed out.
        """
        if self._error is not None:
            raise self._error
        data = self._raw.read(_ZSTD_CHUNK)
        if not data:
            if self._in_frame:
                raise EOFError("zstd stream ended inside a frame")
            if not self._frames:
                raise EOFError("empty file: no zstd frame")
            return None
        out = []
        try:
            while data:
                self._in_frame = True
                out.append(self._frame.decompress(data))
                if not self._frame.eof:
                    break
                self._frames += 1
                self._in_frame = False
                data = self._frame.unused_data
                self._frame = self._decompressor.decompressobj()
        except zstandard.ZstdError as exc:
            if not out:
                raise
            self._error = exc
        return b"".join(out)

    def readinto(self, buffer: memoryview) -> int:
        while not self._pending:
            data = self._decompress()
            if data is None:
                return 0
            self._pending = memoryview(data)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _open(raw: BinaryIO, path: str) -> BinaryIO:
    """The decompressed stream of ``raw``, chosen by ``path``'s name."""
    head = _head(raw)
    if path.endswith(".gz"):
        if not head:
            raise FileError(ErrorKind.TRUNCATED_FILE, "empty file: no gzip header")
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if path.endswith(".zst"):
        return io.BufferedReader(_ZstdFrames(raw))
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise FileError(
                ErrorKind.CORRUPT_FILE, f"{what} data in a file not named .gz, .zst or .parquet"
            )
    return raw


def read_lines(raw: BinaryIO, path: str) -> Iterator[bytes]:
    """Every line of the file, ``\\n`` kept, decompressed if its name ends in ``.gz`` or ``.zst``.

    ``raw`` is the file's bytes as stored (seekable). Raises :class:`FileError`
    where the file stops being readable, after the lines before it.
    """
    stream = _open(raw, path)
    try:
        yield from iter(stream.readline, b"")
    except EOFError as exc:
        raise FileError(ErrorKind.TRUNCATED_FILE, str(exc)) from None
    except (gzip.BadGzipFile, zlib.error, zstandard.ZstdError) as exc:
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
