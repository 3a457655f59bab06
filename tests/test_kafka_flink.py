"""Kafka on Flink: ``beam-swallow code --streaming --input_kafka_topic`` loses nothing.

Run by ``make test-flink`` against the local Flink cluster and the local Kafka
broker (``make kafka-up``); skipped elsewhere. Each run is the CLI in its own
process, as a user starts it, reading a fresh topic through Beam's Kafka read on
Flink with checkpoints every 2 s; SDK workers in LOOPBACK (in that process, which
outlives a TaskManager). Tests wait for what they need on disk or in Kafka
(windows, committed offsets), never for a fixed time, and stop the run with
SIGINT, which drains the job.

Every test ends with the conservation check by Kafka position: each produced
(partition, offset) is in exactly one exit of one window, none twice, and every
window's report balances and matches its files.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from beam_swallow.records import ErrorKind, Reason
from beam_swallow.testing.flink import FlinkCluster, cluster_from_env
from beam_swallow.testing.kafka import KafkaBroker, Offset, broker_from_env, offset_of
from beam_swallow.testing.lint_reference import stdlib_sources
from beam_swallow.testing.outputs import read_report
from beam_swallow.testing.planted import near_copy
from beam_swallow.testing.pubsub import StreamingRun
from beam_swallow.testing.windows import assert_windows_conserved, read_windows

pytestmark = [
    pytest.mark.flink,
    pytest.mark.skipif(
        "FLINK_MASTER" not in os.environ or "KAFKA_HOME" not in os.environ,
        reason="needs the Flink cluster and the Kafka broker: make test-flink",
    ),
]

STAGES = "syntax,exact_dedup,near_dedup"
FILES = stdlib_sources(10, max_bytes=2_500)
HOSTILE = {
    ErrorKind.INVALID_JSON: b"{not json",
    ErrorKind.INVALID_UTF8: b'{"text": "\xff\xfe"}',
    ErrorKind.NOT_AN_OBJECT: b'["text"]',
    ErrorKind.MISSING_TEXT: b'{"content": "x = 1"}',
}


def _value(text: str, n: int) -> bytes:
    return json.dumps({"text": text, "n": n}).encode("utf-8")


@pytest.fixture(scope="module")
def cluster() -> FlinkCluster:
    return cluster_from_env()


@pytest.fixture(scope="module")
def broker() -> KafkaBroker:
    return broker_from_env()


_RUNS: list[StreamingRun] = []


@pytest.fixture(autouse=True)
def _no_run_left():
    """A test that fails mid-run must not leave its job holding the cluster's slots."""
    yield
    while _RUNS:
        run = _RUNS.pop()
        if run.process.poll() is None:
            run.process.send_signal(signal.SIGINT)
            try:
                run.process.wait(timeout=StreamingRun.HANG_S)
            except subprocess.TimeoutExpired:
                run.process.kill()


def _start(
    cluster: FlinkCluster, broker: KafkaBroker, out: Path, topic: str, window_s: int
) -> StreamingRun:
    broker.create_topic(topic)
    flags = [
        f"--input_kafka_topic={topic}",
        f"--kafka_bootstrap_servers={broker.bootstrap}",
        f"--kafka_group_id={topic}",
        f"--stages={STAGES}",
        f"--window_s={window_s}",
        "--checkpointing_interval=2000",
        *cluster.beam_args(topic, ["--environment_type=LOOPBACK"]),
    ]
    run = StreamingRun(broker, out, flags)
    _RUNS.append(run)
    return run


def _records(out: Path) -> dict[Offset, tuple[str, dict]]:
    """(partition, offset) -> (exit, record) of every record in the windows on disk."""
    found = {}
    for _, outputs in read_windows(out).values():
        for sink, records in outputs.items():
            found.update({offset_of(r): (sink, r) for r in records})
    return found


def _finish(run: StreamingRun, cluster: FlinkCluster, topic: str, produced: list[Offset]) -> None:
    """Stop with drain; the job must end FINISHED and every record be accounted for once."""
    assert run.stop(signal.SIGINT) == 0, run.log()
    assert cluster.job(topic)["state"] == "FINISHED"
    assert_windows_conserved(read_windows(run.out), produced, key=offset_of)
    total = read_report(run.out)
    assert total["balanced"] and total["input"] == len(produced)


