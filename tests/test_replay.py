"""Replaying a run's dead letters: the old failure's fields go, each record re-enters where it failed."""

from __future__ import annotations

import json
from pathlib import Path

from beam_swallow.cli import main
from beam_swallow.records import REPLAYED_FROM, dead_letter, replayed
from beam_swallow.testing import assert_conserved, read_outputs, read_report

_OLD_FIELDS = ("stage", "error_type", "error", "traceback")


def test_a_dead_letter_gives_back_its_record_without_the_failed_request():
    record = {
        "id": "r",
        "text": "x = 1\n",
        "url": "u",
        "generation": {"sgcr": {"max_tokens": 8192}, "scor": {"max_tokens": 8192}},
    }
    letter = dead_letter(record, "scor", RuntimeError("HTTP 400: max_tokens too large"))
    back = replayed(letter)
    assert back == {
        "id": "r",
        "text": "x = 1\n",
        "url": "u",
        "generation": {"sgcr": {"max_tokens": 8192}},  # how the text it holds was made
        REPLAYED_FROM: "scor",
    }
    only_failed = dead_letter({**record, "generation": {"sgcr": {}}}, "sgcr", ValueError("x"))
    assert "generation" not in replayed(only_failed)
    # a record that is not a dead letter (a rejected one has no error_type) stays as it is
    rejected = {"id": "r", "text": "t", "stage": "lint", "reason": "low_quality"}
    assert replayed(rejected) is rejected


GOOD = "def add(a, b):\n    return a + b\n"
OTHER = "class Point:\n    def __init__(self, x):\n        self.x = x\n"


def _first_run(tmp_path: Path) -> Path:
    lines = [
        json.dumps({"id": "a", "text": GOOD, "repo": "r/1"}),
        json.dumps({"id": "a", "text": OTHER, "repo": "r/2"}),  # same id, other text
        json.dumps({"id": "b", "text": "x = (\n"}),
        '{"text": "unterminated',
        json.dumps({"id": "c", "text": "import os\nprint(os.sep)\n"}),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "run1"
    argv = ["code", "--stages", "syntax,exact_dedup,near_dedup", "--quiet"]
    assert main([*argv, "--input", str(source), "--output", str(out)]) == 0
    letters = read_outputs(out)["dead_letter"]
    assert sorted((d["stage"], d["error_type"]) for d in letters) == [
        ("near_dedup", "duplicate_id"),
        ("read", "invalid_json"),
    ]
    return out


def test_replaying_a_run_s_dead_letters(tmp_path, capsys):
    first = _first_run(tmp_path)
    out = tmp_path / "replay"
    argv = ["code", "--stages", "syntax,exact_dedup,near_dedup", "--quiet"]
    pattern = str(first / "dead_letter" / "*")
    assert main([*argv, "--input", pattern, "--output", str(out)]) == 0
    assert ", 1 replayed from dead letters" in capsys.readouterr().out
    report = read_report(out)
    outputs = read_outputs(out)
    assert_conserved(report, outputs)
    assert report["input"] == 2 and report["replayed"] == 1
    # the duplicate went past syntax and exact_dedup, which it had passed, and is
    # now alone with its id in near_dedup
    assert report["stages"]["syntax"]["replayed"] == 1
    assert report["stages"]["near_dedup"]["kept"] == 1
    [kept] = outputs["kept"]
    assert kept["id"] == "a" and kept[REPLAYED_FROM] == "near_dedup"
    assert not set(_OLD_FIELDS) & set(kept)
    # the line that was never JSON is read as it was first read, and fails the same way
    [again] = outputs["dead_letter"]
    assert (again["stage"], again["error_type"]) == ("read", "invalid_json")
    assert again["raw"] == '{"text": "unterminated'


def test_a_replay_into_the_run_it_reads_is_refused(tmp_path, capsys):
    first = _first_run(tmp_path)
    argv = ["code", "--stages", "syntax", "--quiet", "--output", str(first)]
    assert main([*argv, "--input", str(first / "dead_letter" / "*")]) == 2
    assert "which this run clears before it reads" in capsys.readouterr().err
    assert list((first / "dead_letter").iterdir())  # still there
