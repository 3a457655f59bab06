"""A pool of warm lint workers with a hard per-file timeout.

Each worker is a long-lived ``python`` process holding one
:class:`~beam_swallow.linting.checker.WarmLinter` (see
:mod:`beam_swallow.linting.worker`), so no process starts per file and the
parsed standard library stays warm. Sources are fed continuously:
:meth:`LintPool.submit` queues one and hands it to the first free worker,
:meth:`LintPool.collect` returns the results that are ready by ticket (waiting
for as many as asked), so a worker that finishes a file takes the next one at
once and no file waits for a slower neighbour. :meth:`LintPool.map` is the
two for a list. :meth:`LintPool.start` launches the workers without waiting
for them, so they import pylint while the caller does other work. Every
submitted source gets one :class:`LintResult`, whatever happens:

- a file that takes longer than ``timeout_s`` has its worker (only that one)
  killed and replaced; with a ``slow_timeout_s`` it is then tried once more in
  the *slow lane*: one extra worker, started when first needed, that checks such
  files one at a time with that longer bound while the main workers go on with
  the rest (a file astroid needs minutes for is rare, and slow, not broken);
  only when that runs out too (or without a slow lane) does it get status
  ``timeout``;
- a worker that dies under a file (killed from outside, out of memory, a
  segfault) is replaced and the file is tried once more on a fresh worker; a
  second death gives status ``error``;
- a worker is retired after ``recycle_after`` files so memory stays bounded.

Each worker has a private directory under one temporary root, holding only
the file it is checking and its stderr log; a killed worker's leftovers are
removed with its directory, and the root goes away in :meth:`LintPool.close`
(or when the pool is garbage-collected, or at interpreter exit). Should the
pool's process die without any of that, each worker notices, removes its own
directory and exits. Not thread-safe: one caller
at a time. A worker that cannot start three times in a row raises
``RuntimeError`` (a broken installation is not a property of a file).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from beam_swallow.linting.score import LintResult, Status
from beam_swallow.linting.worker import read_frame, write_frame
from beam_swallow.machine import usable_cpus

__all__ = ["SLOW_FACTOR", "LintPool", "PoolStats", "check_limits", "default_workers"]

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# The package root is on the path only while the worker module is imported:
# afterwards sys.path must be what the pylint CLI would see.
_BOOTSTRAP = (
    f"import sys; sys.path.insert(0, {_PACKAGE_ROOT!r}); "
    "from beam_swallow.linting.worker import main; "
    f"sys.path.remove({_PACKAGE_ROOT!r}); main()"
)
_START_TIMEOUT_S = 300.0
_MAX_START_FAILURES = 3
_MAX_TRIES = 2
_LOG_NAME = "worker.log"  # the worker's stderr, beside the file it checks
# The slow lane's bound when none is given: ten times the main one.
SLOW_FACTOR = 10.0


def check_limits(
    workers: int | None, timeout_s: float, recycle_after: int, slow_timeout_s: float | None = None
) -> None:
    """Raise ValueError unless the pool's limits are possible (``workers=None``: decide later;
    ``slow_timeout_s=None``: no slow lane)."""
    if workers is not None and workers < 1:
        raise ValueError(f"lint workers must be >= 1, got {workers}")
    if not timeout_s > 0:
        raise ValueError(f"lint timeout must be positive, got {timeout_s}")
    if recycle_after < 1:
        raise ValueError(f"lint recycle_after must be >= 1, got {recycle_after}")
    if slow_timeout_s is not None and not slow_timeout_s >= timeout_s:
        raise ValueError(
            f"lint slow timeout ({slow_timeout_s:g}s) must be at least the lint timeout "
            f"({timeout_s:g}s), or 0 for no second try"
        )


def default_workers() -> int:
    """Workers when none are asked for: one per CPU this process may run on."""
    return usable_cpus()


@dataclass
class PoolStats:
    """What the pool has done so far (for tests, benchmarks and logs)."""

    started: int = 0
    recycled: int = 0
    timeouts: int = 0  # files whose time ran out, in either lane
    slow: int = 0  # files given their second try in the slow lane
    deaths: int = 0
    files: int = 0
    peak_rss_kb: int = 0  # the most any worker held after a file
    rss_kb_sum: int = 0  # over files, for the mean

    @property
    def mean_rss_kb(self) -> float:
        """A worker's resident memory after a file, averaged over files."""
        return self.rss_kb_sum / self.files if self.files else 0.0


