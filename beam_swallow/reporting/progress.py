"""One live line per stage while a local run goes: in, kept, rejected, dead, rate, ETA.

Counts come from Beam's counters (``beam_swallow`` namespace:
``<stage>.kept``, ``<stage>.dead_letter``, ``<stage>.<reason>``) read through
:class:`~beam_swallow.reporting.live.LiveMetrics`; rich draws them. A stage's
ETA needs its input size: the reader's is the expected record count when it is
known (:func:`expected_records`), a later stage's is what the stage before it
kept, once that stage has seen all of its own input.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Sequence
from typing import Any

from apache_beam.io.filesystems import FileSystems
from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn

from beam_swallow.io import split_patterns
from beam_swallow.records import Reason
from beam_swallow.reporting.live import LiveMetrics
from beam_swallow.stage import DEAD_LETTER, KEPT, METRICS_NAMESPACE

__all__ = ["StageCounts", "StageProgress", "expected_records", "stage_counts"]

REFRESH_SECONDS = 0.5
_REASONS = {value for name, value in vars(Reason).items() if name.isupper()}
_COUNTABLE_BYTES = 1 << 30  # count lines of plain JSONL inputs up to 1 GiB


StageCounts = dict[str, int]  # "in", "kept", "rejected", "dead"


def stage_counts(counters: dict[tuple[str, str], int], stage: str) -> StageCounts:
    """One stage's exits from the counter totals."""
    kept = dead = rejected = 0
    for (namespace, name), value in counters.items():
        prefix, _, suffix = name.partition(".")
        if namespace != METRICS_NAMESPACE or prefix != stage:
            continue
        if suffix == KEPT:
            kept += value
        elif suffix == DEAD_LETTER:
            dead += value
        elif suffix in _REASONS:
            rejected += value
    return StageCounts(
        {"in": kept + rejected + dead, "kept": kept, "rejected": rejected, "dead": dead}
    )


def expected_records(pattern: str) -> int | None:
    """Records the input holds, where that is cheap to know; else None.

    Parquet footers give row counts (but a row of The Stack v2's repository
    layout holds many files: no count); uncompressed JSONL is counted by lines
    (blank lines too, so it is an estimate) up to 1 GiB in all; compressed
    input would have to be decompressed, so it has no expected size.
    """
    total = 0
    paths = []
    for match in FileSystems.match(split_patterns(pattern)):
        paths.extend(match.metadata_list)
    if sum(m.size_in_bytes for m in paths if not m.path.endswith(".parquet")) > _COUNTABLE_BYTES:
        return None
    for meta in paths:
        if meta.path.endswith(".parquet"):
            import pyarrow.parquet as pq

            with FileSystems.open(meta.path) as handle:
                shard = pq.ParquetFile(handle)
                if "files" in shard.schema_arrow.names:  # Stack v2 repositories, not files
                    return None
                total += shard.metadata.num_rows
        elif meta.path.endswith((".jsonl", ".json")):
            with FileSystems.open(meta.path) as handle:
                data = handle.read()
            total += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        else:
            return None
    return total


class StageProgress:
    """A rich display of per-stage counts, refreshed from ``live`` until closed."""

    def __init__(
        self,
        live: LiveMetrics,
        stages: Sequence[str],
        expected: int | None = None,
        console: Console | None = None,
    ):
        self._live = live
        self._stages = list(stages)
        self._expected = expected
        # one short line per stage: fits an 80-column terminal
        self._progress = Progress(
            TextColumn("{task.description:<13.13}"),
            TextColumn(
                "in {task.completed:>8,.0f} kept {task.fields[kept]:>8,} "
                "rej {task.fields[rejected]:>7,} dead {task.fields[dead]:>5,}"
            ),
            TextColumn("{task.fields[rate]:>7}/s"),
            TextColumn("{task.fields[eta]}"),
            console=console,
            refresh_per_second=1 / REFRESH_SECONDS,
        )
        self._tasks: dict[str, TaskID] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="beam-swallow-display")

    def __enter__(self) -> StageProgress:
        for stage in self._stages:
            self._tasks[stage] = self._progress.add_task(
                stage, total=None, kept=0, rejected=0, dead=0, rate="-", eta=""
            )
        self._started = time.monotonic()
        self._progress.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._done.set()
        self._thread.join()
        self.update()
        self._progress.stop()

    def _loop(self) -> None:
        while not self._done.wait(REFRESH_SECONDS):
            self.update()

    def update(self) -> None:
        """Redraw every stage from the latest counter totals."""
        counters = self._live.snapshot()
        elapsed = max(time.monotonic() - self._started, 1e-9)
        total = self._expected
        for stage in self._stages:
            counts = stage_counts(counters, stage)
            rate = counts["in"] / elapsed
            self._progress.update(
                self._tasks[stage],
                completed=counts["in"],
                total=total,
                kept=counts["kept"],
                rejected=counts["rejected"],
                dead=counts["dead"],
                rate=f"{rate:,.1f}" if counts["in"] else "-",
                eta=_eta(total, counts["in"], rate),
            )
            # the next stage's input is known once this one has seen all of its own
            total = counts["kept"] if total is not None and counts["in"] >= total else None


def _eta(total: int | None, done: int, rate: float) -> str:
    """``ETA 0:01:05`` while a stage with a known input runs; ``done`` when it has all."""
    if total is None:
        return ""
    if done >= total:
        return "done"
    if not rate:
        return "ETA -"
    return f"ETA {datetime.timedelta(seconds=round((total - done) / rate))}"
