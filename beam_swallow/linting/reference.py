"""The reference the lint engine is held to: the ``pylint`` CLI on one file alone.

:func:`cli_score` runs ``python -m pylint`` with the stage's flags on one file
in a fresh empty directory, with an empty $HOME and no $PYLINTRC, $PYTHONPATH
or $XDG_CONFIG_HOME, so no rc file can leak in, and reads the "rated at X/10"
line. The file is saved in the encoding its coding line declares. One process per file: this is also the original SwallowCode method,
which is why the lint benchmark uses it as its baseline.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from beam_swallow.linting.score import PYLINT_FLAGS
from beam_swallow.linting.source import encode_source

__all__ = ["cli_score"]

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
