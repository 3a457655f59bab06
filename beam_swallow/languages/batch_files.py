"""Where and how a batch of sources is written for one tool run over files.

A tool that takes many files per call (gofmt, rustfmt, clang-format, Biome, a
JVM formatter) is handed a batch as ``0.go``, ``1.go``, ... in a fresh private
folder; the syntax check (:mod:`beam_swallow.languages.parsing.commands`) and the
formatters (:mod:`beam_swallow.languages.formatting.batch`) write them the same way.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

__all__ = ["scratch", "write_sources"]

# Batches are written where memory backs the files, when this machine has such a place with
# room to spare: the files live only for one run, and a disk write per file is most of a
# fast formatter's cost beyond its own on a busy machine.
_SHM = "/dev/shm"


def scratch(sources: Sequence[str]) -> str | None:
    """Where to write a batch: ``/dev/shm`` when it is writable and the batch takes under
    a quarter of its free space, else None (the default temporary directory)."""
    if not (os.path.isdir(_SHM) and os.access(_SHM, os.W_OK)):
        return None
    needed = 4 * sum(len(source) for source in sources)  # up to 4 bytes per code point
    return _SHM if needed * 4 < shutil.disk_usage(_SHM).free else None


def write_sources(
    folder: Path,
    sources: Sequence[str],
    suffix: str,
    numbers: Sequence[int] | None = None,
    errors: str = "strict",
) -> list[str]:
    """Write each source as ``<number><suffix>`` in ``folder`` (numbers 0, 1, ... unless
    given), UTF-8, its own line endings kept (no newline translation); return the file
    names in order. ``errors`` is the encoder's: a parser given ``"surrogatepass"`` judges
    a lone surrogate as the bytes it becomes, where a formatter refuses it unwritten."""
    names = []
    for number, source in zip(
        range(len(sources)) if numbers is None else numbers, sources, strict=True
    ):
        name = f"{number}{suffix}"
        with open(folder / name, "w", encoding="utf-8", errors=errors, newline="") as handle:
            handle.write(source)
        names.append(name)
    return names
