"""One formatter run over a batch of sources, written as files into a private folder.

Starting a formatter costs more than formatting one file (gofmt 3 ms, rustfmt
17 ms, clang-format about 15 ms, a JVM 0.8 s: the issue's and our own
measurements), so every formatter here runs once over many files: the sources
are written as ``0.go``, ``1.go``, ... into a fresh folder (in ``/dev/shm``
where it has room: memory, not disk), the tool rewrites them in place, and
what it wrote is read back byte for byte. A tool names the files it refuses
on its error output; each module parses that into ``{file name: message}``.

:func:`format_in_folder` is that shape. The tool modules give it the run
itself (``run(folder, names) -> refusals``); they raise
:class:`~beam_swallow.languages.tools.ToolError` whenever the run cannot be
read as "these files refused, every other file formatted" (a crash, a
timeout, an exit status or a line of output they cannot place), and the
stage makes each record of the batch a dead letter.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from beam_swallow.languages.batch_files import scratch, write_sources
from beam_swallow.languages.tools import ToolError

__all__ = [
    "FormatConfig",
    "FormatOutcome",
    "Refusals",
    "format_in_folder",
    "line_refusals",
]

_MESSAGE_CHARS = 2000
_LINE_ERROR = re.compile(r"^(?P<name>[^:\s]+):(?P<message>\d+:\d+: .*)$")

Refusals = dict[str, str]


@dataclass(frozen=True)
class FormatConfig:
    """How the formatters run: files per tool run (``batch_files``; the format
    stages hold that many records of one language before they call the tool) and
    seconds one run may take (``timeout_s``), after which the tool is killed and
    its batch's records become dead letters. Raises ValueError on values that
    cannot work."""

    batch_files: int = 256
    timeout_s: float = 300.0

    def __post_init__(self) -> None:
        if self.batch_files < 1:
            raise ValueError(f"a format batch must hold at least one file, got {self.batch_files}")
        if not self.timeout_s > 0:
            raise ValueError(f"the format timeout must be positive, got {self.timeout_s}")


@dataclass(frozen=True)
class FormatOutcome:
    """One source through its formatter: the new text, or the tool's reason for refusing it
    (``text`` None and ``error`` the message, positions as ``line:column`` of the file)."""

    text: str | None
    error: str | None = None


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def format_in_folder(
    sources: Sequence[str],
    suffix: str,
    run: Callable[[Path, list[str]], Refusals],
    *,
    tool: str,
) -> list[FormatOutcome]:
    """Format ``sources`` with one tool run over files in a fresh private folder.

    ``run(folder, names)`` runs ``tool`` over the named files (in ``folder``,
    rewriting them in place) and returns the message of each file it refused.
    Source ``i`` is the file ``<i><suffix>``. A source that is not valid Unicode
    text (a lone surrogate) cannot be written for any tool: it is refused
    without being written. Returns one :class:`FormatOutcome` per source, in
    order; raises ToolError when ``run`` does, or when a file the tool accepted
    cannot be read back as UTF-8.
    """
    if not sources:
        return []
    outcomes: list[FormatOutcome | None] = [None] * len(sources)
    writable: list[int] = []
    for index, source in enumerate(sources):
        try:
            source.encode("utf-8")
        except UnicodeEncodeError as exc:
            outcomes[index] = FormatOutcome(None, f"not valid Unicode text: {exc.reason}")
        else:
            writable.append(index)
    if writable:
        batch = [sources[index] for index in writable]
        with tempfile.TemporaryDirectory(prefix=f"beam-swallow-{tool}-", dir=scratch(batch)) as tmp:
            folder = Path(tmp)
            names = write_sources(folder, batch, suffix, writable)
            refusals = run(folder, names)
            for index, name in zip(writable, names, strict=True):
                if name in refusals:
                    outcomes[index] = FormatOutcome(None, refusals[name][:_MESSAGE_CHARS])
                    continue
                try:
                    outcomes[index] = FormatOutcome(_read(folder / name))
                except UnicodeDecodeError as exc:
                    raise ToolError(f"{tool} wrote {name} not as UTF-8") from exc
    return [outcome for outcome in outcomes if outcome is not None]


def line_refusals(
    tool: str, done: subprocess.CompletedProcess[str], names: Sequence[str], refused_status: int
) -> Refusals:
    """The refusals of a tool that reports each error as one ``FILE:LINE:COLUMN: message``
    line on stderr (gofmt, shfmt), several lines per file joined.

    Exit 0: nothing refused. Exit ``refused_status`` with every stderr line placed
    on one of ``names``: those files refused. Anything else (another status, a
    line naming no file of the batch: a panic, a crash) raises ToolError.
    """
    if done.returncode == 0:
        return {}
    wanted = set(names)
    refusals: Refusals = {}
    unplaced = []
    for line in done.stderr.splitlines():
        found = _LINE_ERROR.match(line)
        if found and found["name"] in wanted:
            previous = refusals.get(found["name"])
            message = found["message"]
            refusals[found["name"]] = f"{previous}; {message}" if previous else message
        elif line.strip():
            unplaced.append(line)
    if done.returncode != refused_status or unplaced or not refusals:
        raise ToolError(f"{tool} exited {done.returncode}: {done.stderr.strip()[:_MESSAGE_CHARS]}")
    return refusals