class _Worker:
    """One worker process, its private directory and its current task."""

    def __init__(self, root: str, number: int) -> None:
        self.dir = os.path.join(root, f"worker-{number}")
        self.log = os.path.join(self.dir, _LOG_NAME)
        os.mkdir(self.dir)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOTSTRAP],
                cwd=self.dir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                bufsize=0,
            )
        self.ready = False
        self.task: int | None = None
        self.deadline = time.monotonic() + _START_TIMEOUT_S
        self.done = 0

    def fileno(self) -> int:
        return self.proc.stdout.fileno()

    def send(self, task: int, text: str, timeout_s: float) -> bool:
        """Hand the worker a file; False when it is already dead."""
        self.task = task
        self.deadline = time.monotonic() + timeout_s
        try:
            write_frame(self.proc.stdin, {"id": task, "text": text})
        except OSError:  # BrokenPipeError: it died while idle
            return False
        return True

    def log_tail(self) -> str:
        try:
            return Path(self.log).read_text(encoding="utf-8", errors="replace")[-1500:]
        except OSError:
            return ""

    def stop(self, kill: bool) -> None:
        """End the process (politely unless ``kill``) and remove its files."""
        if kill:
            self.proc.kill()
        else:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=None if kill else 10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def _shutdown(lanes: list[list[_Worker | None]], root: str) -> None:
    for slots in lanes:
        for worker in slots:
            if worker is not None:
                worker.stop(kill=True)
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class _Lane:
    """Worker slots that share one queue and one per-file time bound."""

    slots: list[_Worker | None]
    timeout_s: float
    queue: deque[int] = field(default_factory=deque)  # tickets waiting for a free worker


