"""Rust: ``rustfmt --edition 2021``, over a batch of files where that is safe.

rustfmt's own default edition is 2015, which rejects ``async fn`` and other
syntax of every later edition (the issue's Facts), so the edition is given.
Its configuration is pinned to the defaults by ``--config-path`` naming an
empty ``rustfmt.toml``: no ``rustfmt.toml`` near the folder or the working
directory can change the result.

Given file paths, rustfmt also formats the files of out-of-line modules: ``mod
x;`` sends it looking for ``x.rs`` (and ``#[path = "..."]`` anywhere on the
machine), which fails the file, or rewrites a file that is not ours. Given
stdin, it follows nothing. So a source in which ``mod NAME;`` appears
anywhere (comments, strings and comments between the words included: the
check errs towards stdin) is formatted alone on stdin, and every other source
goes with its batch (``rustfmt 0.rs 1.rs ...`` in a private folder, one
process): both write what ``rustfmt --edition 2021`` writes for that file's
stdin. A file rustfmt cannot parse is refused with its first error
(``1:9: this file contains an unclosed delimiter``).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from beam_swallow.languages.formatting.batch import (
    FormatConfig,
    FormatOutcome,
    Refusals,
    format_in_folder,
)
from beam_swallow.languages.formatting.formatter import Formatter
from beam_swallow.languages.tools import ToolError, find_tool, run_tool, tool_version

__all__ = ["EDITION", "Rustfmt", "declares_outer_module"]

INSTALL = "install Rust's toolchain with its rustfmt component (rustup component add rustfmt)"
EDITION = "2021"
_CONFIG = "rustfmt.toml"
_REFUSED = 1
_GAP = r"(?:\s|//[^\n]*|/\*.*?\*/)"
_OUTER_MODULE = re.compile(rf"\bmod{_GAP}+(?:r#)?\w+{_GAP}*;", re.S)
_HEADER = re.compile(r"^(?:error|warning)(?:\[[^\]]*\])?: (?P<message>.*)$")
_ARROW = re.compile(r"^\s*--> (?P<path>.+):(?P<line>\d+):(?P<column>\d+)$")


def declares_outer_module(source: str) -> bool:
    """Whether ``mod NAME;`` (a module in another file) may appear in ``source``."""
    return _OUTER_MODULE.search(source) is not None


def _errors(stderr: str) -> list[tuple[str, str]]:
    """``(path, "line:column: message")`` of each error rustfmt reports on stderr."""
    found = []
    message = None
    for line in stderr.splitlines():
        header = _HEADER.match(line)
        if header:
            message = header["message"] if line.startswith("error") else None
            continue
        arrow = _ARROW.match(line)
        if arrow and message is not None:
            found.append((arrow["path"], f"{arrow['line']}:{arrow['column']}: {message}"))
            message = None
    return found


class Rustfmt(Formatter):
    """rustfmt (see the module docstring)."""

    def command(self) -> list[str]:
        return [find_tool("rustfmt", INSTALL)]

    def label(self) -> str:
        [rustfmt] = self.command()
        # "rustfmt 1.9.0-stable (59807616e1 2026-04-14)"
        return " ".join(tool_version((rustfmt, "--version")).split()[:2])

    def format(self, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
        rustfmt = self.command()
        alone = {index for index, source in enumerate(sources) if declares_outer_module(source)}
        batched = [index for index in range(len(sources)) if index not in alone]
        outcomes: dict[int, FormatOutcome] = {}
        with tempfile.TemporaryDirectory(prefix="beam-swallow-rustfmt-config-") as home:
            config = Path(home) / _CONFIG
            config.touch()
            args = [*rustfmt, "--edition", EDITION, "--config-path", str(config)]
            for index in sorted(alone):
                outcomes[index] = self._alone(args, sources[index], cfg.timeout_s)

            def run(folder: Path, names: list[str]) -> Refusals:
                done = run_tool([*args, *names], cwd=folder, timeout_s=cfg.timeout_s)
                if done.returncode == 0:
                    return {}
                refusals: Refusals = {}
                for path, message in _errors(done.stderr):
                    name = Path(path).name
                    if (folder / path).resolve().parent != folder.resolve() or name not in names:
                        raise ToolError(f"rustfmt reported on a file not of its batch: {path}")
                    refusals.setdefault(name, message)
                if done.returncode != _REFUSED or not refusals:
                    raise ToolError(f"rustfmt exited {done.returncode}: {done.stderr[:2000]}")
                return refusals

            batch = format_in_folder(
                [sources[index] for index in batched], ".rs", run, prefix="beam-swallow-rustfmt-"
            )
        outcomes.update(zip(batched, batch, strict=True))
        return [outcomes[index] for index in range(len(sources))]

    @staticmethod
    def _alone(args: list[str], source: str, timeout_s: float) -> FormatOutcome:
        """One source on stdin, as bytes both ways: text mode would turn the CRLF line
        endings rustfmt keeps into LF."""
        try:
            data = source.encode("utf-8")
        except UnicodeEncodeError as exc:
            return FormatOutcome(None, f"not valid Unicode text: {exc.reason}")
        try:
            done = subprocess.run(args, input=data, capture_output=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise ToolError(f"rustfmt took over {timeout_s:g} s") from exc
        except OSError as exc:
            raise ToolError(f"rustfmt could not start: {exc}") from exc
        stderr = done.stderr.decode("utf-8", "replace")
        if done.returncode == 0:
            try:
                return FormatOutcome(done.stdout.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise ToolError("rustfmt wrote its output not as UTF-8") from exc
        errors = _errors(stderr)
        if done.returncode != _REFUSED or not errors:
            raise ToolError(f"rustfmt exited {done.returncode}: {stderr[:2000]}")
        return FormatOutcome(None, errors[0][1])
