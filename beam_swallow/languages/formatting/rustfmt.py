"""Rust: ``rustfmt --edition 2021``, one process over a batch of files.

rustfmt's own default edition is 2015, which rejects ``async fn`` and other
syntax of every later edition (the issue's Facts), so the edition is given.
Its configuration is pinned to the defaults by ``--config-path`` naming an
empty ``rustfmt.toml``: no ``rustfmt.toml`` near the folder or the working
directory can change the result.

Given file paths, rustfmt also formats the files of out-of-line modules: ``mod
x;`` sends it looking for ``x.rs`` (a lone file has none: the file fails), and
``#[path = "..."]`` anywhere on the machine (a file that is not ours,
rewritten). ``--config skip_children=true`` stops that: rustfmt formats the
files it is given and follows no module, as it does on stdin. The option is
unstable, refused with a warning in a configuration file on the stable
channel but honoured on the command line; before any run, the rustfmt found
is asked whether it honours it (``--print-config current``), and one that
does not is refused as a whole (ToolMissing) rather than let loose on the
machine's files.

So ``rustfmt 0.rs 1.rs ...`` in a private folder writes what ``rustfmt
--edition 2021`` writes for each file's stdin. A file rustfmt cannot parse is
refused with its first error (``1:9: this file contains an unclosed
delimiter``).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from beam_swallow.languages.formatting.batch import (
    FormatConfig,
    FormatOutcome,
    Refusals,
    format_in_folder,
)
from beam_swallow.languages.formatting.formatter import Formatter
from beam_swallow.languages.tools import ToolError, ToolMissing, find_tool, run_tool, tool_version

__all__ = ["EDITION", "INSTALL", "RUSTFMT_ARGS", "Rustfmt", "rustfmt_errors"]

INSTALL = "install Rust's toolchain with its rustfmt component (rustup component add rustfmt)"
EDITION = "2021"
RUSTFMT_ARGS = ("--edition", EDITION, "--config", "skip_children=true")
_CONFIG = "rustfmt.toml"
_REFUSED = 1
_HEADER = re.compile(r"^(?:error|warning)(?:\[[^\]]*\])?: (?P<message>.*)$")
_ARROW = re.compile(r"^\s*--> (?P<path>.+):(?P<line>\d+):(?P<column>\d+)$")


def rustfmt_errors(stderr: str) -> list[tuple[str, int, int, str]]:
    """``(path, line, column, message)`` of each error rustfmt reports on stderr (an
    ``error`` header, then its ``--> path:line:column``; a warning's location is skipped)."""
    found = []
    message = None
    for line in stderr.splitlines():
        header = _HEADER.match(line)
        if header:
            message = header["message"] if line.startswith("error") else None
            continue
        arrow = _ARROW.match(line)
        if arrow and message is not None:
            found.append((arrow["path"], int(arrow["line"]), int(arrow["column"]), message))
            message = None
    return found


@cache
def _skips_children(rustfmt: str) -> bool:
    """Whether this rustfmt takes ``skip_children=true`` from the command line."""
    with tempfile.TemporaryDirectory(prefix="beam-swallow-rustfmt-") as home:
        done = run_tool(
            [rustfmt, *RUSTFMT_ARGS, "--print-config", "current", "probe.rs"],
            cwd=home,
            timeout_s=60.0,
        )
    return re.search(r"^skip_children = true$", done.stdout, re.M) is not None


class Rustfmt(Formatter):
    """rustfmt (see the module docstring)."""

    def command(self) -> list[str]:
        rustfmt = find_tool("rustfmt", INSTALL)
        if not _skips_children(rustfmt):
            raise ToolMissing(
                f"{rustfmt} does not honour --config skip_children=true, so it would format "
                f"files that a source's `mod` names: {INSTALL} (Rust 1.95's rustfmt honours it)"
            )
        return [rustfmt]

    def label(self) -> str:
        [rustfmt] = self.command()
        # "rustfmt 1.9.0-stable (59807616e1 2026-04-14)"
        return " ".join(tool_version((rustfmt, "--version")).split()[:2])

    def format(self, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
        rustfmt = self.command()

        def run(folder: Path, names: list[str]) -> Refusals:
            (folder / _CONFIG).touch()
            args = [*rustfmt, *RUSTFMT_ARGS, "--config-path", str(folder / _CONFIG), *names]
            done = run_tool(args, cwd=folder, timeout_s=cfg.timeout_s)
            if done.returncode == 0:
                return {}
            refusals: Refusals = {}
            for path, line, column, message in rustfmt_errors(done.stderr):
                name = Path(path).name
                if (folder / path).resolve().parent != folder.resolve() or name not in names:
                    raise ToolError(f"rustfmt reported on a file not of its batch: {path}")
                refusals.setdefault(name, f"{line}:{column}: {message}")
            if done.returncode != _REFUSED or not refusals:
                raise ToolError(f"rustfmt exited {done.returncode}: {done.stderr[:2000]}")
            return refusals

        return format_in_folder(sources, ".rs", run, tool="rustfmt")
