"""Will a local run fit in memory? An estimate from the input's size, checked before the run.

The local FnApiRunner keeps every collection that crosses a shuffle in memory,
so a run with a dedup stage holds the whole corpus, several times over, until
it ends (docs, A corpus bigger than memory). Rather than be killed hours
into a job, a local batch run with ``exact_dedup`` or ``near_dedup`` estimates
its peak from the input's size and, under ``--memory_check refuse`` (the
default), stops before it starts when the estimate exceeds the memory
available now; ``warn`` logs and runs; ``off`` skips the check. The bounded
path for a bigger corpus is the local Flink cluster, whose memory is fixed by
its configuration and which spills to disk.

The model, ``peak = LOCAL_FIXED_BYTES + LOCAL_BYTES_PER_INPUT_BYTE * input
bytes``, comes from ``bench/scale.py`` (BENCHMARKS.md, scale): peak memory of
the process tree for ``syntax,exact_dedup,near_dedup`` at two corpus sizes.
Compressed inputs are scaled by ``COMPRESSED_RATIO``, a typical ratio for
JSONL text: an estimate, not a measurement of that file.
"""

from __future__ import annotations

import logging

from apache_beam.io.filesystems import FileSystems

from beam_swallow.io import split_patterns
from beam_swallow.machine import available_memory
from beam_swallow.options import MEMORY_CHECKS

__all__ = [
    "COMPRESSED_RATIO",
    "HOLDING_STAGES",
    "LOCAL_BYTES_PER_INPUT_BYTE",
    "LOCAL_FIXED_BYTES",
    "check_local_memory",
    "input_bytes",
    "local_peak_estimate",
]

_log = logging.getLogger(__name__)

# Stages whose shuffles hold the whole corpus on the local runner.
HOLDING_STAGES = frozenset({"exact_dedup", "near_dedup"})
# bench/scale.py, 2026-11-30: 934 MB at 20k documents (20 MB), 3,076 MB at 100k (115 MB).
LOCAL_FIXED_BYTES = 500_000_000
LOCAL_BYTES_PER_INPUT_BYTE = 24.0
COMPRESSED_RATIO = 4.0
_COMPRESSED = (".gz", ".bz2", ".zst", ".deflate", ".parquet")


def input_bytes(patterns: str) -> int:
    """Uncompressed bytes of every file the comma-separated ``patterns`` match (estimated
    for compressed files: their size times ``COMPRESSED_RATIO``)."""
    total = 0.0
    for result in FileSystems.match(split_patterns(patterns)):
        for meta in result.metadata_list:
            compressed = meta.path.endswith(_COMPRESSED)
            total += meta.size_in_bytes * (COMPRESSED_RATIO if compressed else 1.0)
    return int(total)


def local_peak_estimate(size: int) -> int:
    """Estimated peak bytes of a local run with a dedup stage over ``size`` input bytes."""
    return int(LOCAL_FIXED_BYTES + LOCAL_BYTES_PER_INPUT_BYTE * size)


def check_local_memory(patterns: str, stages: list[str], mode: str) -> None:
    """Refuse (ValueError) or warn when a local run would not fit in available memory.

    Does nothing for ``mode`` ``off`` or when no stage in ``stages`` holds the corpus.
    """
    if mode not in MEMORY_CHECKS:
        raise ValueError(f"--memory_check must be one of {MEMORY_CHECKS}, got {mode!r}")
    if mode == "off" or not HOLDING_STAGES.intersection(stages):
        return
    size = input_bytes(patterns)
    need = local_peak_estimate(size)
    available = available_memory()
    if need <= available:
        return
    message = (
        f"this local run would need about {need / 1e9:.1f} GB of memory for "
        f"{size / 1e9:.2f} GB of input (the local runner holds the corpus in memory for "
        f"{', '.join(sorted(HOLDING_STAGES.intersection(stages)))}), and {available / 1e9:.1f} GB "
        "is available: run it on the local Flink cluster, whose memory does not grow with the "
        "input (docs, A corpus bigger than memory), or pass --memory_check warn to try anyway"
    )
    if mode == "refuse":
        raise ValueError(message)
    _log.warning(message)
