"""Shell: ``shfmt -ln bash`` over a batch of files.

The Stack v2's ``Shell`` holds bash and POSIX sh scripts alike; shfmt parses
them all as bash (``-ln bash``, a superset of POSIX sh for what scripts
use), whatever their shebang or extension says. Giving a parser flag also
turns off shfmt's EditorConfig lookup, so ``shfmt -ln bash -w 0.sh ...`` in
a private folder writes what ``shfmt -ln bash`` writes for one file's stdin.
A file it cannot parse is named on stderr (``3.sh:4:1: if statement must end
with "fi"``): refused with that message, the file name removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from beam_swallow.languages.formatting.batch import (
    FormatConfig,
    FormatOutcome,
    Refusals,
    format_in_folder,
    line_refusals,
)
from beam_swallow.languages.formatting.formatter import Formatter
from beam_swallow.languages.tools import find_tool, run_tool, tool_version

__all__ = ["SHFMT_ARGS", "Shfmt"]

INSTALL = "make tools (apt-get install shfmt)"
SHFMT_ARGS = ("-ln", "bash")
_REFUSED = 1


class Shfmt(Formatter):
    """shfmt (see the module docstring)."""

    def command(self) -> list[str]:
        return [find_tool("shfmt", INSTALL)]

    def label(self) -> str:
        [shfmt] = self.command()
        return "shfmt " + tool_version((shfmt, "--version")).removeprefix("v")

    def format(self, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
        shfmt = self.command()

        def run(folder: Path, names: list[str]) -> Refusals:
            done = run_tool(
                [*shfmt, *SHFMT_ARGS, "-w", *names], cwd=folder, timeout_s=cfg.timeout_s
            )
            return line_refusals("shfmt", done, names, _REFUSED)

        return format_in_folder(sources, ".sh", run, tool="shfmt")
