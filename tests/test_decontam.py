"""Decontamination against HumanEval (from the installed package) and user JSONL."""

from __future__ import annotations

import json

import pytest

from beam_swallow.dedup.contamination import BenchmarkIndex, humaneval_items, jsonl_items
from beam_swallow.dedup.minhash import MinhashConfig
from beam_swallow.records import Reason, Reject
from beam_swallow.samples import code_sample_records
from beam_swallow.transforms.decontaminate import DecontamConfig, Decontaminate, _Judge

# Our own words, shaped like a grade-school math benchmark line.
MATH_ROWS = [
    {
        "id": "toy-1",
        "question": "A baker fills 7 trays with 12 rolls each and sells 50 rolls by noon. "
        "How many rolls are left?",
        "answer": "7 * 12 = 84 rolls; 84 - 50 = 34 rolls are left. #### 34",
    },
    {"id": "toy-2", "question": "short", "answer": "1"},
]


@pytest.fixture(scope="module")
def humaneval():
    return humaneval_items()


@pytest.fixture(scope="module")
def index(humaneval):
    return BenchmarkIndex(humaneval, MinhashConfig(), min_chars=50)


def test_humaneval_ships_with_the_package(humaneval):
    assert len(humaneval) == 164
    assert humaneval[0].task_id == "HumanEval/0"
    assert all(len(item.needles) == 2 for item in humaneval)


def test_prompt_inside_a_file_is_found_even_reindented(index, humaneval):
    item = humaneval[10]
    prompt = item.needles[0].replace("    ", "\t")
    text = "import os\n\n\n" + prompt + item.needles[1] + "\n\nprint('done')\n"
    found = index.check(text, 0.8)
    assert found is not None
    assert (found.benchmark, found.task_id, found.match) == ("humaneval", item.task_id, "substring")


def test_edited_copy_is_found_by_minhash(index, humaneval):
    item = max(humaneval, key=lambda i: min(len(n) for n in i.needles))

    def interrupt(needle):
        lines = needle.splitlines()
        middle = len(lines) // 2
        return "\n".join(lines[:middle] + ["    # reviewed"] + lines[middle:])

    text = interrupt(item.needles[0]) + "\n" + interrupt(item.needles[1])
    found = index.check(text, 0.8)
    assert found is not None
    assert (found.task_id, found.match) == (item.task_id, "minhash")
    assert 0.8 <= found.similarity < 1.0


def test_clean_code_is_kept(index):
    records = code_sample_records(60)
    assert [r["path"] for r in records if index.check(r["text"], 0.8)] == []


def test_user_jsonl_items_and_judge(tmp_path):
    path = tmp_path / "toymath.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in MATH_ROWS) + "\n")
    items = jsonl_items(str(path))
    assert [(i.benchmark, i.task_id) for i in items] == [("toymath", "toy-1"), ("toymath", "toy-2")]
    judge = _Judge(DecontamConfig(files=(str(path),), humaneval=False))
    page = "Worksheet\n\n" + MATH_ROWS[0]["question"] + "\n\nShow your work."
    verdict = judge({"id": "p", "text": page})
    assert isinstance(verdict, Reject) and verdict.reason == Reason.CONTAMINATED
    assert verdict.fields["benchmark_task_id"] == "toy-1"
    assert judge({"id": "q", "text": "What is 2 + 2? It is 4."})["id"] == "q"
    assert judge({"id": "s", "text": "short"})["id"] == "s"  # below min_chars


def test_skip_humaneval_and_missing_file(humaneval):
    judge = _Judge(DecontamConfig(humaneval=False))
    assert judge({"id": "h", "text": humaneval[0].needles[0]})["id"] == "h"
    with pytest.raises(ValueError, match="not found"):
        Decontaminate(DecontamConfig(files=("/nonexistent/bench.jsonl",)))
    with pytest.raises(ValueError):
        DecontamConfig(threshold=1.5)
