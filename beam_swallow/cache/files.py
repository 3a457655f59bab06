"""Cache files: read every entry under a directory, write new entries as immutable files.

A cache directory holds JSON Lines files named ``<uuid>.jsonl``, one per bundle
(or per ``flush_entries`` / ``flush_seconds`` of a long bundle, see
:class:`~beam_swallow.cache.config.CacheConfig`). A writer writes
``<uuid>.jsonl.tmp`` and renames it: a job killed mid-write leaves a ``.tmp``
file that readers never match, and no reader ever sees half a file under a
final name. Lines that do not decode as intact entries (a file cut short by a
full disk, an edited line) are counted as corrupt and skipped: they are misses.

Counters (namespace ``beam_swallow``): ``<stage>.cache_corrupt`` (lines skipped),
``<stage>.cache_written`` (entries committed to files).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from beam_swallow.cache.config import CacheConfig
from beam_swallow.cache.entries import decode_entry, encode_entry
from beam_swallow.stage import METRICS_NAMESPACE

__all__ = ["CORRUPT", "ENTRIES", "SUFFIX", "ReadCache", "WriteCache"]

SUFFIX = ".jsonl"
ENTRIES = "entries"
CORRUPT = "corrupt"


class _DecodeFile(beam.DoFn):
    """One cache file -> ``(key, value)`` per intact line; a corrupt line's path under CORRUPT."""

    def __init__(self, stage: str):
        self._corrupt = Metrics.counter(METRICS_NAMESPACE, f"{stage}.cache_corrupt")

    def process(self, readable: fileio.ReadableFile) -> Iterator[Any]:
        path = readable.metadata.path
        with readable.open(compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            for line in handle:
                line = line.rstrip(b"\r\n")
                if not line.strip():
                    continue
                entry = decode_entry(line)
                if entry is None:
                    self._corrupt.inc()
                    yield pvalue.TaggedOutput(CORRUPT, path)
                else:
                    yield entry


class ReadCache(beam.PTransform):
    """Every entry under ``directory``; returns outputs ``entries`` (key, value) and ``corrupt``.

    A directory that does not exist yet is an empty cache.
    """

    def __init__(self, directory: str, stage: str):
        super().__init__()
        self._directory = directory
        self._stage = stage

    def expand(self, pbegin: beam.pvalue.PBegin) -> pvalue.DoOutputsTuple:
        pattern = FileSystems.join(self._directory, "*" + SUFFIX)
        return (
            pbegin
            | "Pattern" >> beam.Create([pattern])
            | "Match" >> fileio.MatchAll(fileio.EmptyMatchTreatment.ALLOW)
            | "Open" >> fileio.ReadMatches()
            | "Decode" >> beam.ParDo(_DecodeFile(self._stage)).with_outputs(CORRUPT, main=ENTRIES)
        )


class _WriteFiles(beam.DoFn):
    """Buffers entries; commits them as one new file per bundle, or sooner (see CacheConfig)."""

    def __init__(self, directory: str, stage: str, cfg: CacheConfig):
        self._directory = directory
        self._cfg = cfg
        self._written = Metrics.counter(METRICS_NAMESPACE, f"{stage}.cache_written")
        self._lines: list[str] = []
        self._since = 0.0

    def start_bundle(self) -> None:
        self._lines = []

    def process(self, entry: tuple[str, Any]) -> None:
        if not self._lines:
            self._since = time.monotonic()
        self._lines.append(encode_entry(*entry))
        full = len(self._lines) >= self._cfg.flush_entries
        if full or time.monotonic() - self._since >= self._cfg.flush_seconds:
            self._commit()

    def finish_bundle(self) -> None:
        self._commit()

    def _commit(self) -> None:
        lines, self._lines = self._lines, []
        if not lines:
            return
        final = FileSystems.join(self._directory, uuid.uuid4().hex + SUFFIX)
        temp = final + ".tmp"
        with FileSystems.create(temp, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            handle.write("".join(line + "\n" for line in lines).encode("ascii"))
        FileSystems.rename([temp], [final])
        self._written.inc(len(lines))


class WriteCache(beam.PTransform):
    """Write ``(key, value)`` pairs as new immutable files under ``directory``."""

    def __init__(self, directory: str, stage: str, cfg: CacheConfig):
        super().__init__()
        self._directory = directory
        self._stage = stage
        self._cfg = cfg

    def expand(self, entries: beam.PCollection) -> beam.PCollection:
        return entries | "WriteFiles" >> beam.ParDo(
            _WriteFiles(self._directory, self._stage, self._cfg)
        )
