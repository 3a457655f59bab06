"""``beam-swallow code --streaming`` end to end against Google's Pub/Sub emulator.

The emulator runs for real (``gcloud beta emulators pubsub start``); the
pipeline runs as a user would start it, in its own process, on Beam's
streaming DirectRunner, reading a subscription. Tests wait for windows by
reading the reports the run writes (never by sleeping a fixed time), then
stop the run with a signal, as a user would.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest

from beam_swallow.records import ErrorKind, Reason
from beam_swallow.samples import code_sample_records
from beam_swallow.testing.outputs import read_report
from beam_swallow.testing.planted import near_copy
from beam_swallow.testing.pubsub import (
    PROJECT,
    StreamingRun,
    emulator_available,
    pubsub_emulator,
)
from beam_swallow.testing.windows import assert_windows_conserved, message_exits, read_windows

pytestmark = pytest.mark.skipif(
    not emulator_available() and not os.environ.get("CI"),
    reason="needs gcloud's Pub/Sub emulator (google-cloud-cli-pubsub-emulator)",
)

# --min_quality 0: lint scores every file and all go on, so dedup meets each copy.
FLAGS = [
    "--stages=syntax,lint,exact_dedup,near_dedup,decontaminate",
    "--window_s=2",
    "--min_quality=0",
]

FILES = code_sample_records(12, max_bytes=3_000)
HOSTILE = {
    ErrorKind.INVALID_JSON: b"{not json",
    ErrorKind.INVALID_UTF8: b'{"text": "\xff\xfe"}',
    ErrorKind.NOT_AN_OBJECT: b'["text"]',
    ErrorKind.MISSING_TEXT: b'{"content": "x = 1"}',
}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    with pubsub_emulator(tmp_path_factory.mktemp("pubsub")) as running:
        yield running


def _message(text: str, **attrs: str) -> tuple[bytes, dict[str, str]]:
    return json.dumps({"text": text}).encode("utf-8"), attrs


def test_every_message_ends_in_exactly_one_exit_of_one_window(emulator, tmp_path):
    topic, subscription = emulator.create("records", "records-sub")
    rng = random.Random(5)
    first = [_message(f["text"], path=f["path"]) for f in FILES]
    first += [_message(FILES[0]["text"] + "\n\n"), _message(near_copy(FILES[1]["text"], rng))]
    first += [(data, {"hostile": kind}) for kind, data in HOSTILE.items()]
    run = StreamingRun(emulator, tmp_path / "out", [f"--input_subscription={subscription}", *FLAGS])
    first_ids = emulator.publish(topic, first)
    run.wait_for(len(first_ids))
    # Published after the first messages' windows are on disk: read in later windows.
    second = [
        _message(FILES[2]["text"]),
        _message(near_copy(FILES[3]["text"], rng)),
        _message("def broken(:\n"),
    ]
    second_ids = emulator.publish(topic, second)
    run.wait_for(len(first_ids) + len(second_ids))
    assert run.stop(signal.SIGINT) == 0, run.log()

    windows = read_windows(run.out)
    assert_windows_conserved(windows, first_ids + second_ids)
    where = {mid: spots[0] for mid, spots in message_exits(windows).items()}
    assert len({where[mid][0] for mid in first_ids} | {where[mid][0] for mid in second_ids}) >= 2
    assert {where[mid][0] for mid in second_ids}.isdisjoint(where[mid][0] for mid in first_ids)
    records = {}
    for _, outputs in windows.values():
        for sink, found in outputs.items():
            records.update({r["pubsub"]["message_id"]: (sink, r) for r in found})
    file_ids = first_ids[: len(FILES)]
    assert all(records[mid][0] == "kept" for mid in file_ids), [records[m] for m in file_ids]
    for copy, original, reason in [
        (first_ids[len(FILES)], file_ids[0], Reason.EXACT_DUPLICATE),
        (first_ids[len(FILES) + 1], file_ids[1], Reason.NEAR_DUPLICATE),
        (second_ids[0], file_ids[2], Reason.EXACT_DUPLICATE),
        (second_ids[1], file_ids[3], Reason.NEAR_DUPLICATE),
    ]:
        sink, record = records[copy]
        assert (sink, record["reason"]) == ("rejected", reason), record
        assert record["duplicate_of"] == records[original][1]["id"]
    for mid, (kind, _) in zip(first_ids[-len(HOSTILE) :], HOSTILE.items(), strict=True):
        sink, letter = records[mid]
        assert (sink, letter["error_type"]) == ("dead_letter", kind)
        assert letter["pubsub"]["attributes"] == {"hostile": kind}
    assert records[second_ids[2]][1]["reason"] == Reason.SYNTAX_ERROR
    total = read_report(run.out)
    assert total["balanced"] and total["input"] == len(first_ids) + len(second_ids)
    assert total["windows"] == len(windows)


def test_a_topic_read_and_sigterm_leaves_closed_windows_complete(emulator, tmp_path):
    topic, _ = emulator.create("stop", "stop-sub")
    run = StreamingRun(emulator, tmp_path / "out", [f"--input_topic={topic}", *FLAGS])
    # The run reads the topic through a subscription of its own, which sees only what is
    # published after it exists: wait for it (the fixture's own makes one).
    deadline = time.monotonic() + StreamingRun.HANG_S
    while len(emulator.subscriptions(topic)) < 2:
        assert run.process.poll() is None, run.log()
        assert time.monotonic() < deadline, run.log()
        time.sleep(0.5)
    early = emulator.publish(topic, [_message(f["text"]) for f in FILES[:4]])
    run.wait_for(len(early))
    late = emulator.publish(topic, [_message(f["text"]) for f in FILES[4:]])
    assert run.stop(signal.SIGTERM) == 0, run.log()

    windows = read_windows(run.out)
    # Messages of windows still open at the signal may be gone with the process
    # (the DirectRunner acknowledges what it pulls); every window on disk is whole.
    written = list(message_exits(windows))
    assert set(early) <= set(written) <= set(early) | set(late)
    assert_windows_conserved(windows, written)


@pytest.mark.parametrize(
    "flag, what", [("--input_subscription", "subscriptions"), ("--input_topic", "topics")]
)
def test_a_missing_subscription_or_topic_is_a_clear_error(
    emulator, monkeypatch, capsys, tmp_path, flag, what
):
    from beam_swallow.cli import main

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator.host)
    source = f"projects/{PROJECT}/{what}/missing"
    argv = ["code", "--streaming", f"{flag}={source}", f"--output={tmp_path / 'out'}"]
    assert main(argv) == 2
    assert f"{source} does not exist" in capsys.readouterr().err
