"""Inputs and checks the Flink suites share (tests/test_flink.py, tests/test_image.py).

A job on Flink is judged against the same job on the FnApiRunner: every record
leaves by the same exit with the same reason, once, and report.json balances.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from beam_swallow.dedup.contamination import humaneval_items
from beam_swallow.prompts import PROMPT_NAMES
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.flink import exits
from beam_swallow.testing.lint_reference import stdlib_sources

CODE_STAGES = "syntax,lint,exact_dedup,near_dedup,decontaminate,sgcr,scor"
LLM = ["--engine", "embedded", "--max_tokens", "16"]
LLM_STAGES = frozenset(PROMPT_NAMES)  # the rewriting stages, each named as its prompt

HOSTILE: list[bytes] = [
    b'{"text": "unterminated',
    b"[1, 2]",
    b'{"content": "no text field"}',
    b'{"text": "caf\xe9 = 1"}',
    json.dumps({"text": "x = 1\0"}).encode(),
    json.dumps({"text": "x = " + "(" * 300 + ")" * 300}).encode(),
    json.dumps({"text": "print 'old'\n"}).encode(),
]


def code_input_lines(files: int = 6) -> bytes:
    """Real stdlib files, an exact and a near copy, two HumanEval tasks, then HOSTILE.

    As JSON Lines; 4 of the hostile lines are read dead letters, 3 are syntax rejects.
    """
    sources = stdlib_sources(files, max_bytes=2_500)
    near = max(sources, key=len) + "\nprint('edited copy')\n"
    tasks = [item.text for item in humaneval_items()[2:4]]  # prompt and solution
    texts = [*sources, sources[1], near, *tasks]
    lines = [json.dumps({"text": t, "n": i}).encode() for i, t in enumerate(texts)]
    return b"\n".join([*lines, *HOSTILE]) + b"\n"


def conserved_report(out: Path) -> dict:
    """report.json of ``out``, checked against the output files themselves."""
    report = read_report(out)
    assert_conserved(report, read_outputs(out))
    return report


def assert_same_exits(flink_out: Path, local_out: Path) -> None:
    """Every record left both runs by the same exit (and reason), each exactly once."""
    on_flink = exits(flink_out, LLM_STAGES)
    on_local = exits(local_out, LLM_STAGES)
    for name, counted in on_flink.items():
        assert all(n == 1 for n in counted.values()), f"a record left twice by {name}"
    assert on_flink == on_local
    flink_report, local_report = conserved_report(flink_out), conserved_report(local_out)
    for stage, entry in local_report["stages"].items():
        if stage not in LLM_STAGES:
            assert flink_report["stages"][stage] == entry, stage


def new_job_name() -> str:
    """A job name no other test uses, to find the job in Flink's job list."""
    return f"beam-swallow-test-{uuid.uuid4().hex[:12]}"
