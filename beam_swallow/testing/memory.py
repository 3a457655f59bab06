"""Peak resident memory of a job: this process, its descendants and named daemons.

A local run's memory is this process and what it starts (SDK workers, lint
processes, Flink's job server); a run on the local Flink cluster also lives in
the JobManager and TaskManager daemons, which are nobody's children here, so
they are passed in as ``extra`` pids. Resident set sizes are summed over all
of them every ``interval_s`` seconds; pages shared between processes count
once per process, so the figure is an upper bound of what the job holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import psutil

__all__ = ["PeakMemory", "tree_rss"]


def tree_rss(extra: Iterable[int] = ()) -> int:
    """Bytes resident now in this process, its descendants, ``extra`` and theirs."""
    roots = [psutil.Process(), *(_process(pid) for pid in extra)]
    seen: dict[int, psutil.Process] = {}
    for root in roots:
        if root is None:
            continue
        try:
            family = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        seen.update((p.pid, p) for p in family)
    total = 0
    for process in seen.values():
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue  # ended between the listing and the read
    return total


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


class PeakMemory:
    """Context manager sampling :func:`tree_rss` in a thread; ``peak`` in bytes.

    ``extra`` is called at every sample, so daemons that restart are followed.
    """

    def __init__(self, extra: Callable[[], Iterable[int]] = tuple, interval_s: float = 0.2):
        self.peak = 0
        self._extra = extra
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self.peak = tree_rss(self._extra())
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss(self._extra()))

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.peak = max(self.peak, tree_rss(self._extra()))
