"""Python: ruff's formatter and linter over batches of sources, through ruff's own CLI.

The v2 recipe formats every Python file with ``ruff format`` and drops files
with lint errors after its rewrite (``ruff check``). ruff ships as a binary
(the PyPI package ``ruff`` holds it and :func:`ruff.find_ruff_bin` finds it);
it has no Python API. Rather than one process per file (``ruff format -`` on
stdin, about as slow as starting a process), each call writes a batch of
sources into a private folder as ``0.py``, ``1.py``, ...
(:func:`~beam_swallow.languages.formatting.batch.format_in_folder`) and runs
the CLI once over the files, named explicitly, with ``--isolated`` (no
configuration file found near the folder can change the result) and
``--no-cache``. ruff spreads the files over its own threads. What comes back
is what the CLI wrote, byte for byte.

:func:`format_python` returns, per source, the formatted text or ruff's
message for a file it cannot parse (``Failed to parse at 1:5: ...``, the path
part removed). :func:`check_sources` returns, per source, the lint errors
``ruff check --select RULES`` reports (``"F821 3:5 Undefined name `x`"``),
syntax errors included. Both raise
:class:`~beam_swallow.languages.tools.ToolError` when ruff itself fails (its
binary missing: :class:`~beam_swallow.languages.tools.ToolMissing`; a crash;
the batch exceeding its timeout): the whole batch is then unanswered, and the
stage makes each of its records a dead letter.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from beam_swallow.languages.formatting.batch import (
    FormatConfig,
    FormatOutcome,
    Refusals,
    format_in_folder,
    scratch,
    write_sources,
)
from beam_swallow.languages.formatting.formatter import Formatter
from beam_swallow.languages.tools import ToolError, ToolMissing, run_tool, tool_version

__all__ = [
    "DEFAULT_LINT_RULES",
    "Ruff",
    "RuffConfig",
    "check_sources",
    "format_python",
    "ruff_binary",
    "ruff_version",
]

# ruff check's selection of what is an error rather than style: syntax errors
# (E9), comparisons that are always wrong (F63), statements in the wrong place
# (F7), undefined names (F82). The classic "errors only" set of flake8 users.
DEFAULT_LINT_RULES = "E9,F63,F7,F82"

_FAILED = re.compile(r"^error: Failed to parse (?P<path>.+?\.py):(?P<rest>.*)$")
_PREFIX = "beam-swallow-ruff-"


@dataclass(frozen=True)
class RuffConfig:
    """How ``lint_errors`` runs ``ruff check``: files per process (``batch_files``),
    seconds one batch may take (``timeout_s``), and the rules whose findings are lint
    errors (``lint_rules``, ruff's ``--select`` syntax). Raises ValueError on values
    that cannot work."""

    batch_files: int = 256
    timeout_s: float = 300.0
    lint_rules: str = DEFAULT_LINT_RULES

    def __post_init__(self) -> None:
        if self.batch_files < 1:
            raise ValueError(f"ruff batch must hold at least one file, got {self.batch_files}")
        if not self.timeout_s > 0:
            raise ValueError(f"ruff timeout must be positive, got {self.timeout_s}")
        if not re.fullmatch(r"[A-Z]+[0-9]*(,[A-Z]+[0-9]*)*", self.lint_rules):
            raise ValueError(
                f"lint rules must be ruff rule codes or prefixes, comma-separated: {self.lint_rules!r}"
            )


def ruff_binary() -> str:
    """The path of the ruff binary the ``ruff`` package installed; ToolMissing without it."""
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError as exc:
        raise ToolMissing("ruff is not installed: pip install ruff") from exc
    return os.fsdecode(find_ruff_bin())


def ruff_version() -> str:
    """``ruff --version``'s answer, e.g. ``ruff 0.14.0``: formatting changes between releases."""
    return tool_version((ruff_binary(), "--version"))


def _run(args: list[str], cwd: Path, timeout_s: float) -> tuple[int, str, str]:
    done = run_tool([ruff_binary(), *args], cwd=cwd, timeout_s=timeout_s)
    if done.returncode not in (0, 1, 2) or done.returncode == 2 and "error:" not in done.stderr:
        raise ToolError(f"ruff {args[0]} exited {done.returncode}: {done.stderr.strip()[:2000]}")
    return done.returncode, done.stdout, done.stderr


def format_python(sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
    """``ruff format`` of each source, in order (see the module docstring)."""

    def run(folder: Path, names: list[str]) -> Refusals:
        code, _, stderr = _run(
            ["format", "--isolated", "--no-cache", *names], folder, cfg.timeout_s
        )
        refusals = {}
        for line in stderr.splitlines():
            failed = _FAILED.match(line)
            if failed:
                refusals[failed["path"]] = "Failed to parse at " + failed["rest"]
        if code == 2 and not refusals:
            raise ToolError(f"ruff format failed: {stderr.strip()[:2000]}")
        return refusals

    return format_in_folder(sources, ".py", run, tool="ruff")


def check_sources(sources: Sequence[str], cfg: RuffConfig) -> list[list[str]]:
    """The lint errors ``ruff check --select cfg.lint_rules`` finds in each source, in order."""
    if not sources:
        return []
    with tempfile.TemporaryDirectory(prefix=_PREFIX, dir=scratch(sources)) as tmp:
        directory = Path(tmp)
        names = write_sources(directory, sources, ".py")
        args = ["check", "--isolated", "--no-cache", "--no-fix", "--output-format", "json"]
        _, stdout, _ = _run([*args, "--select", cfg.lint_rules, *names], directory, cfg.timeout_s)
        try:
            findings = json.loads(stdout or "[]")
        except json.JSONDecodeError as exc:
            raise ToolError(f"ruff check wrote no JSON: {stdout[:500]!r}") from exc
        found: dict[str, list[str]] = {name: [] for name in names}
        for finding in findings:
            name = Path(finding["filename"]).name
            where = finding.get("location") or {}
            code = finding.get("code") or "syntax-error"
            found.setdefault(name, []).append(
                f"{code} {where.get('row', '?')}:{where.get('column', '?')} {finding['message']}"
            )
        return [found[name] for name in names]


class Ruff(Formatter):
    """ruff format, the formatter of Python (see the module docstring)."""

    def command(self) -> list[str]:
        return [ruff_binary()]

    def label(self) -> str:
        return ruff_version()

    def format(self, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
        return format_python(sources, cfg)
