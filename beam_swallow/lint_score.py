"""``beam-swallow lint-score``: score files as the lint stage does, one JSON line each.

Same engine as the pipeline stage (a :class:`~beam_swallow.linting.pool.LintPool`),
so a file's line here is what its record gets there::

    {"path": "a.py", "pylint_score": 8.5, "comment_ratio": 0.04, "score": 8.16, "status": "ok"}

``pylint_score`` is pylint's note as its CLI prints it, ``score`` the
comment-penalized one; both are null unless ``status`` is ``ok``. Other
statuses: ``no_statements``, ``unparsable``, ``timeout`` and ``error`` (the
last three add an ``error`` field). A file that runs out of ``--lint_timeout``
is tried once more in the pool's slow lane (``--lint_slow_timeout``) while the
other files go on; only then is it a ``timeout``.

One line per argument, in order, matched by position (the same path given
twice gets two lines). A file is read as Python reads it (its BOM or coding
line, else UTF-8; see :mod:`~beam_swallow.linting.source`); one Python cannot
decode is ``unparsable``, as pylint finds it; a path that cannot be read (missing, a
directory, no permission) is an ``error``.
Exit status: 0, or 1 when any file ended in ``error``.
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from beam_swallow.jsonl import dumps
from beam_swallow.linting.config import LintConfig
from beam_swallow.linting.pool import LintPool
from beam_swallow.linting.score import LintResult, Status
from beam_swallow.linting.source import decode_source
from beam_swallow.options import add_lint_pool_arguments

__all__ = ["HELP", "main", "result_line"]

HELP = "Score Python files with the lint stage's engine; one JSON object per file."
_CHUNK_PER_WORKER = 16  # files in flight per worker


def result_line(path: str, result: LintResult) -> dict[str, Any]:
    """The JSON object printed for one file."""
    line: dict[str, Any] = {
        "path": path,
        "pylint_score": result.pylint_score,
        "comment_ratio": result.comment_ratio,
        "score": result.score,
        "status": result.status,
    }
    if result.error:
        line["error"] = result.error
    return line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="beam-swallow lint-score", description=HELP)
    parser.add_argument("files", nargs="+", metavar="FILE", help="Python files to score.")
    parser.add_argument(
        "--format", choices=("jsonl",), default="jsonl", help="Output format (JSON lines)."
    )
    add_lint_pool_arguments(parser.add_argument_group("lint worker pool"))
    return parser


def _read(path: str) -> str | LintResult:
    """The file's text as Python reads it, or the result for a file with none."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return LintResult(Status.ERROR, error=f"{type(exc).__name__}: {exc}")
    try:
        return decode_source(data)
    except (SyntaxError, UnicodeDecodeError) as exc:
        return LintResult(Status.UNPARSABLE, error=f"{type(exc).__name__}: {exc}")


def _ready(order: deque[tuple[str, int | LintResult]], done: dict[int, LintResult]):
    """The lines of the files at the head of ``order`` whose results are in."""
    while order:
        path, pending = order[0]
        if isinstance(pending, int):
            if pending not in done:
                return
            pending = done.pop(pending)
        order.popleft()
        yield result_line(path, pending)


def _score(pool: LintPool, paths: Sequence[str], window: int) -> Iterator[dict[str, Any]]:
    """One line per path, in order, with up to ``window`` files in flight.

    Files are fed as workers free up, so a file held for its second try in the
    slow lane holds back the printing of the lines after it, never their linting.
    """
    order: deque[tuple[str, int | LintResult]] = deque()
    done: dict[int, LintResult] = {}
    for path in paths:
        text = _read(path)
        order.append((path, text if isinstance(text, LintResult) else pool.submit(text)))
        if pool.in_flight >= window:
            done.update(pool.collect(wait_for=1))
        yield from _ready(order, done)
    while order:
        done.update(pool.collect(wait_for=1))
        yield from _ready(order, done)


def main(argv: list[str]) -> int:
    """Run the tool; returns the exit status."""
    args = _parser().parse_args(argv)
    cfg = LintConfig(
        timeout_s=args.lint_timeout,
        slow_timeout_s=args.lint_slow_timeout,
        workers=args.lint_workers,
        recycle_after=args.lint_recycle_after,
    )
    failed = False
    with cfg.pool() as pool:
        for line in _score(pool, args.files, _CHUNK_PER_WORKER * pool.size):
            failed |= line["status"] == Status.ERROR
            print(dumps(line), flush=True)
    return 1 if failed else 0
