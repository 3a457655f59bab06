"""Streaming graph on TestStream (Beam's BundleBasedDirectRunner, the streaming DirectRunner).

Messages are scripted with their publish times (TestStream timestamps) and read
times (the ``read_time`` ParseMessages stamps windows with), so each test knows
which window every record belongs to. Every run checks each window's report
against its files and that every message leaves through exactly one exit.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.io.gcp.pubsub import PubsubMessage
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner
from apache_beam.testing.test_stream import TestStream as ScriptedStream
from apache_beam.transforms.window import TimestampedValue

from beam_swallow.dedup.minhash import MinhashConfig
from beam_swallow.io import READ_STAGE, ReaderConfig
from beam_swallow.pipelines.graph import apply_stages
from beam_swallow.records import ErrorKind, Reason
from beam_swallow.samples import code_sample_records
from beam_swallow.streaming import ParseMessages, WriteWindows
from beam_swallow.testing.planted import mutate, near_copy
from beam_swallow.testing.windows import assert_windows_conserved, message_exits, read_windows
from beam_swallow.transforms import Syntax
from beam_swallow.transforms.stream_dedup import StateConfig, StreamExactDedup, StreamNearDedup

WINDOW_S = 60
FILES = code_sample_records(6, max_bytes=3_000)


class Script:
    """Messages in arrival order: id -> (data, publish time, read time)."""

    def __init__(self):
        self.messages: list[tuple[str, bytes, float, float]] = []

    def add(self, data: bytes | dict, published: float, read: float | None = None) -> str:
        mid = f"m{len(self.messages)}"
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        self.messages.append((mid, body, published, published if read is None else read))
        return mid

    def read_time(self, message: PubsubMessage) -> float:
        return {mid: read for mid, _, _, read in self.messages}[message.message_id]

    def stream(self, watermarks: dict[int, float]) -> ScriptedStream:
        """All messages, advancing the watermark to ``watermarks[i]`` before message i."""
        stream = ScriptedStream().advance_watermark_to(0)
        for number, (mid, body, published, _) in enumerate(self.messages):
            if number in watermarks:
                stream = stream.advance_watermark_to(watermarks[number])
            message = PubsubMessage(body, {"n": str(number)}, message_id=mid)
            stream = stream.add_elements([TimestampedValue(message, published)])
        return stream.advance_watermark_to_infinity()


def _run(
    script: Script,
    out: Path,
    stages: dict,
    watermarks: dict[int, float] | None = None,
    compression: str = "gzip",
):
    options = PipelineOptions(flags=[], streaming=True)
    with beam.Pipeline(runner=BundleBasedDirectRunner(), options=options) as pipeline:
        read = (
            pipeline
            | script.stream(watermarks or {})
            | ParseMessages(ReaderConfig(), WINDOW_S, script.read_time)
        )
        results = apply_stages(read, stages)
        results | WriteWindows(str(out), [READ_STAGE, *stages], compression=compression)
    windows = read_windows(out)
    assert_windows_conserved(windows, [mid for mid, *_ in script.messages])
    return windows


def _where(windows):
    """message id -> (window, exit, record)."""
    found = {}
    for name, (_, outputs) in windows.items():
        for sink, records in outputs.items():
            for record in records:
                found[record["pubsub"]["message_id"]] = (name, sink, record)
    return found


def test_windows_written_with_zstd_hold_every_message(tmp_path):
    script = Script()
    for i in range(3):
        script.add({"text": f"x = {i}\n"}, 5 + i)
    script.add(b"{not json", 9)
    windows = _run(script, tmp_path, {"syntax": Syntax()}, compression="zstd")
    ((report, outputs),) = windows.values()
    assert {sink: entry["path"].rsplit(".", 2)[1:] for sink, entry in report["files"].items()} == {
        "kept": ["jsonl", "zst"],
        "rejected": ["jsonl", "zst"],  # every window writes all three, empty ones too
        "dead_letter": ["jsonl", "zst"],
    }
    assert len(outputs["kept"]) == 3 and len(outputs["dead_letter"]) == 1
    assert outputs["rejected"] == [] and report["files"]["rejected"]["records"] == 0


def test_windows_write_their_own_files_and_balanced_reports(tmp_path):
    script = Script()
    good = [script.add({"text": f["text"], "path": f["path"]}, 5 + i) for i, f in enumerate(FILES)]
    broken = script.add({"text": "def f(:\n"}, 20)
    hostile = {
        ErrorKind.INVALID_JSON: script.add(b"{not json", 21),
        ErrorKind.INVALID_UTF8: script.add(b'{"text": "\xff"}', 22),
        ErrorKind.NOT_AN_OBJECT: script.add(b"[1, 2]", 23),
        ErrorKind.MISSING_TEXT: script.add({"content": "x = 1"}, 24),
    }
    later = script.add({"text": "x = 1\n", "pubsub": "an input field"}, 70)
    windows = _run(script, tmp_path, {"syntax": Syntax()}, {len(script.messages) - 1: 61})

    assert sorted(windows) == [
        "19700101T000000Z_19700101T000100Z",
        "19700101T000100Z_19700101T000200Z",
    ]
    first, second = (windows[name][0] for name in sorted(windows))
    assert first["input"] == len(good) + 1 + len(hostile)
    assert first["kept"] == len(good)
    assert first["rejected"] == {Reason.SYNTAX_ERROR: 1}
    assert first["dead_letter"] == len(hostile)
    assert first["window"] == {"start": "1970-01-01T00:00:00Z", "end": "1970-01-01T00:01:00Z"}
    assert second["input"] == second["kept"] == 1
    # all three files, empty ones too: a window firing again replaces each of them
    assert {sink: e["records"] for sink, e in second["files"].items()} == {
        "kept": 1,
        "rejected": 0,
        "dead_letter": 0,
    }

    where = _where(windows)
    assert where[broken][1] == "rejected"
    for kind, mid in hostile.items():
        _, sink, letter = where[mid]
        assert (sink, letter["error_type"], letter["stage"]) == ("dead_letter", kind, "read")
        assert letter["raw"] and letter["pubsub"]["message_id"] == mid
    record = where[good[0]][2]
    assert record["path"] == FILES[0]["path"]
    assert record["pubsub"]["attributes"] == {"n": "0"}
    assert where[later][2]["pubsub"]["input"] == "an input field"


def _dedup_stages(ttl_s=None):
    state = StateConfig(ttl_s=ttl_s)
    return {
        "exact_dedup": StreamExactDedup(state=state),
        "near_dedup": StreamNearDedup(MinhashConfig(), state),
    }


def test_exact_and_near_copies_within_across_windows_and_late(tmp_path):
    rng = random.Random(11)
    script = Script()
    originals = [script.add({"text": f["text"]}, 1 + i) for i, f in enumerate(FILES)]
    same_window = script.add({"text": FILES[0]["text"] + "\n\n"}, 30)
    near_same_window = script.add({"text": near_copy(FILES[1]["text"], rng)}, 31)
    next_window = script.add({"text": FILES[2]["text"]}, 90)
    near_next_window = script.add({"text": near_copy(FILES[3]["text"], rng)}, 95)
    # Published in the first window, read after the watermark passed it: late by
    # publish time, so it is windowed by when it was read, never dropped.
    late = script.add({"text": FILES[4]["text"]}, 10, read=200)
    near_late = script.add({"text": near_copy(FILES[5]["text"], rng)}, 12, read=201)
    windows = _run(script, tmp_path, _dedup_stages(), {len(originals) + 4: 190})

    where = _where(windows)
    assert all(where[mid][1] == "kept" for mid in originals)
    ids = {mid: where[mid][2]["id"] for mid in originals}
    for copy, original, reason in [
        (same_window, originals[0], Reason.EXACT_DUPLICATE),
        (next_window, originals[2], Reason.EXACT_DUPLICATE),
        (late, originals[4], Reason.EXACT_DUPLICATE),
        (near_same_window, originals[1], Reason.NEAR_DUPLICATE),
        (near_next_window, originals[3], Reason.NEAR_DUPLICATE),
        (near_late, originals[5], Reason.NEAR_DUPLICATE),
    ]:
        name, sink, record = where[copy]
        assert (sink, record["reason"], record["duplicate_of"]) == (
            "rejected",
            reason,
            ids[original],
        )
    assert where[late][0] == where[near_late][0] == "19700101T000300Z_19700101T000400Z"
    assert where[next_window][0] == "19700101T000100Z_19700101T000200Z"


def test_state_expires_after_its_ttl(tmp_path):
    script = Script()
    first = script.add({"text": FILES[0]["text"]}, 10)
    copy_in_time = script.add({"text": FILES[0]["text"]}, 50)
    copy_after_ttl = script.add({"text": FILES[0]["text"]}, 300)
    # The watermark passes 10 + 100 s before the last copy: its digest was forgotten.
    windows = _run(script, tmp_path, _dedup_stages(ttl_s=100), {2: 250})
    where = _where(windows)
    assert where[first][1] == "kept"
    assert where[copy_in_time][1] == "rejected"
    assert where[copy_after_ttl][1] == "kept"


def test_near_copies_read_out_of_order_never_reject_each_other(tmp_path):
    """Many near copies of one file in one bundle: exactly one is kept, whatever the
    order the buckets see them in, and every other names a kept or earlier record."""
    rng = random.Random(3)
    script = Script()
    base = FILES[0]["text"]
    mids = [script.add({"text": mutate(base, 0.02, rng)}, 5) for _ in range(8)]
    windows = _run(script, tmp_path, {"near_dedup": StreamNearDedup(MinhashConfig())})
    exits = {mid: where[0][1] for mid, where in message_exits(windows).items()}
    assert any(exits[mid] == "kept" for mid in mids)
    assert any(exits[mid] == "rejected" for mid in mids)


@pytest.mark.parametrize("verify", ["exact"])
def test_streaming_near_dedup_refuses_exact_verification(verify):
    with pytest.raises(ValueError, match="exact would keep every record's shingles"):
        StreamNearDedup(MinhashConfig(verify=verify))


SUB = "projects/p/subscriptions/s"


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--input_subscription", SUB], "need --streaming"),
        (["--streaming"], "exactly one"),
        (
            ["--streaming", "--input_subscription", SUB, "--input_topic", "projects/p/topics/t"],
            "exactly one",
        ),
        (
            ["--streaming", "--input_subscription", "subscriptions/s"],
            "projects/P/subscriptions/NAME",
        ),
        (["--streaming", "--input_topic", "projects/p/subscriptions/s"], "projects/P/topics/NAME"),
        (
            ["--streaming", "--input_subscription", SUB, "--input", "x.jsonl"],
            "--input is for batch",
        ),
        (
            ["--streaming", "--input_subscription", SUB, "--cache_dir", "c"],
            "--cache_dir is for batch",
        ),
        (
            ["--streaming", "--input_subscription", SUB, "--output_format", "parquet"],
            "JSONL windows",
        ),
        (["--streaming", "--input_subscription", SUB, "--dedup_keep", "best"], "first record seen"),
        (
            ["--streaming", "--input_subscription", SUB, "--near_dedup_verify", "exact"],
            "shingles in state",
        ),
    ],
)
def test_streaming_flags_are_checked_before_anything_runs(tmp_path, capsys, flags, message):
    from beam_swallow.cli import main

    argv = ["dedup", "--output", str(tmp_path / "out"), "--stages", "exact_dedup,near_dedup"]
    assert main([*argv, *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