def _new_topic() -> str:
    return f"records-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def killed_run(cluster, broker, tmp_path_factory):
    """One run through a TaskManager SIGKILL: originals, then more files whose reading the
    kill interrupts, then (after the restore) exact and near copies of the originals."""
    topic = _new_topic()
    run = _start(cluster, broker, tmp_path_factory.mktemp("killed") / "out", topic, window_s=3)
    rng = random.Random(7)
    originals = broker.produce(topic, [_value(t, i) for i, t in enumerate(FILES[:5])])
    originals += broker.produce(topic, list(HOSTILE.values()))
    run.wait_for(len(originals))
    broker.wait_committed(topic, topic)  # a checkpoint holds the originals in dedup state
    middle = broker.produce(topic, [_value(t, 10 + i) for i, t in enumerate(FILES[5:])])
    killed = cluster.kill_taskmanager()
    copies = broker.produce(
        topic, [_value(FILES[0] + "\n\n", 20), _value(near_copy(FILES[1], rng), 21)]
    )
    produced = originals + middle + copies
    run.wait_for(len(produced))
    restored = cluster.rest(f"/jobs/{cluster.job(topic)['jid']}/checkpoints")["counts"]
    _finish(run, cluster, topic, produced)
    return {
        "records": _records(run.out),
        "originals": originals,
        "copies": copies,
        "killed": killed,
        "restored": restored["restored"],
    }


def test_taskmanager_killed_mid_stream_every_offset_in_one_exit_of_one_window(killed_run):
    assert killed_run["restored"] >= 1, "Flink restored no checkpoint after the kill"
    records = killed_run["records"]
    kinds = {offset: records[offset][1]["error_type"] for offset in killed_run["originals"][5:]}
    assert sorted(kinds.values()) == sorted(HOSTILE)
    assert all(records[o][0] == "dead_letter" for o in kinds)
    assert all(records[o][0] == "kept" for o in killed_run["originals"][:5])


def test_dedup_state_restored_from_a_checkpoint_rejects_a_later_copy(killed_run):
    records = killed_run["records"]
    exact, near = killed_run["copies"]
    first, second = (records[o][1]["id"] for o in killed_run["originals"][:2])
    assert records[exact][0] == "rejected"
    assert (records[exact][1]["reason"], records[exact][1]["duplicate_of"]) == (
        Reason.EXACT_DUPLICATE,
        first,
    )
    assert records[near][0] == "rejected"
    assert (records[near][1]["reason"], records[near][1]["duplicate_of"]) == (
        Reason.NEAR_DUPLICATE,
        second,
    )


def test_stop_with_drain_mid_window_writes_that_window(cluster, broker, tmp_path):
    topic = _new_topic()
    # Windows of 10 minutes: only the drain can close the one these records are in.
    run = _start(cluster, broker, tmp_path / "out", topic, window_s=600)
    produced = broker.produce(topic, [_value(t, i) for i, t in enumerate(FILES[:4])])
    produced += broker.produce(topic, [HOSTILE[ErrorKind.INVALID_JSON]])
    broker.wait_committed(topic, topic)  # read and checkpointed, the window still open
    assert read_windows(run.out) == {}
    _finish(run, cluster, topic, produced)
    assert len(read_windows(run.out)) in (1, 2)  # a window edge may fall between records
    assert broker.committed(topic, topic) == broker.end_offsets(topic)


def test_broker_restarted_mid_run_loses_nothing(cluster, broker, tmp_path):
    topic = _new_topic()
    run = _start(cluster, broker, tmp_path / "out", topic, window_s=3)
    produced = broker.produce(topic, [_value(t, i) for i, t in enumerate(FILES[:4])])
    run.wait_for(len(produced))
    broker.stop()
    broker.start()
    produced += broker.produce(topic, [_value(t, 10 + i) for i, t in enumerate(FILES[4:8])])
    run.wait_for(len(produced))
    _finish(run, cluster, topic, produced)
    assert all(sink == "kept" for sink, _ in _records(run.out).values())
