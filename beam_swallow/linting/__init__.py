"""Scoring Python files with pylint, fast and exactly as the CLI does.

``score`` holds the flags and the arithmetic, ``checker`` one warm in-process
linter, ``build_effects`` what keeps its scores equal to a fresh process's,
``worker`` the process around it, ``pool`` the processes with their timeouts,
``reference`` the ``pylint`` CLI the scores are held to. The lint stage and the
``lint-score`` tool both use :class:`LintPool`.
"""

from beam_swallow.linting.pool import LintPool, PoolStats, default_workers
from beam_swallow.linting.score import (
    PYLINT_FLAGS,
    LintResult,
    Status,
    comment_ratio,
    penalized,
    pylint_note,
)

__all__ = [
    "PYLINT_FLAGS",
    "LintPool",
    "LintResult",
    "PoolStats",
    "Status",
    "comment_ratio",
    "default_workers",
    "penalized",
    "pylint_note",
]
