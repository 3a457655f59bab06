"""Files/s of syntax+lint on the local Flink cluster against the FnApiRunner, same files.

``make bench-flink`` runs it in .venv-flink (the SDK of the Flink job server): the code
pipeline with ``--stages syntax,lint`` on ``--files`` standard-library files, once on the
FnApiRunner in multi_processing mode with 2 workers and once on Flink at parallelism 2
with SDK workers in an EXTERNAL worker pool. Both sides get one lint process per SDK worker
(``--lint_workers 1``), so each runs 2 pylint processes. Wall time includes job submission
(on Flink: the job server's start too); both runs must end with the same exits.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from beam_swallow.cli import main
from beam_swallow.samples import code_sample_records


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _timed(argv: list[str]) -> float:
    start = time.perf_counter()
    if main(argv) != 0:
        raise SystemExit(f"run failed: {argv}")
    return time.perf_counter() - start


def _exits(out: Path) -> dict:
    report = json.loads((out / "report.json").read_text())
    return report["stages"]


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flink_master", default="localhost:8081")
    parser.add_argument("--job_server_jar", required=True)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--max_bytes", type=int, default=8_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-flink-"))
    src = work / "in.jsonl"
    records = code_sample_records(args.files, max_bytes=args.max_bytes)
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    size_mb = src.stat().st_size / 1e6
    base = ["code", "--input", str(src), "--stages", "syntax,lint", "--lint_workers", "1"]

    local = work / "fnapi"
    local_s = _timed(
        [*base, "--output", str(local), "--direct_running_mode=multi_processing"]
        + ["--direct_num_workers=2"]
    )

    port = _free_port()
    venv_bin = str(Path(sys.executable).parent)
    pool = subprocess.Popen(
        [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main"]
        + [f"--service_port={port}"],
        env={**os.environ, "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", "")])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(5)
        flink = work / "flink"
        flink_s = _timed(
            [*base, "--output", str(flink), "--runner=FlinkRunner"]
            + [
                f"--flink_master={args.flink_master}",
                f"--flink_job_server_jar={args.job_server_jar}",
            ]
            + ["--parallelism=2", "--environment_type=EXTERNAL"]
            + [f"--environment_config=localhost:{port}"]
        )
    finally:
        pool.terminate()
        pool.wait(timeout=30)
    if _exits(local) != _exits(flink):
        raise SystemExit("the two runs disagree: compare their report.json files in " + str(work))

    print(f"{len(records)} stdlib files, {size_mb:.1f} MB, --stages syntax,lint, 2 lint processes")
    print("| runner | seconds | files/s |")
    print("|---|---|---|")
    print(
        f"| FnApiRunner, multi_processing, 2 workers | {local_s:.1f} | {len(records) / local_s:.2f} |"
    )
    print(
        f"| Flink 1.19, parallelism 2, EXTERNAL pool | {flink_s:.1f} | {len(records) / flink_s:.2f} |"
    )
    print(f"Flink / FnApiRunner: {local_s / flink_s:.2f}x the throughput")


if __name__ == "__main__":
    main_bench()
