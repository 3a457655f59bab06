"""Kafka records through the read stage and the window writer, without a broker.

Rows shaped as Beam's Kafka read gives them (topic, partition, offset,
timestamp, key, value) go through :class:`ParseKafka` and
:class:`WriteWindows` on the FnApiRunner; a second run over the same output
directory plays a window firing again after a restore. The flags are checked
through the CLI in-process. The read from a real broker on Flink is
``tests/test_kafka_flink.py``.
"""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.transforms.window import TimestampedValue

from beam_swallow.cli import main
from beam_swallow.io import READ_STAGE, ReaderConfig
from beam_swallow.pipelines.graph import apply_stages
from beam_swallow.records import ErrorKind, Reason
from beam_swallow.streaming import WriteWindows
from beam_swallow.streaming.config import KafkaConfig
from beam_swallow.streaming.kafka import ParseKafka
from beam_swallow.testing.kafka import offset_of
from beam_swallow.testing.windows import assert_windows_conserved, read_windows
from beam_swallow.transforms import Syntax

WINDOW_S = 60
T0 = 1_796_000_070_000  # ms since the epoch, 30 s into a minute


def _row(offset: int, value: bytes, at_ms: int, key: bytes | None = b"k") -> beam.Row:
    return beam.Row(
        topic="records",
        partition=offset % 2,
        offset=offset,
        timestamp=at_ms,
        key=key,
        value=value,
    )


def _run(rows: list[beam.Row], out) -> dict:
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        stamped = pipeline | beam.Create(
            [TimestampedValue(row, row.timestamp / 1000) for row in rows]
        )
        read = stamped | ParseKafka(ReaderConfig(), WINDOW_S)
        results = apply_stages(read, {"syntax": Syntax()})
        results | WriteWindows(str(out), [READ_STAGE, "syntax"])
    return read_windows(out)


ROWS = [
    _row(0, json.dumps({"text": "x = 1\n", "kafka": "input field"}).encode(), T0),
    _row(1, json.dumps({"text": "def f(:\n"}).encode(), T0 + 5_000, key=None),
    _row(2, b"{not json", T0 + 10_000, key=b"\xff"),
    _row(3, json.dumps({"text": "y = 2\n"}).encode(), T0 + 35_000),  # the next minute
]


def test_each_row_is_one_record_with_its_kafka_position_in_its_log_append_window(tmp_path):
    windows = _run(ROWS, tmp_path / "out")
    assert_windows_conserved(windows, [(r.partition, r.offset) for r in ROWS], key=offset_of)
    assert len(windows) == 2  # by the rows' own timestamps, not by when they were read
    found = {
        offset_of(record): (sink, record)
        for _, outputs in windows.values()
        for sink, records in outputs.items()
        for record in records
    }
    sink, kept = found[(0, 0)]
    assert sink == "kept"
    assert kept["kafka"] == {
        "topic": "records",
        "partition": 0,
        "offset": 0,
        "timestamp": "2026-11-30T00:54:30+00:00",
        "key": "k",
        "input": "input field",
    }
    assert found[(1, 1)][0] == "rejected" and found[(1, 1)][1]["reason"] == Reason.SYNTAX_ERROR
    assert found[(1, 1)][1]["kafka"]["key"] is None
    sink, letter = found[(0, 2)]
    assert (sink, letter["error_type"], letter["raw"]) == (
        "dead_letter",
        ErrorKind.INVALID_JSON,
        "{not json",
    )
    assert letter["kafka"]["key"] == "\\xff"


def test_a_window_fired_again_rewrites_its_files_and_leaves_no_stale_one(tmp_path):
    out = tmp_path / "out"
    first = _run(ROWS, out)
    name = min(first)
    files = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.gz")}
    assert set(first[name][0]["files"]) == {"kept", "rejected", "dead_letter"}

    # The same window again with the same records: the same files, byte for byte.
    _run(ROWS, out)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*.gz")} == files

    # Fired again with only its kept record (as if the others had gone to another window):
    # the records of the earlier firing's rejected and dead-letter files must not survive.
    again = _run([ROWS[0]], out)
    report, outputs = again[name]
    assert {sink: entry["records"] for sink, entry in report["files"].items()} == {
        "kept": 1,
        "rejected": 0,
        "dead_letter": 0,
    }
    assert report["input"] == 1
    assert (outputs["rejected"], outputs["dead_letter"]) == ([], [])
    written = sorted(str(p.relative_to(out)) for p in out.rglob(f"{name}*"))
    assert written == [f"{d}/{name}.jsonl.gz" for d in ("dead_letter", "kept", "rejected")] + [
        f"reports/{name}.json"
    ]
    assert not list(out.rglob("*.tmp-*"))


def test_an_empty_closing_pane_leaves_the_window_as_written(tmp_path):
    """On Flink a window whose on-time firing was also its last fires once more, empty
    (Python's closing behaviour EMIT_ALWAYS): the writers must skip that pane."""
    from apache_beam.transforms.window import IntervalWindow
    from apache_beam.utils.timestamp import Timestamp

    from beam_swallow.streaming.windows import _WriteReport, _WriteSinkFile

    out = tmp_path / "out"
    name, (report, _) = min(_run(ROWS, out).items())
    written = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    window = IntervalWindow(
        Timestamp.from_rfc3339(report["window"]["start"]),
        Timestamp.from_rfc3339(report["window"]["end"]),
    )
    for sink in report["files"]:
        assert list(_WriteSinkFile(str(out), "gzip").process((sink, []), window=window)) == []
    assert list(_WriteReport(str(out), [READ_STAGE, "syntax"]).process((None, []), window)) == []
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == written


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--input_kafka_topic=t"], "need --streaming"),
        (
            ["--streaming", "--input_kafka_topic=t", "--kafka_consumer_config=group.id=x"],
            "may not set group.id",
        ),
        (
            ["--streaming", "--input_kafka_topic=t", "--kafka_bootstrap_servers=nohost"],
            "HOST:PORT",
        ),
        (
            ["--streaming", "--input_kafka_topic=t", "--input_topic=projects/p/topics/t"],
            "exactly one",
        ),
        (["--streaming", "--input_kafka_topic=t"], "--runner=FlinkRunner"),
        (
            [
                "--streaming",
                "--input_kafka_topic=t",
                "--runner=FlinkRunner",
                "--flink_master=localhost:1",
            ],
            "--checkpointing_interval",
        ),
    ],
)
def test_kafka_flags_are_checked_before_anything_runs(capsys, tmp_path, flags, message):
    assert main(["code", f"--output={tmp_path / 'out'}", *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_consumer_settings_leave_offsets_to_checkpoints():
    config = KafkaConfig(
        "t", "a:1,b:2", "g", consumer=(("auto.offset.reset", "latest"), ("fetch.min.bytes", "1"))
    )
    assert config.consumer_settings() == {
        "auto.offset.reset": "latest",
        "fetch.min.bytes": "1",
        "bootstrap.servers": "a:1,b:2",
        "group.id": "g",
    }
    with pytest.raises(ValueError, match="enable.auto.commit"):
        KafkaConfig("t", consumer=(("enable.auto.commit", "true"),))
