"""Each window of a streaming run: its three sinks, then its report.

For a window from START to END (UTC, ``20261130T182400Z``):

- ``DIR/kept/START_END.jsonl.gz``, ``DIR/rejected/START_END.jsonl.gz``,
  ``DIR/dead_letter/START_END.jsonl.gz`` (``.jsonl.zst`` with
  ``--output_compression zstd``): one file per sink, empty when the window
  has no record for it, its lines sorted (written under a temporary name,
  then renamed, so a file is whole or absent);
- ``DIR/reports/START_END.json``: report.json's schema
  (:func:`~beam_swallow.report.build_report`) for the records read in that
  window, plus ``window: {"start", "end"}`` and ``files: {sink: {"path",
  "records"}}``. It is written after the window's files, so a report on disk
  means its window is complete.

Counts are taken from the exits, as in batch (:class:`~beam_swallow.report.KeyExits`),
so each window's report balances on its own. A window fires when the
watermark passes its end; records are never late (see
:mod:`~beam_swallow.streaming.messages`), so none is dropped. A job restored
from a checkpoint may fire a window again with the same records: it writes the
same three files (same names, same bytes: so no file of an earlier firing
survives), and writes the report last.

A firing whose pane holds nothing is skipped. Beam's Python SDK gives every
window the closing behaviour ``EMIT_ALWAYS``, and on Flink a window whose
on-time firing was also its last (the watermark jumped past its allowed
lateness, as at the end of a bounded source or in a drain) fires once more
when its state is collected, with an empty pane. Panes accumulate and every
window with a record has a line or marker under each sink, so a real pane is
never empty; writing that one would replace the window's files and report with
empty ones.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms import trigger
from apache_beam.transforms.window import IntervalWindow
from apache_beam.utils.timestamp import Duration, Timestamp

from beam_swallow.io import SINKS, output_line
from beam_swallow.jsonl import COMPRESSIONS, DEFAULT_COMPRESSION
from beam_swallow.report import KeyExits, build_report
from beam_swallow.stage import StageResult, merge_exits
from beam_swallow.streaming.config import ALLOWED_LATENESS_S

__all__ = ["REPORTS_DIR", "WriteWindows", "window_name"]

REPORTS_DIR = "reports"
_FILE = "file"
_COUNT = "count"
_LOG = logging.getLogger(__name__)


def _stamp(moment: Timestamp) -> str:
    when = moment.to_utc_datetime()
    millis = moment.micros // 1000 % 1000
    return when.strftime("%Y%m%dT%H%M%S") + (f".{millis:03d}" if millis else "") + "Z"


def window_name(window: IntervalWindow) -> str:
    """``START_END`` of a window, in UTC: sorts in time order, safe in any file system."""
    return f"{_stamp(window.start)}_{_stamp(window.end)}"


def _write_whole(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` under a temporary name, then rename it into place.

    Temporary files of ``path`` that a write cut short (a crash) left behind are
    deleted first. Each path is written by one key of one step, one firing at a
    time, so no other write of it can be under way.
    """
    leftovers = [
        meta.path for match in FileSystems.match([f"{path}.tmp-*"]) for meta in match.metadata_list
    ]
    if leftovers:
        FileSystems.delete(leftovers)
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    with FileSystems.create(temporary, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        handle.write(data)
    FileSystems.rename([temporary], [path])


def _with_markers(sink: str, line: bytes) -> Iterator[tuple[str, bytes | None]]:
    """A record's line under its sink, and an empty marker under each other sink, so every
    window writes all three files and a firing leaves none from an earlier one."""
    for other in SINKS:
        yield other, line if other == sink else None


class _WriteSinkFile(beam.DoFn):
    """One sink's lines of one window -> one file (empty when the window has none);
    yields ``(None, (file, sink, path, n))``."""

    def __init__(self, output_dir: str, compression: str):
        self._dir = output_dir
        self._compression = COMPRESSIONS[compression]

    def process(
        self, item: tuple[str, Iterable[bytes | None]], window=beam.DoFn.WindowParam
    ) -> Iterator[tuple[None, tuple[str, str, str, int]]]:
        sink, lines = item
        lines = list(lines)
        if not lines:
            return  # an empty closing pane: see the module's docstring
        relative = f"{sink}/{window_name(window)}{self._compression.suffix}"
        # sorted: the same records give the same bytes in every firing
        ordered = sorted(line for line in lines if line is not None)
        body = b"".join(line + b"\n" for line in ordered)
        compressor = self._compression.compressor()
        data = compressor.compress(body) + compressor.flush()
        _write_whole(FileSystems.join(self._dir, relative), data)
        yield None, (_FILE, sink, relative, len(ordered))


class _WriteReport(beam.DoFn):
    """A window's counts and files -> ``reports/START_END.json``; yields its path."""

    def __init__(self, output_dir: str, stages: Sequence[str]):
        self._dir = output_dir
        self._stages = list(stages)

    def process(
        self, item: tuple[None, Iterable[tuple[Any, ...]]], window=beam.DoFn.WindowParam
    ) -> Iterator[str]:
        # Panes accumulate: a later firing of the window repeats every key with its
        # running total, which only grows, so the largest value per key is the newest.
        entries = list(item[1])
        if not entries:
            return  # an empty closing pane: see the module's docstring
        counts: dict[tuple[Any, ...], int] = {}
        files: dict[str, dict[str, Any]] = {}
        for entry in entries:
            if entry[0] == _COUNT:
                *key, n = entry[1]
                counts[tuple(key)] = max(n, counts.get(tuple(key), n))
            else:
                _, sink, path, count = entry
                if count >= files.get(sink, {}).get("records", -1):
                    files[sink] = {"path": path, "records": count}
        report = build_report([(*key, n) for key, n in counts.items()], self._stages)
        report["window"] = {
            "start": window.start.to_utc_datetime().isoformat() + "Z",
            "end": window.end.to_utc_datetime().isoformat() + "Z",
        }
        report["files"] = dict(sorted(files.items()))
        path = FileSystems.join(self._dir, REPORTS_DIR, f"{window_name(window)}.json")
        _write_whole(path, json.dumps(report, indent=2).encode("utf-8"))
        _LOG.info(
            "window %s: %d read, %d kept, %d rejected, %d dead letters%s",
            window_name(window),
            report["input"],
            report["kept"],
            sum(report["rejected"].values()),
            report["dead_letter"],
            "" if report["balanced"] else " (NOT BALANCED)",
        )
        yield path


class WriteWindows(beam.PTransform):
    """Windowed stage results -> per-window sink files and reports; returns the
    report paths. ``stages``: the stage names in order, the reader first;
    ``by_language``: the reports count each exit per language too (the code pipeline).

    A record that reaches the writer after its window fired (up to
    ``allowed_lateness_s`` seconds of event time late) fires the window again:
    panes accumulate, so the window's files and report are rewritten whole.
    """

    def __init__(
        self,
        output_dir: str,
        stages: Sequence[str],
        text_field: str = "text",
        count_tokens: bool = False,
        compression: str = DEFAULT_COMPRESSION,
        allowed_lateness_s: float = ALLOWED_LATENESS_S,
        by_language: bool = False,
    ):
        super().__init__()
        self._by_language = by_language
        self._allowed_lateness_s = allowed_lateness_s
        self._dir = output_dir
        self._stages = list(stages)
        self._text_field = text_field
        self._count_tokens = count_tokens
        self._compression = compression

    def _late_firing(self, pcoll: beam.PCollection, label: str) -> beam.PCollection:
        """``pcoll`` in its own fixed windows, each firing again for every late record."""
        return pcoll | label >> beam.WindowInto(
            pcoll.windowing.windowfn,
            trigger=trigger.AfterWatermark(late=trigger.AfterCount(1)),
            accumulation_mode=trigger.AccumulationMode.ACCUMULATING,
            allowed_lateness=Duration.of(self._allowed_lateness_s),
        )

    def expand(self, results: dict[str, StageResult]) -> beam.PCollection:
        merged = merge_exits(results)
        text_field = self._text_field
        lines = [
            records
            | f"{sink}Line"
            >> beam.FlatMap(lambda r, s=sink: _with_markers(s, output_line(r, text_field)))
            for sink, records in zip(SINKS, merged, strict=True)
        ]
        all_lines = lines | "AllLines" >> beam.Flatten()
        files = (
            self._late_firing(all_lines, "LinesLate")
            | "BySink" >> beam.GroupByKey()
            | "WriteFiles" >> beam.ParDo(_WriteSinkFile(self._dir, self._compression))
        )
        keyed = results | "KeyExits" >> KeyExits(self._count_tokens, by_language=self._by_language)
        counts = (
            self._late_firing(keyed, "KeysLate")
            | "CountKeys" >> beam.CombinePerKey(sum)
            | "CountRows" >> beam.Map(lambda kv: (None, (_COUNT, [*kv[0], kv[1]])))
        )
        both = (files, counts) | "FilesAndCounts" >> beam.Flatten()
        return (
            self._late_firing(both, "ReportLate")
            | "ByWindow" >> beam.GroupByKey()
            | "WriteReport" >> beam.ParDo(_WriteReport(self._dir, self._stages))
        )
