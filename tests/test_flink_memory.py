"""The bounded-memory path: a corpus 4x bigger runs in the same memory on the local Flink cluster.

Run by ``make test-flink`` (docs, A corpus bigger than memory); skipped elsewhere. The
local runner holds the corpus in memory for the dedup stages, growing about 24 bytes per
input byte (BENCHMARKS.md, scale): from 10k to 40k documents its peak about doubles. On Flink
the JobManager and TaskManager are sized by their configuration and spill past it, so the
whole process tree's peak (launcher, job server, worker pool and SDK workers, JobManager,
TaskManager) must not follow the input.
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.corpus import write_corpus
from beam_swallow.testing.flink import cluster_from_env, worker_pool
from beam_swallow.testing.memory import PeakMemory

pytestmark = [
    pytest.mark.flink,
    pytest.mark.skipif(
        "FLINK_MASTER" not in os.environ, reason="needs the Flink cluster: make test-flink"
    ),
]

SMALL, LARGE = 10_000, 40_000
STAGES = "syntax,exact_dedup,near_dedup"
# The peak may move this much between two runs for reasons other than the input (the JVMs'
# heaps, which Flink fixes in size, being touched further; a new job server per job).
FLAT = 1.25


def _head(src: Path, dst: Path, lines: int) -> Path:
    with src.open(encoding="utf-8") as full, dst.open("w", encoding="utf-8") as part:
        part.writelines(itertools.islice(full, lines))
    return dst


def test_peak_memory_stays_flat_from_10k_to_40k_documents(tmp_path):
    cluster = cluster_from_env()
    large = tmp_path / "large.jsonl"
    stats = write_corpus(large, LARGE)
    assert stats.planted > 0 and stats.documents == LARGE
    small = _head(large, tmp_path / "small.jsonl", SMALL)
    assert large.stat().st_size > 3.5 * small.stat().st_size

    peaks = {}
    with worker_pool({"TMPDIR": str(tmp_path)}) as address:
        environment = ["--environment_type=EXTERNAL", f"--environment_config={address}"]
        for size, src in ((SMALL, small), (LARGE, large)):
            out, job = tmp_path / f"out-{size}", f"beam-swallow-memory-{uuid.uuid4().hex[:12]}"
            argv = ["code", "--input", str(src), "--output", str(out), "--stages", STAGES]
            argv += ["--no_token_counts", *cluster.beam_args(job, environment)]
            with PeakMemory(cluster.daemon_pids) as memory:
                assert main(argv) == 0
            peaks[size] = memory.peak
            assert cluster.job(job)["state"] == "FINISHED"

            report, outputs = read_report(out), read_outputs(out)
            assert_conserved(report, outputs)
            assert report["stages"]["read"]["input"] == size
            planted = [r for exit in outputs.values() for r in exit if "planted_from" in r]
            found = [
                r
                for r in outputs["rejected"]
                if "planted_from" in r and r["stage"] in ("exact_dedup", "near_dedup")
            ]
            assert len(found) >= 0.95 * len(planted) > 0, (len(found), len(planted))

    assert peaks[LARGE] < FLAT * peaks[SMALL], {k: v / 2**20 for k, v in peaks.items()}
