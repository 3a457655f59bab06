"""A corpus bigger than the local runner's memory: syntax, exact_dedup, near_dedup at scale.

``make bench-scale`` runs it in .venv-flink (the SDK of the Flink job server), with the local
Flink cluster up. The corpus is :func:`beam_swallow.testing.corpus.write_corpus`: real
standard-library and site-packages code plus planted near copies, written once to
``--work`` (and reused from there). Each run is ``beam-swallow code --stages
syntax,exact_dedup,near_dedup --no_token_counts`` in a fresh process:

- the baseline, ``--baseline`` documents on the default local runner (FnApiRunner), and a
  fifth of them, for the two constants of the local runner's memory model
  (:mod:`beam_swallow.pipelines.memory`), printed at the end;
- the baseline's documents on the local Flink cluster (parallelism 2, SDK workers in an
  EXTERNAL worker pool), and ``--documents`` on it (``--local_only`` skips both).

For each: wall seconds, documents/s, the peak resident memory of the whole process tree
(this process, the run's process and everything it starts, the worker pool and its SDK
workers, Flink's job server, JobManager and TaskManager; sampled every 0.2 s) and how many
planted copies ended rejected as duplicates. Runs of the same documents must agree exit
for exit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from beam_swallow.testing.corpus import write_corpus
from beam_swallow.testing.flink import FlinkCluster, worker_pool
from beam_swallow.testing.memory import PeakMemory
from beam_swallow.testing.outputs import read_jsonl_dir

STAGES = "syntax,exact_dedup,near_dedup"


def corpus(work: Path, documents: int) -> Path:
    """``documents`` records, the first ones of one fixed corpus, written once."""
    path = work / f"corpus-{documents}.jsonl"
    if not path.exists():
        partial = path.with_suffix(".partial")
        stats = write_corpus(partial, documents)
        partial.rename(path)
        print(f"corpus: {stats}", flush=True)
    return path


def run(src: Path, out: Path, beam_args: list[str], daemons) -> dict:
    """One run in a fresh process: seconds, peak bytes, the report, planted copies found."""
    argv = [str(Path(sys.executable).parent / "beam-swallow"), "code", "--input", str(src)]
    argv += ["--output", str(out), "--stages", STAGES, "--no_token_counts", "--quiet"]
    argv += ["--memory_check", "off", *beam_args]
    start = time.perf_counter()
    with PeakMemory(daemons) as memory:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    report = json.loads((out / "report.json").read_text())
    rejected = read_jsonl_dir(out / "rejected")
    found = sum(1 for r in rejected if "planted_from" in r and r["stage"] != "syntax")
    return {"seconds": seconds, "peak": memory.peak, "report": report, "found": found}


def planted(src: Path) -> int:
    with src.open(encoding="utf-8") as lines:
        return sum('"planted_from"' in line for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=500_000)
    parser.add_argument("--baseline", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path(".cache/bench-scale"))
    parser.add_argument("--flink_master", default="localhost:8081")
    parser.add_argument("--flink_home", type=Path)
    parser.add_argument("--job_server_jar")
    parser.add_argument("--local_only", action="store_true", help="no Flink runs")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    rows = []
    for documents in (args.baseline // 5, args.baseline):
        src = corpus(args.work, documents)
        result = run(src, args.work / f"out-local-{documents}", [], tuple)
        rows.append(("local FnApiRunner", documents, src, result))
    if not args.local_only:
        cluster = FlinkCluster(args.flink_master, args.flink_home, Path(args.job_server_jar))
        with worker_pool({"TMPDIR": os.environ.get("TMPDIR", "/tmp")}) as address:
            env = ["--environment_type=EXTERNAL", f"--environment_config={address}"]
            for documents in (args.baseline, args.documents):
                src = corpus(args.work, documents)
                job = f"bench-scale-{documents}"
                out = args.work / f"out-flink-{documents}"
                result = run(src, out, cluster.beam_args(job, env), cluster.daemon_pids)
                rows.append(("local Flink cluster", documents, src, result))
        if rows[1][3]["report"]["stages"] != rows[2][3]["report"]["stages"]:
            raise SystemExit(f"FnApiRunner and Flink disagree on {args.baseline} documents")

    print(f"`{STAGES}`, {time.strftime('%Y-%m-%d')}")
    print("| runner | documents | input MB | seconds | docs/s | peak MB (tree) | planted found |")
    print("|---|---|---|---|---|---|---|")
    for name, documents, src, r in rows:
        size = src.stat().st_size / 1e6
        rate = documents / r["seconds"]
        found = f"{r['found']:,} / {planted(src):,}"
        print(
            f"| {name} | {documents:,} | {size:,.0f} | {r['seconds']:,.0f} | {rate:,.0f} "
            f"| {r['peak'] / 2**20:,.0f} | {found} |"
        )
    (_, _, small_src, small), (_, _, large_src, large) = rows[:2]
    per_byte = (large["peak"] - small["peak"]) / (
        large_src.stat().st_size - small_src.stat().st_size
    )
    fixed = small["peak"] - per_byte * small_src.stat().st_size
    print(f"local runner: peak = {fixed / 1e6:,.0f} MB + {per_byte:.1f} x input bytes")
    for name, documents, _, r in rows:
        stages = {
            s: (e["input"], e["kept"], e["rejected"]) for s, e in r["report"]["stages"].items()
        }
        print(f"{name} {documents:,}: {json.dumps(stages)}")


if __name__ == "__main__":
    main()
