"""Benchmark: streaming against batch on the same records, and publish-to-file latency.

Side by side in one script, on the local runners, through the CLI as a user
runs them:

1. Throughput. ``--files`` real standard-library files through
   ``syntax,lint``: once as a JSONL file on the batch runner (FnApiRunner),
   once as Pub/Sub messages (the real emulator) on the streaming DirectRunner,
   with every message published before the run starts and ``--window_s 2``
   so windows close soon after the last record. Each time counts from the
   command's start to its last output on disk (for streaming: until the window
   reports account for every message). Prints messages/s of both and the ratio.
2. Latency at the default window (60 s). With a run reading the topic, one
   message every ``--every`` seconds for two windows; each message's latency is
   the modification time of its window's kept file minus its publish time.

Run: ``python bench/streaming.py [--files N] [--every S]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from beam_swallow.samples import code_sample_records
from beam_swallow.streaming.config import WINDOW_S
from beam_swallow.testing.outputs import assert_conserved, read_outputs, read_report
from beam_swallow.testing.pubsub import StreamingRun, pubsub_emulator
from beam_swallow.testing.windows import assert_windows_conserved, read_windows

STAGES = "--stages=syntax,lint"


def _batch(records: list[dict], work: Path) -> float:
    source = work / "batch.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = work / "batch"
    command = [sys.executable, "-m", "beam_swallow.cli", "code", f"--input={source}"]
    command += [f"--output={out}", STAGES, "--quiet"]
    started = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    assert_conserved(read_report(out), read_outputs(out))
    return elapsed


def _streaming(records: list[dict], emulator, work: Path) -> float:
    topic, subscription = emulator.create("throughput", "throughput-sub")
    ids = emulator.publish(topic, [(json.dumps(r).encode(), {}) for r in records])
    started = time.monotonic()
    flags = [f"--input_subscription={subscription}", STAGES, "--window_s=2"]
    run = StreamingRun(emulator, work / "stream", flags)
    run.wait_for(len(ids))
    elapsed = time.monotonic() - started
    run.stop(signal.SIGINT)
    assert_windows_conserved(read_windows(run.out), ids)
    return elapsed


def _latency(records: list[dict], emulator, work: Path, every: float) -> list[float]:
    topic, subscription = emulator.create("latency", "latency-sub")
    run = StreamingRun(emulator, work / "latency", [f"--input_subscription={subscription}", STAGES])
    published: dict[str, float] = {}
    deadline = time.time() + 2 * WINDOW_S
    number = 0
    while time.time() < deadline:
        record = records[number % len(records)]
        [mid] = emulator.publish(topic, [(json.dumps(record).encode(), {})])
        published[mid] = time.time()
        number += 1
        time.sleep(every)
    run.wait_for(len(published))
    run.stop(signal.SIGINT)
    windows = read_windows(run.out)
    assert_windows_conserved(windows, list(published))
    latencies = []
    for report, outputs in windows.values():
        for sink, entry in report["files"].items():
            written = (run.out / entry["path"]).stat().st_mtime
            for record in outputs[sink]:
                latencies.append(written - published[record["pubsub"]["message_id"]])
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--every", type=float, default=5.0)
    args = parser.parse_args()
    records = code_sample_records(args.files, max_bytes=20_000)
    print(f"{datetime.now():%Y-%m-%d}, {os.cpu_count()} cores, {len(records)} stdlib files")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        batch_s = _batch(records, work)
        with pubsub_emulator(work) as emulator:
            stream_s = _streaming(records, emulator, work)
            latencies = _latency(records, emulator, work, args.every)
    batch_rate, stream_rate = len(records) / batch_s, len(records) / stream_s
    print(f"batch (FnApiRunner):        {batch_s:7.1f} s  {batch_rate:6.1f} records/s")
    print(f"streaming (DirectRunner):   {stream_s:7.1f} s  {stream_rate:6.1f} messages/s")
    print(f"streaming / batch:          {stream_rate / batch_rate:.2f}")
    print(
        f"latency, publish to file, {WINDOW_S:.0f} s windows, {len(latencies)} messages: "
        f"median {statistics.median(latencies):.1f} s, min {min(latencies):.1f} s, "
        f"max {max(latencies):.1f} s"
    )


if __name__ == "__main__":
    main()
