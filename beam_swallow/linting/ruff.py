"""ruff's formatter and linter over batches of sources, through ruff's own CLI.

The v2 recipe formats every file with ``ruff format`` and drops files with lint
errors after its rewrite (``ruff check``). ruff ships as a binary (the PyPI
package ``ruff`` holds it and :func:`ruff.find_ruff_bin` finds it); it has no
Python API. Rather than one process per file (``ruff format -`` on stdin, about
as slow as starting a process), each call writes a batch of sources into a
private temporary directory as ``0.py``, ``1.py``, ... and runs the CLI once
over the files, named explicitly (in ``/dev/shm`` where there is one: memory, not
disk), with ``--isolated`` (no configuration file
found near the temporary directory can change the result) and ``--no-cache``.
ruff spreads the files over its own threads. What comes back is what the CLI
wrote, byte for byte.

:func:`format_sources` returns, per source, the formatted text or ruff's
message for a file it cannot parse (``error: Failed to parse 3.py:1:5: ...``,
the path part removed). :func:`check_sources` returns, per source, the lint
errors ``ruff check --select RULES`` reports (``"F821 3:5 Undefined name `x`"``),
syntax errors included. Both raise :class:`RuffError` when ruff itself fails
(its binary missing, a crash, the batch exceeding ``timeout_s`` seconds): the
whole batch is then unanswered, and the stage makes each of its records a dead
letter.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_LINT_RULES",
    "FormatOutcome",
    "RuffConfig",
    "RuffError",
    "check_sources",
    "format_sources",
    "ruff_binary",
    "ruff_version",
]

# ruff check's selection of what is an error rather than style: syntax errors
# (E9), comparisons that are always wrong (F63), statements in the wrong place
# (F7), undefined names (F82). The classic "errors only" set of flake8 users.
DEFAULT_LINT_RULES = "E9,F63,F7,F82"

# Batches are written where memory backs the files, when this machine has such a place with
# room to spare: the files live only for one ruff run, and a disk write per file is most of
# the stage's cost beyond ruff's own on a busy machine.
_SHM = "/dev/shm"


def _scratch(sources: Sequence[str]) -> str | None:
    """Where to write a batch: /dev/shm when it is writable and the batch takes under a
    quarter of its free space, else the default temporary directory."""
    if not (os.path.isdir(_SHM) and os.access(_SHM, os.W_OK)):
        return None
    needed = 4 * sum(len(source) for source in sources)  # up to 4 bytes per code point
    return _SHM if needed * 4 < shutil.disk_usage(_SHM).free else None


_FAILED = re.compile(r"^error: Failed to parse (?P<path>.+?\.py):(?P<rest>.*)$")


class RuffError(RuntimeError):
    """ruff did not answer a batch: missing binary, crash, timeout, output unread."""


@dataclass(frozen=True)
class RuffConfig:
    """How ruff is run: files per process (``batch_files``), seconds one batch may
    take (``timeout_s``), and the rules whose findings are lint errors
    (``lint_rules``, ruff's ``--select`` syntax). Raises ValueError on values
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


@dataclass(frozen=True)
class FormatOutcome:
    """One source through ``ruff format``: the new text, or why ruff refused it."""

    text: str | None
    error: str | None = None


def ruff_binary() -> str:
    """The path of the ruff binary the ``ruff`` package installed; RuffError without it."""
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError as exc:
        raise RuffError("the ruff package is not installed (pip install ruff)") from exc
    return os.fsdecode(find_ruff_bin())


def ruff_version() -> str:
    """``ruff --version``'s answer, e.g. ``ruff 0.14.0``: formatting changes between releases."""
    return subprocess.run(
        [ruff_binary(), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def _write(directory: Path, sources: Sequence[str]) -> list[str]:
    names = []
    for index, source in enumerate(sources):
        name = f"{index}.py"
        # newline="": the text's own line endings reach ruff, which keeps them
        with open(directory / name, "w", encoding="utf-8", newline="") as handle:
            handle.write(source)
        names.append(name)
    return names


def _run(args: list[str], cwd: Path, timeout_s: float) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            [ruff_binary(), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuffError(f"ruff {args[0]} took over {timeout_s:g} s on one batch") from exc
    if done.returncode not in (0, 1, 2) or done.returncode == 2 and "error:" not in done.stderr:
        raise RuffError(f"ruff {args[0]} exited {done.returncode}: {done.stderr.strip()[:2000]}")
    return done


def format_sources(sources: Sequence[str], cfg: RuffConfig) -> list[FormatOutcome]:
    """``ruff format`` of each source, in order (see the module docstring)."""
    if not sources:
        return []
    with tempfile.TemporaryDirectory(prefix="beam-swallow-ruff-", dir=_scratch(sources)) as tmp:
        directory = Path(tmp)
        names = _write(directory, sources)
        done = _run(["format", "--isolated", "--no-cache", *names], directory, cfg.timeout_s)
        errors: dict[str, str] = {}
        for line in done.stderr.splitlines():
            failed = _FAILED.match(line)
            if failed:
                errors[failed["path"]] = "Failed to parse at " + failed["rest"]
        if done.returncode == 2 and not errors:
            raise RuffError(f"ruff format failed: {done.stderr.strip()[:2000]}")
        outcomes = []
        for name in names:
            if name in errors:
                outcomes.append(FormatOutcome(None, errors[name]))
                continue
            with open(directory / name, encoding="utf-8", newline="") as handle:
                outcomes.append(FormatOutcome(handle.read()))
        return outcomes


def check_sources(sources: Sequence[str], cfg: RuffConfig) -> list[list[str]]:
    """The lint errors ``ruff check --select cfg.lint_rules`` finds in each source, in order."""
    if not sources:
        return []
    with tempfile.TemporaryDirectory(prefix="beam-swallow-ruff-", dir=_scratch(sources)) as tmp:
        directory = Path(tmp)
        names = _write(directory, sources)
        args = ["check", "--isolated", "--no-cache", "--no-fix", "--output-format", "json"]
        done = _run([*args, "--select", cfg.lint_rules, *names], directory, cfg.timeout_s)
        try:
            findings = json.loads(done.stdout or "[]")
        except json.JSONDecodeError as exc:
            raise RuffError(f"ruff check wrote no JSON: {done.stdout[:500]!r}") from exc
        found: dict[str, list[str]] = {name: [] for name in names}
        for finding in findings:
            name = Path(finding["filename"]).name
            where = finding.get("location") or {}
            code = finding.get("code") or "syntax-error"
            found.setdefault(name, []).append(
                f"{code} {where.get('row', '?')}:{where.get('column', '?')} {finding['message']}"
            )
        return [found[name] for name in names]
