"""The exact parsers that are command-line programs: ``gofmt -e`` (Go), ``rustfmt`` (Rust),
``bash -n`` (Shell).

gofmt and rustfmt start in a few milliseconds and take many files per call, so
a batch is written to a temporary folder and checked by one process; the
errors they print name the file, line and column (both count from 1). rustfmt
runs with ``--edition 2021`` (its default edition, 2015, rejects ``async fn``)
and ``--config skip_children=true`` (given paths, it would otherwise follow
``mod x;`` to files a lone file does not have), in ``--check`` mode so it writes
nothing; a file it only reformats passes. ``bash -n`` checks one script per
process, so each file is one call, its text on stdin.

A call that fails as a whole (the program cannot start, crashes, or runs out
of its timeout, when it is killed) raises ToolError; the caller makes the
batch's records dead letters.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from beam_swallow.languages.batch_files import scratch, write_sources
from beam_swallow.languages.formatting.gofmt import INSTALL as GO_INSTALL
from beam_swallow.languages.formatting.gofmt import Gofmt
from beam_swallow.languages.formatting.rustfmt import INSTALL as RUST_INSTALL
from beam_swallow.languages.formatting.rustfmt import RUSTFMT_ARGS, Rustfmt, rustfmt_errors
from beam_swallow.languages.parsing.config import ParseVerdict
from beam_swallow.languages.tools import ToolError, find_tool, run_tool, tool_version

__all__ = ["COMMANDS", "check_bash", "check_gofmt", "check_rustfmt"]

_BASH_INSTALL = "apt-get install bash"
_GOFMT_ERROR = re.compile(r"^(?P<file>\d+)\.go:(?P<line>\d+):(?P<column>\d+): (?P<message>.*)$")
_BASH_ERROR = re.compile(r"^(?:[^:]*: )?(?:line (?P<line>\d+): )?(?P<message>.*)$")
_BASH_VERSION = re.compile(r"version (\S+)")


def _batch_folder(sources: list[str], suffix: str) -> tuple[tempfile.TemporaryDirectory, list[str]]:
    folder = tempfile.TemporaryDirectory(prefix="beam-swallow-parse-", dir=scratch(sources))
    return folder, write_sources(Path(folder.name), sources, suffix, errors="surrogatepass")


def _verdicts(
    sources: list[str], checker: str, errors: dict[int, tuple[int, int, str]]
) -> list[ParseVerdict]:
    out = []
    for index in range(len(sources)):
        if index in errors:
            line, column, message = errors[index]
            out.append(ParseVerdict.rejected(checker, message, line, column))
        else:
            out.append(ParseVerdict(True, checker))
    return out


def check_gofmt(sources: list[str], timeout_s: float) -> list[ParseVerdict]:
    """``gofmt -e -l`` over the batch, one process: a file it names an error in is rejected."""
    gofmt = Gofmt()
    checker = gofmt.label()
    folder, names = _batch_folder(sources, ".go")
    with folder:
        done = run_tool(
            [*gofmt.command(), "-e", "-l", *names],
            timeout_s=timeout_s,
            cwd=folder.name,
        )
    errors: dict[int, tuple[int, int, str]] = {}
    for line in done.stderr.splitlines():
        found = _GOFMT_ERROR.match(line)
        if found:
            errors.setdefault(
                int(found["file"]), (int(found["line"]), int(found["column"]), found["message"])
            )
    if done.returncode not in (0, 2) or (done.returncode == 2 and not errors):
        raise ToolError(f"gofmt exited {done.returncode}: {done.stderr[:500]}")
    return _verdicts(sources, checker, errors)


def check_rustfmt(sources: list[str], timeout_s: float) -> list[ParseVerdict]:
    """``rustfmt --edition 2021 --check`` over the batch, one process: a file it reports an
    ``error`` in is rejected; a file it would only reformat passes."""
    rustfmt = Rustfmt()
    checker = rustfmt.label()
    folder, names = _batch_folder(sources, ".rs")
    with folder:
        done = run_tool(
            [*rustfmt.command(), *RUSTFMT_ARGS, "--check", *names],
            timeout_s=timeout_s,
            cwd=folder.name,
        )
    errors: dict[int, tuple[int, int, str]] = {}
    for path, line, column, message in rustfmt_errors(done.stderr):
        stem = Path(path).stem
        if stem.isdigit():
            errors.setdefault(int(stem), (line, column, message))
    if done.returncode not in (0, 1) or (done.returncode == 1 and not errors and not done.stdout):
        raise ToolError(f"rustfmt exited {done.returncode}: {done.stderr[:500]}")
    return _verdicts(sources, checker, errors)


def check_bash(sources: list[str], timeout_s: float) -> list[ParseVerdict]:
    """``bash -n`` on each file's text (one process a file: bash checks one script a call)."""
    bash = find_tool("bash", _BASH_INSTALL)
    said_version = _BASH_VERSION.search(tool_version((bash, "--version")))
    checker = f"bash {said_version[1] if said_version else 'unknown'}"
    out = []
    for source in sources:
        done = run_tool([bash, "-n"], stdin=source, timeout_s=timeout_s)
        if done.returncode == 0:
            out.append(ParseVerdict(True, checker))
            continue
        said = [
            line for line in done.stderr.splitlines() if line.strip() and "warning:" not in line
        ]
        if not said:
            raise ToolError(f"bash -n exited {done.returncode} and said nothing")
        found = _BASH_ERROR.match(said[0])  # "/usr/bin/bash: line 3: syntax error near ..."
        line = int(found["line"]) if found and found["line"] else None
        out.append(ParseVerdict.rejected(checker, found["message"] if found else said[0], line))
    return out


# language -> (the check, the tools it needs as (program, how to install it)).
COMMANDS: dict[
    str, tuple[Callable[[list[str], float], list[ParseVerdict]], tuple[tuple[str, str], ...]]
] = {
    "Go": (check_gofmt, (("gofmt", GO_INSTALL),)),
    "Rust": (check_rustfmt, (("rustfmt", RUST_INSTALL),)),
    "Shell": (check_bash, (("bash", _BASH_INSTALL),)),
}
