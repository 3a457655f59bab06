"""Go: ``gofmt``, the formatter that ships with Go, over a batch of files.

``gofmt -w 0.go 1.go ...`` in a private folder: gofmt has no configuration,
so what it writes equals ``gofmt`` on one file's stdin. A file it cannot parse
is left alone and named on stderr (``3.go:12:5: expected ';', found ...``,
several lines for several errors): refused with those messages, the file name
removed. Its version is the Go release it was built with (``go version
GOFMT``), e.g. ``gofmt go1.26.8``.
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

__all__ = ["Gofmt"]

INSTALL = "install Go (1.26) and put its bin folder on PATH"
_REFUSED = 2  # gofmt's exit status when a file does not parse


class Gofmt(Formatter):
    """gofmt (see the module docstring)."""

    def command(self) -> list[str]:
        return [find_tool("gofmt", INSTALL)]

    def label(self) -> str:
        [gofmt] = self.command()
        beside = Path(gofmt).with_name("go")
        go = str(beside) if beside.is_file() else find_tool("go", INSTALL)
        # "/usr/local/go/bin/gofmt: go1.26.8"
        return "gofmt " + tool_version((go, "version", gofmt)).rsplit(": ", 1)[-1]

    def format(self, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
        gofmt = self.command()

        def run(folder: Path, names: list[str]) -> Refusals:
            done = run_tool([*gofmt, "-w", *names], cwd=folder, timeout_s=cfg.timeout_s)
            return line_refusals("gofmt", done, names, _REFUSED)

        return format_in_folder(sources, ".go", run, tool="gofmt")