class LintPool:
    """``workers`` warm lint processes (plus a slow lane with ``slow_timeout_s``); see the
    module docstring.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        workers: int,
        timeout_s: float,
        recycle_after: int,
        slow_timeout_s: float | None = None,
    ) -> None:
        check_limits(workers, timeout_s, recycle_after, slow_timeout_s)
        self.timeout_s = timeout_s
        self.slow_timeout_s = slow_timeout_s
        self.recycle_after = recycle_after
        self.stats = PoolStats()
        self._root = tempfile.mkdtemp(prefix="beam-swallow-lint-")
        self._main = _Lane([None] * workers, timeout_s)
        self._slow = None if slow_timeout_s is None else _Lane([None], slow_timeout_s)
        self._lanes = [lane for lane in (self._main, self._slow) if lane is not None]
        self._numbers = iter(range(sys.maxsize))
        self._tickets = iter(range(sys.maxsize))
        self._start_failures = 0
        self._texts: dict[int, str] = {}  # submitted, no result yet
        self._tries: dict[int, int] = {}
        self._finished: dict[int, LintResult] = {}  # results not collected yet
        self._finalizer = weakref.finalize(
            self, _shutdown, [lane.slots for lane in self._lanes], self._root
        )

    @property
    def size(self) -> int:
        """How many main worker processes the pool keeps (the slow lane not counted)."""
        return len(self._main.slots)

    def __enter__(self) -> LintPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker and remove the temporary root."""
        for lane in self._lanes:
            for index, worker in enumerate(lane.slots):
                if worker is not None:
                    worker.stop(kill=not worker.ready or worker.task is not None)
                    lane.slots[index] = None
        self._finalizer()

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers, the slow lane's last."""
        return [w.proc.pid for lane in self._lanes for w in lane.slots if w is not None]

    def start(self) -> None:
        """Launch every main worker now, without waiting for them to be ready."""
        self._start_workers(self._main, self.size)

    @property
    def in_flight(self) -> int:
        """Sources submitted whose results have not been collected yet."""
        return len(self._texts) + len(self._finished)

    def submit(self, text: str) -> int:
        """Queue one source; returns its ticket. A free worker gets it at once."""
        ticket = next(self._tickets)
        self._texts[ticket] = text
        self._tries[ticket] = 0
        self._main.queue.append(ticket)
        self._dispatch()
        return ticket

    def collect(self, wait_for: int = 0) -> dict[int, LintResult]:
        """The results ready now, by ticket, once at least ``wait_for`` are (or all in flight)."""
        wanted = min(wait_for, self.in_flight)
        self._wait_once(poll=True)
        while len(self._finished) < wanted:
            self._wait_once(poll=False)
        ready, self._finished = self._finished, {}
        return ready

    def map(self, sources: Sequence[str]) -> list[LintResult]:
        """Lint every source; one result per source, in order. Nothing else may be in flight."""
        if self.in_flight:
            raise RuntimeError("map() needs a pool with nothing in flight")
        tickets = [self.submit(source) for source in sources]
        results = self.collect(wait_for=len(tickets))
        return [results[ticket] for ticket in tickets]

    def _dispatch(self) -> None:
        """Start workers for queued sources and hand each free, ready worker the next one."""
        for lane in self._lanes:
            self._start_workers(lane, len(lane.queue))
            for worker in list(lane.slots):
                if lane.queue and worker is not None and worker.ready and worker.task is None:
                    ticket = lane.queue.popleft()
                    self._tries[ticket] += 1
                    if not worker.send(ticket, self._texts[ticket], lane.timeout_s):
                        self._lost(worker)

    def _finish(self, ticket: int, result: LintResult) -> None:
        del self._texts[ticket], self._tries[ticket]
        self._finished[ticket] = result

    def _start_workers(self, lane: _Lane, wanted: int) -> None:
        for index, worker in enumerate(lane.slots):
            if wanted <= 0:
                return
            if worker is None:
                lane.slots[index] = _Worker(self._root, next(self._numbers))
                self.stats.started += 1
                worker = lane.slots[index]
            if not worker.ready or worker.task is None:
                wanted -= 1

    def _lane_of(self, worker: _Worker) -> _Lane | None:
        return next((lane for lane in self._lanes if worker in lane.slots), None)

    def _wait_once(self, poll: bool) -> None:
        """Read what the workers sent (waiting until one does, unless ``poll``); then dispatch."""
        live = [w for lane in self._lanes for w in lane.slots if w is not None]
        waiting = [w for w in live if w.task is not None or not w.ready]
        if not waiting:
            self._dispatch()
            return
        timeout = 0.0 if poll else max(0.0, min(w.deadline for w in waiting) - time.monotonic())
        for worker in wait(live, timeout):
            frame = read_frame(worker.proc.stdout)
            if frame is None:
                self._lost(worker)
            elif frame.get("ready"):
                worker.ready = True
                self._start_failures = 0
            else:
                self._finish(frame["id"], LintResult(**frame["result"]))
                self.stats.files += 1
                self.stats.peak_rss_kb = max(self.stats.peak_rss_kb, frame["rss_kb"])
                self.stats.rss_kb_sum += frame["rss_kb"]
                worker.task = None
                worker.done += 1
                if worker.done >= self.recycle_after:
                    self._remove(worker, kill=False)
                    self.stats.recycled += 1
        now = time.monotonic()
        for worker in waiting:
            lane = self._lane_of(worker)
            still_waiting = worker.task is not None or not worker.ready
            if still_waiting and lane is not None and worker.deadline <= now:
                if worker.task is None:
                    self._remove(worker, kill=True)
                    raise RuntimeError(f"lint worker did not start in {_START_TIMEOUT_S:.0f}s")
                self._timed_out(worker, lane)
        self._dispatch()

    def _timed_out(self, worker: _Worker, lane: _Lane) -> None:
        """Kill a worker whose file ran out of time; the file's second try, or its result."""
        ticket = worker.task
        self.stats.timeouts += 1
        self._remove(worker, kill=True)
        if lane is self._main and self._slow is not None:
            self.stats.slow += 1
            self._tries[ticket] = 0  # a fresh start: the slow lane retries a death too
            self._slow.queue.append(ticket)
            return
        alone = "" if lane is self._main else f", nor alone within {lane.timeout_s:g}s"
        self._finish(
            ticket,
            LintResult(
                Status.TIMEOUT,
                error=f"no result within {self.timeout_s:g}s{alone}; worker killed",
            ),
        )

    def _lost(self, worker: _Worker) -> None:
        """A worker's pipe closed: it died. Retry its file once, or give up on it."""
        code = worker.proc.wait()
        detail = f"lint worker exited with code {code}: {worker.log_tail()}".strip()
        task = worker.task
        lane = self._lane_of(worker)
        self._remove(worker, kill=True)
        if not worker.ready:
            self._start_failures += 1
            if self._start_failures >= _MAX_START_FAILURES:
                raise RuntimeError(f"lint workers fail to start; last one said: {detail}")
            return
        self.stats.deaths += 1
        if task is None:
            return
        if self._tries[task] < _MAX_TRIES:
            lane.queue.appendleft(task)
        else:
            self._finish(task, LintResult(Status.ERROR, error=detail[-2000:]))

    def _remove(self, worker: _Worker, kill: bool) -> None:
        slots = self._lane_of(worker).slots
        slots[slots.index(worker)] = None
        worker.stop(kill=kill)
