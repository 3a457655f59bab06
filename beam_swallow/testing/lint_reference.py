"""The reference the lint engine is held to, and real inputs to hold it on.

:func:`cli_score` is the ``pylint`` CLI on one file alone: it runs
``python -m pylint`` with the stage's flags on one file in a fresh empty
directory, with an empty $HOME and no $PYLINTRC, $PYTHONPATH or
$XDG_CONFIG_HOME, so no rc file can leak in, and reads the "rated at X/10"
line. The file is saved in the encoding its coding line declares. One process
per file: this is also the original SwallowCode method, which is why the lint
benchmark uses it as its baseline.

:func:`stdlib_sources` picks real standard-library files; :func:`hanging_source`
is a valid file on which astroid's inference hangs, for the timeout tests.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from beam_swallow.linting.score import PYLINT_FLAGS
from beam_swallow.linting.source import encode_source
from beam_swallow.samples import code_sample_records

__all__ = ["HANG_TIMEOUT_S", "cli_score", "hanging_source", "stdlib_sources"]

# A lint timeout for tests with a hanging file: far longer than any ordinary
# test file takes on a loaded machine, far shorter than the hanging file needs.
HANG_TIMEOUT_S = 20.0

_RATED = re.compile(r"rated at (-?\d+\.\d+)/10")
_CONFIG_VARIABLES = frozenset({"PYLINTRC", "PYTHONPATH", "XDG_CONFIG_HOME"})


def cli_score(source: str) -> float | None:
    """The note the pylint CLI prints for ``source`` alone; None when it prints none."""
    with tempfile.TemporaryDirectory() as tmp:
        home, work = Path(tmp, "home"), Path(tmp, "work")
        home.mkdir()
        work.mkdir()
        (work / "snippet.py").write_bytes(encode_source(source))
        env = {k: v for k, v in os.environ.items() if k not in _CONFIG_VARIABLES}
        env["HOME"] = str(home)
        done = subprocess.run(
            [sys.executable, "-m", "pylint", *PYLINT_FLAGS, "snippet.py"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        leftovers = sorted(os.listdir(work))
        if leftovers != ["snippet.py"]:
            raise RuntimeError(f"the pylint CLI left files behind: {leftovers}")
    match = _RATED.search(done.stdout)
    return float(match.group(1)) if match else None


def stdlib_sources(count: int, max_bytes: int = 12_000) -> list[str]:
    """``count`` real, parseable standard-library files (a fixed pick)."""
    sources = []
    for record in code_sample_records(count * 3, max_bytes=max_bytes):
        try:
            ast.parse(record["text"])
        except SyntaxError:
            continue
        sources.append(record["text"])
        if len(sources) == count:
            break
    return sources


def hanging_source() -> str:
    """A valid file on which astroid's inference runs for hours (minutes on newer CPython).

    astroid folds integer arithmetic on constants by doing it: repeated squaring
    builds a number of ~80 million bits, then ``%`` divides a number twice that
    size by it (quadratic in CPython 3.11). Memory stays near 100 MB.
    """
    lines = ["A0 = 3 ** 99999"]
    lines += [f"A{i} = A{i - 1} * A{i - 1}" for i in range(1, 10)]
    lines += ["B = A9 * A9 + 1", "print((B % (A9 + 7)).bit_length())"]
    return "\n".join(lines) + "\n"
