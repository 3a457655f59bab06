"""Where the result cache lives and how often its writers commit a file.

``root`` is a directory, local or ``gs://``; each cached stage keeps its
entries under ``ROOT/<stage>/<identity digest>/`` (see :meth:`stage_dir`), so
a rerun with another model or other pylint flags reads none of the old files.
A writer commits one immutable file per bundle, and sooner when its buffer
holds ``flush_entries`` entries or its oldest entry has waited ``flush_seconds``:
the local runner hands a whole stage to one bundle, so without these bounds a
killed local job would lose everything it had computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from apache_beam.io.filesystems import FileSystems

from beam_swallow.cache.entries import digest

__all__ = ["FLUSH_ENTRIES", "FLUSH_SECONDS", "CacheConfig"]

FLUSH_ENTRIES = 1000
FLUSH_SECONDS = 60.0


@dataclass(frozen=True)
class CacheConfig:
    """The cache's root directory and its file sizes; raises ValueError on impossible values."""

    root: str
    flush_entries: int = FLUSH_ENTRIES
    flush_seconds: float = FLUSH_SECONDS

    def __post_init__(self) -> None:
        if not self.root.strip():
            raise ValueError("--cache_dir must not be empty")
        if self.flush_entries < 1:
            raise ValueError(f"cache_flush_every must be >= 1, got {self.flush_entries}")
        if not self.flush_seconds > 0:
            raise ValueError(f"flush_seconds must be positive, got {self.flush_seconds}")

    def stage_dir(self, stage: str, identity: Mapping[str, Any]) -> str:
        """``ROOT/<stage>/<digest>``: one stage's entries under one identity (16 hex digits
        of its digest; the full key of every entry still hashes the whole identity)."""
        return FileSystems.join(self.root, stage, digest(dict(identity))[:16])
