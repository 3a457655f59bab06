"""The lint stage's settings: the one home of their defaults and checks.

``min_quality`` is the paper's threshold on the comment-penalized pylint score
(7.0). ``timeout_s`` bounds one file's check (the original had none: a file can
hang astroid's inference forever). ``workers`` is the number of warm lint
processes per pipeline worker (``None``: that worker's CPU count, decided where
the pool starts, not where the graph is built). ``recycle_after`` replaces a
worker after that many files, to bound its memory.
"""

from __future__ import annotations

from dataclasses import dataclass

from beam_swallow.linting.pool import LintPool, check_limits, default_workers

__all__ = ["LintConfig"]


@dataclass(frozen=True)
class LintConfig:
    """How files are scored and which are kept; raises ValueError on impossible values."""

    min_quality: float = 7.0
    timeout_s: float = 120.0
    workers: int | None = None
    recycle_after: int = 500

    def __post_init__(self) -> None:
        check_limits(self.workers, self.timeout_s, self.recycle_after)

    def pool(self) -> LintPool:
        """A pool of warm lint workers with these settings, sized on this machine."""
        return LintPool(self.workers or default_workers(), self.timeout_s, self.recycle_after)
