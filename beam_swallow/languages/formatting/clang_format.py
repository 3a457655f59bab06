"""C, C++ and CUDA: LLVM's ``clang-format`` in the LLVM style, over a batch of files.

The binary comes with the PyPI package ``clang-format`` (the ``languages``
extra), called directly rather than through the package's Python entry point
(which costs a Python start per call). ``clang-format --style=LLVM -i 0.c 1.c
...`` in a private folder: an explicit style reads no ``.clang-format`` file,
so what it writes equals ``clang-format --style=LLVM`` on one file's stdin
with the same file name. Each language is written under one extension, which
also picks clang-format's language: ``.c`` for C, ``.cpp`` for C++, ``.cu``
for CUDA.

clang-format refuses nothing (it exits 0 on broken code), so a file whose
brackets do not pair up is refused before it is formatted
(:func:`~beam_swallow.languages.formatting.brackets.unbalanced`: ``unbalanced
brackets at 12:5: '(' is never closed``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from beam_swallow.languages.formatting.batch import (
    FormatConfig,
    FormatOutcome,
    Refusals,
    format_in_folder,
)
from beam_swallow.languages.formatting.brackets import unbalanced
from beam_swallow.languages.formatting.formatter import Formatter
from beam_swallow.languages.tools import ToolError, find_tool, run_tool, tool_version

__all__ = ["STYLE", "ClangFormat", "clang_format_binary"]

INSTALL = "pip install 'beam-swallow[languages]' (PyPI's clang-format)"
STYLE = "LLVM"
_VERSION = re.compile(r"version (\S+)")


def clang_format_binary() -> str:
    """``$BEAM_SWALLOW_CLANG_FORMAT``, else the binary inside the PyPI package, else
    ``clang-format`` as :func:`~beam_swallow.languages.tools.find_tool` finds it."""
    if "BEAM_SWALLOW_CLANG_FORMAT" not in os.environ:
        try:
            from clang_format import get_executable
        except ImportError:
            pass
        else:
            binary = get_executable("clang-format")
            if os.path.isfile(binary):
                return binary
    return find_tool("clang-format", INSTALL)


class ClangFormat(Formatter):
    """clang-format for the language whose files end in ``suffix`` (see the module docstring)."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix

    def command(self) -> list[str]:
        return [clang_format_binary()]

    def label(self) -> str:
        [binary] = self.command()
        line = tool_version((binary, "--version"))  # "clang-format version 23.1.5"
        found = _VERSION.search(line)
        return f"clang-format {found[1] if found else line}"

    def format(self, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
        clang_format = self.command()
        refused = {}
        for index, source in enumerate(sources):
            why = unbalanced(source)
            if why is not None:
                refused[f"{index}{self.suffix}"] = f"unbalanced brackets at {why}"

        def run(folder: Path, names: list[str]) -> Refusals:
            wanted = [name for name in names if name not in refused]
            if wanted:
                args = [*clang_format, f"--style={STYLE}", "-i", *wanted]
                done = run_tool(args, cwd=folder, timeout_s=cfg.timeout_s)
                if done.returncode != 0:
                    raise ToolError(
                        f"clang-format exited {done.returncode}: {done.stderr.strip()[:2000]}"
                    )
            return refused

        return format_in_folder(sources, self.suffix, run, tool="clang-format")
