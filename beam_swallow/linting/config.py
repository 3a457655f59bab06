"""The lint stage's settings: the one home of their defaults and checks.

``min_quality`` is the paper's threshold on the comment-penalized pylint score
(7.0). ``timeout_s`` bounds one file's check (the original had none: a file can
hang astroid's inference forever). ``workers`` is the number of warm lint
processes per pipeline worker (``None``: that worker's CPU count, decided where
the pool starts, not where the graph is built). ``slow_timeout_s`` bounds the second try, alone in
the pool's slow lane, of a file that ran out of ``timeout_s`` (``None``:
``SLOW_FACTOR`` times ``timeout_s``; 0: no second try). ``recycle_after`` replaces a
worker after that many files, to bound its memory. ``keep_pool`` lets a pool
outlive the DoFn that started it, for runners that set a DoFn up and tear it
down around every bundle (Beam's streaming DirectRunner: a bundle is one pull
of at most 10 Pub/Sub messages), where starting warm workers per bundle would
cost more than the bundle's files.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from beam_swallow.linting.pool import SLOW_FACTOR, LintPool, check_limits, default_workers

__all__ = ["LintConfig"]

# Started pools between bundles (``keep_pool``), per config; idle ones close at process exit.
_SHELF: dict[LintConfig, list[LintPool]] = {}
_SHELF_LOCK = threading.Lock()


@dataclass(frozen=True)
class LintConfig:
    """How files are scored and which are kept; raises ValueError on impossible values."""

    min_quality: float = 7.0
    timeout_s: float = 120.0
    workers: int | None = None
    recycle_after: int = 500
    keep_pool: bool = False
    slow_timeout_s: float | None = None

    def __post_init__(self) -> None:
        check_limits(self.workers, self.timeout_s, self.recycle_after, self.slow_bound)

    @property
    def slow_bound(self) -> float | None:
        """The slow lane's per-file bound in seconds; None when there is no second try."""
        if self.slow_timeout_s is None:
            return SLOW_FACTOR * self.timeout_s
        return self.slow_timeout_s or None

    def pool(self) -> LintPool:
        """A pool of warm lint workers with these settings, sized on this machine."""
        return LintPool(
            self.workers or default_workers(), self.timeout_s, self.recycle_after, self.slow_bound
        )

    def take_pool(self) -> LintPool:
        """A started pool for one user at a time: an idle kept one, else a new one."""
        if self.keep_pool:
            with _SHELF_LOCK:
                idle = _SHELF.get(self)
                if idle:
                    return idle.pop()
        pool = self.pool()
        pool.start()
        return pool

    def release_pool(self, pool: LintPool) -> None:
        """Close ``pool``, or with ``keep_pool`` keep it for the next :meth:`take_pool`
        (only with nothing in flight: a bundle that failed part way leaves results
        its next user would not know)."""
        if not self.keep_pool or pool.in_flight:
            pool.close()
            return
        with _SHELF_LOCK:
            _SHELF.setdefault(self, []).append(pool)
