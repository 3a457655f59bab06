"""The lint pool's faults and bounds: timeouts, killed workers, recycling, temp files.

Nothing here depends on how fast the machine is: timeouts are far from what
ordinary files take, workers are killed while they certainly hold a file (the
hanging one), and what is checked is which processes live, not how many.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
from pathlib import Path

import pytest
from astroid.manager import AstroidManager

from beam_swallow.linting import LintPool, Status
from beam_swallow.linting.checker import WarmLinter
from beam_swallow.testing.lint_reference import HANG_TIMEOUT_S, hanging_source, stdlib_sources


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pids: list[int]) -> list[int]:
    """Pids still alive after giving the kernel up to a minute to reap them."""
    for _ in range(600):
        alive = [pid for pid in pids if _alive(pid)]
        if not alive:
            return []
        time.sleep(0.1)
    return alive


@pytest.fixture(scope="module")
def sources() -> list[str]:
    return stdlib_sources(24, max_bytes=6_000)


@pytest.fixture(scope="module")
def reference(sources) -> list:
    with LintPool(workers=2, timeout_s=300, recycle_after=10_000) as pool:
        return pool.map(sources)


def test_warm_linter_forgets_each_file(tmp_path, sources):
    linter = WarmLinter(tmp_path)
    before = set(AstroidManager().astroid_cache)
    notes = [linter.note(source) for source in sources[:5]]
    again = [linter.note(source) for source in sources[:5]]
    assert notes == again
    assert list(tmp_path.iterdir()) == []
    leftover = set(AstroidManager().astroid_cache) - before
    assert not [name for name in leftover if name.startswith("swallow_")]


def test_a_hanging_file_times_out_and_nothing_else_is_lost(sources, reference):
    batch = [sources[0], hanging_source(), *sources[1:6]]
    with LintPool(workers=2, timeout_s=HANG_TIMEOUT_S, recycle_after=10_000) as pool:
        pool.map(sources[:2])  # both workers started
        before = set(pool.worker_pids())
        results = pool.map(batch)
        assert pool.stats.timeouts == 1
        # only the stuck worker was killed: one of the two is gone, the other lives on
        gone = before - set(pool.worker_pids())
        assert len(gone) == 1 and _wait_gone(list(gone)) == []
        assert len(before & set(pool.worker_pids())) == 1
        assert pool.map(sources[6:10]) == reference[6:10]
        # it was replaced when work came (during the first map or the second)
        assert pool.stats.started == 3
        root = Path(pool._root)
        pids = pool.worker_pids()
    assert results[1].status == Status.TIMEOUT and results[1].pylint_score is None
    assert f"{HANG_TIMEOUT_S:g}s" in results[1].error
    assert [results[0], *results[2:]] == reference[:6]
    assert not root.exists()
    assert _wait_gone(pids) == []


def test_files_stream_past_a_stuck_one(sources, reference):
    """Fed one by one, each file is returned as soon as it is scored, not with its neighbours.

    One worker holds a hanging file (its timeout far away); every file submitted
    after it still comes back, from the other worker, before the hang ends.
    """
    with LintPool(workers=2, timeout_s=600, recycle_after=10_000) as pool:
        pool.start()  # launched at once, before any file
        assert pool.stats.started == 2 and len(pool.worker_pids()) == 2
        stuck = pool.submit(hanging_source())
        tickets = [pool.submit(source) for source in sources[:4]]
        ready: dict = {}
        while len(ready) < len(tickets):
            ready.update(pool.collect(wait_for=1))
        assert stuck not in ready and pool.in_flight == 1
        assert [ready[ticket] for ticket in tickets] == reference[:4]
        with pytest.raises(RuntimeError, match="nothing in flight"):
            pool.map(sources[:1])


def _kill_the_worker_on(pool: LintPool, task: int, times: int) -> None:
    """SIGKILL whichever worker holds ``task``, ``times`` times (it is retried after each)."""
    killed: set[int] = set()
    while len(killed) < times:
        holders = [w.proc.pid for w in list(pool._main.slots) if w is not None and w.task == task]
        fresh = [pid for pid in holders if pid not in killed]
        if fresh:
            os.kill(fresh[0], signal.SIGKILL)
            killed.add(fresh[0])
        time.sleep(0.05)


def test_a_worker_killed_mid_run_loses_nothing(sources, reference):
    """A worker dies under a file: the file is retried once, then given up; nothing else is lost.

    The file under the kills is the hanging one, so the worker certainly holds
    it when it is killed, whatever the machine's speed.
    """
    batch = [*sources[:4], hanging_source(), *sources[4:]]
    with LintPool(workers=2, timeout_s=600, recycle_after=10_000) as pool:
        box: dict = {}
        runner = threading.Thread(target=lambda: box.update(results=pool.map(batch)))
        runner.start()
        _kill_the_worker_on(pool, task=4, times=2)
        runner.join()
        assert pool.stats.deaths == 2
        assert pool.stats.timeouts == 0
    results = box["results"]
    assert results[4].status == Status.ERROR and "exited with code -9" in results[4].error
    assert [*results[:4], *results[5:]] == reference


def test_recycling_bounds_each_worker_and_memory(sources, reference):
    with LintPool(workers=1, timeout_s=300, recycle_after=6) as pool:
        results = pool.map(sources)
        recycled = pool.stats
        assert recycled.started == 4 and recycled.recycled == 4
    with LintPool(workers=1, timeout_s=300, recycle_after=10_000) as pool:
        assert pool.map(sources) == reference
        long_lived = pool.stats
    assert results == reference
    # Python rarely hands memory back, so a worker's RSS only grows with the
    # files it has seen; recycling keeps the average (and the tail) lower.
    assert recycled.mean_rss_kb < long_lived.mean_rss_kb
    assert 0 < recycled.peak_rss_kb <= long_lived.peak_rss_kb


def test_broken_text_is_an_error_not_a_crash():
    with LintPool(workers=1, timeout_s=300, recycle_after=10) as pool:
        broken, fine = pool.map(["x = '\udc80'\n", "x = 1\n"])
    assert broken.status == Status.ERROR and "UnicodeEncodeError" in broken.error
    assert fine.status == Status.OK and fine.pylint_score == 10.0


def test_a_closed_pool_lets_its_workers_exit_on_their_own():
    """Closing the input ends a worker with status 0 (its own exit, before the pool's
    patience runs out and it is killed), every reply read first."""
    with LintPool(workers=2, timeout_s=300, recycle_after=10) as pool:
        results = pool.map(["x = 1\n"] * 4)
        # a worker still starting when the pool closes is killed, on purpose (a pool closes at
        # once); on a loaded machine one worker can take all four files before the other is
        # up, so files go on until both have said they are ready
        while not all(worker is not None and worker.ready for worker in pool._main.slots):
            results += pool.map(["x = 1\n"])
        processes = [worker.proc for worker in pool._main.slots]
    assert [r.pylint_score for r in results] == [10.0] * len(results)
    assert [process.returncode for process in processes] == [0, 0]


def test_pool_rejects_impossible_limits():
    for workers, timeout_s, recycle in [(0, 1, 1), (1, 0, 1), (1, 1, 0)]:
        with pytest.raises(ValueError):
            LintPool(workers, timeout_s, recycle)


def test_temp_root_is_private_and_removed():
    before = set(Path(tempfile.gettempdir()).glob("beam-swallow-lint-*"))
    with LintPool(workers=2, timeout_s=300, recycle_after=5) as pool:
        pool.map(["x = 1\n"] * 12)
        during = set(Path(tempfile.gettempdir()).glob("beam-swallow-lint-*")) - before
        assert len(during) == 1
        workdirs = list(next(iter(during)).iterdir())
        assert all(sorted(p.name for p in d.iterdir()) == ["worker.log"] for d in workdirs)
    assert set(Path(tempfile.gettempdir()).glob("beam-swallow-lint-*")) == before


def test_a_kept_pool_serves_the_next_user_and_an_unfinished_one_is_closed():
    """keep_pool: what a runner that tears a DoFn down after every bundle needs."""
    from beam_swallow.linting.config import LintConfig

    cfg = LintConfig(workers=1, keep_pool=True)
    first = cfg.take_pool()
    [result] = first.map(["x = 1\n"])
    assert result.status == Status.OK
    cfg.release_pool(first)
    second = cfg.take_pool()
    assert second is first and second.worker_pids()  # warm, not restarted
    second.submit("y = 2\n")  # left in flight, as by a bundle that failed part way
    cfg.release_pool(second)
    third = cfg.take_pool()
    assert third is not first
    cfg.release_pool(third)
    assert cfg.take_pool() is third
    third.close()  # nothing is left on the shelf for the rest of the session
    plain = LintConfig(workers=1)
    pool = plain.take_pool()
    plain.release_pool(pool)
    again = plain.take_pool()
    assert again is not pool
    again.close()
