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

With ``--flink_master HOST:PORT --job_server_jar JAR`` and the broker of ``make kafka-up``
named by ``KAFKA_HOME`` and ``KAFKA_PORT`` (``make bench-kafka``, in .venv-flink) the same two measurements compare Kafka on Flink with batch on
Flink instead: the batch run reads the JSONL file on the Flink cluster, the streaming run reads
a Kafka topic holding the same records, both at parallelism 2 with SDK workers in LOOPBACK and
checkpoints every 10 s; latency is a record's window file time minus its log-append time.
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
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from beam_swallow.samples import code_sample_records
from beam_swallow.streaming.config import WINDOW_S
from beam_swallow.testing.kafka import KafkaBroker, broker_from_env, offset_of
from beam_swallow.testing.outputs import assert_conserved, read_outputs, read_report
from beam_swallow.testing.pubsub import StreamingRun, pubsub_emulator
from beam_swallow.testing.windows import assert_windows_conserved, read_windows

STAGES = "--stages=syntax,lint"


def _batch(records: list[dict], work: Path, runner: Sequence[str] = ()) -> float:
    source = work / "batch.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = work / "batch"
    command = [sys.executable, "-m", "beam_swallow.cli", "code", f"--input={source}"]
    command += [f"--output={out}", STAGES, "--quiet", *runner]
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


def _flink_args(args: argparse.Namespace, job_name: str) -> list[str]:
    return [
        "--runner=FlinkRunner",
        f"--flink_master={args.flink_master}",
        f"--flink_job_server_jar={args.job_server_jar}",
        "--parallelism=2",
        "--environment_type=LOOPBACK",
        f"--job_name={job_name}",
    ]


def _kafka_run(args, broker: KafkaBroker, topic: str, out: Path, window_s: float) -> StreamingRun:
    flags = [
        f"--input_kafka_topic={topic}",
        f"--kafka_bootstrap_servers={broker.bootstrap}",
        f"--kafka_group_id={topic}",
        STAGES,
        f"--window_s={window_s:g}",
        "--checkpointing_interval=10000",
        *_flink_args(args, topic),
    ]
    return StreamingRun(broker, out, flags)


def _kafka_streaming(records: list[dict], args, broker: KafkaBroker, work: Path) -> float:
    topic = f"throughput-{int(time.time())}"
    broker.create_topic(topic)
    produced = broker.produce(topic, [json.dumps(r).encode() for r in records])
    started = time.monotonic()
    run = _kafka_run(args, broker, topic, work / "kafka", window_s=2)
    run.wait_for(len(produced))
    elapsed = time.monotonic() - started
    assert run.stop(signal.SIGINT) == 0, run.log()
    assert_windows_conserved(read_windows(run.out), produced, key=offset_of)
    return elapsed


def _kafka_latency(records: list[dict], args, broker: KafkaBroker, work: Path) -> list[float]:
    topic = f"latency-{int(time.time())}"
    broker.create_topic(topic)
    run = _kafka_run(args, broker, topic, work / "kafka-latency", window_s=WINDOW_S)
    produced = []
    deadline = time.time() + 2 * WINDOW_S
    while time.time() < deadline:
        record = records[len(produced) % len(records)]
        produced += broker.produce(topic, [json.dumps(record).encode()])
        time.sleep(args.every)
    run.wait_for(len(produced))
    assert run.stop(signal.SIGINT) == 0, run.log()
    windows = read_windows(run.out)
    assert_windows_conserved(windows, produced, key=offset_of)
    latencies = []
    for report, outputs in windows.values():
        for sink, entry in report["files"].items():
            written = (run.out / entry["path"]).stat().st_mtime
            for record in outputs[sink]:
                appended = datetime.fromisoformat(record["kafka"]["timestamp"]).timestamp()
                latencies.append(written - appended)
    return latencies


def _print(records, batch_s, stream_s, latencies, batch_name, stream_name) -> None:
    batch_rate, stream_rate = len(records) / batch_s, len(records) / stream_s
    print(f"{batch_name:<34} {batch_s:7.1f} s  {batch_rate:6.1f} records/s")
    print(f"{stream_name:<34} {stream_s:7.1f} s  {stream_rate:6.1f} records/s")
    print(f"{'streaming / batch:':<34} {stream_rate / batch_rate:.2f}")
    print(
        f"latency to file, {WINDOW_S:.0f} s windows, {len(latencies)} records: "
        f"median {statistics.median(latencies):.1f} s, min {min(latencies):.1f} s, "
        f"max {max(latencies):.1f} s"
    )


def _on_flink(records: list[dict], args: argparse.Namespace) -> None:
    broker = broker_from_env()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        batch_s = _batch(records, work, _flink_args(args, f"batch-{int(time.time())}"))
        stream_s = _kafka_streaming(records, args, broker, work)
        latencies = _kafka_latency(records, args, broker, work)
    _print(records, batch_s, stream_s, latencies, "batch on Flink:", "Kafka on Flink:")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--flink_master", help="compare Kafka on Flink with batch on Flink")
    parser.add_argument("--job_server_jar", help="with --flink_master")
    args = parser.parse_args()
    records = code_sample_records(args.files, max_bytes=20_000)
    print(f"{datetime.now():%Y-%m-%d}, {os.cpu_count()} cores, {len(records)} stdlib files")
    if args.flink_master:
        _on_flink(records, args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        batch_s = _batch(records, work)
        with pubsub_emulator(work) as emulator:
            stream_s = _streaming(records, emulator, work)
            latencies = _latency(records, emulator, work, args.every)
    _print(
        records, batch_s, stream_s, latencies, "batch (FnApiRunner):", "streaming (DirectRunner):"
    )


if __name__ == "__main__":
    main()
