"""The rewriting stages' plain functions: requests, verdicts and the way back to the original.

(``generation[stage]`` with ``prompt_sha`` is stamped by LLMStage on every record
it lets out; tests/test_rewrite_pipelines.py checks it on every exit.)"""

from __future__ import annotations

import random

from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.prompts import load_prompt
from beam_swallow.records import ID, TEXT, Reason, Reject, text_id
from beam_swallow.transforms.math_rewrite import build_math_request, judge_math
from beam_swallow.transforms.rewriting import RewriteConfig, build_request
from beam_swallow.transforms.scor import judge_scor
from beam_swallow.transforms.sgcr import judge_sgcr

ENGINE = EngineConfig()
ORIGINAL = "def f(x):\n  return x*2\n"


def record(text: str = ORIGINAL) -> dict:
    return {ID: "r1", TEXT: text, "path": "a.py", "generation": {"syntax": {"note": 1}}}


def answer(text: str) -> ChatResult:
    return ChatResult("r1", text, "stop", prompt_tokens=10, completion_tokens=20)


def sgcr_answer(code: str, score: str = "6") -> str:
    return f"### Evaluation Score\n{score}\n### Suggestions\n- Type hints.\n### Improved Code\n```python\n{code}```\n"


def test_request_is_prompt_then_record():
    cfg = RewriteConfig(load_prompt("sgcr"))
    request = build_request(record(), ENGINE, cfg)
    assert isinstance(request, ChatRequest)
    assert request.id == "r1"
    assert request.messages[0].role == "system"
    assert request.messages[-1].content == ORIGINAL
    assert request.sampling == ENGINE.sampling


def test_sgcr_keeps_code_score_suggestions_and_provenance():
    cfg = RewriteConfig(load_prompt("sgcr"))
    code = "def double(x: int) -> int:\n    return x * 2\n"
    out = judge_sgcr(record(), answer(sgcr_answer(code)), cfg)
    assert out[TEXT] == code.strip()  # stripped, as the paper extracts it
    assert out["sgcr_score"] == 6.0
    assert out["suggestions"] == ["Type hints."]
    assert out["sgcr_compiles"] is True
    assert out["original_sha1"] == text_id(ORIGINAL)
    assert "original_text" not in out
    assert out["generation"] == {"syntax": {"note": 1}}
    assert out["path"] == "a.py" and out[ID] == "r1"


def test_sgcr_keep_original_and_uncompilable_rewrite_marked():
    cfg = RewriteConfig(load_prompt("sgcr"), keep_original=True)
    out = judge_sgcr(record(), answer(sgcr_answer("def broken(:\n", "N/A")), cfg)
    assert out["original_text"] == ORIGINAL
    assert out["sgcr_compiles"] is False
    assert out["sgcr_score"] == -1.0


def test_sgcr_rejections():
    cfg = RewriteConfig(load_prompt("sgcr"))
    verdict = judge_sgcr(record(), answer("### Evaluation Score\n3\nNo code today."), cfg)
    assert isinstance(verdict, Reject) and verdict.reason == Reason.NO_CODE_BLOCK
    assert verdict.fields["sgcr_score"] == 3.0
    assert verdict.fields["answer"].startswith("### Evaluation")
    assert "generation" not in verdict.fields  # the rejected record keeps its own
    rng = random.Random(0)
    chunk = "".join(rng.choice("abcdefgh ") for _ in range(120))
    looping = "x = '" + "".join(rng.choice("ijklm") for _ in range(900)) + chunk * 3 + "'\n"
    verdict = judge_sgcr(record(), answer(sgcr_answer(looping)), cfg)
    assert isinstance(verdict, Reject) and verdict.reason == Reason.REPETITION


def test_scor_verdicts():
    cfg = RewriteConfig(load_prompt("scor"))
    program = '"""Doubles."""\n\n\ndef double(value: int) -> int:\n    return value * 2\n'
    out = judge_scor(record(), answer(f"```\n{program}\n```"), cfg)
    assert out[TEXT] == program
    assert out["compiles"] is True
    assert out["original_sha1"] == text_id(ORIGINAL)
    for text, reason in [
        ("Sure! Here is the code.", Reason.NO_CODE_BLOCK),
        ("```python\nx = 1\n", Reason.NO_CODE_BLOCK),
        ("```python\nprint('hi')\n```", Reason.TOO_SHORT),
        (
            "```python\n" + "def f(:\n    pass  # a long enough broken line here to keep\n" + "```",
            Reason.DOES_NOT_COMPILE,
        ),
    ]:
        verdict = judge_scor(record(), answer(text), cfg)
        assert isinstance(verdict, Reject) and verdict.reason == reason, text


def test_scor_too_short_boundary_and_keep_uncompilable():
    cfg = RewriteConfig(load_prompt("scor"), keep_uncompilable=True)
    exactly_50 = "x = '" + "a" * 44 + "'"
    assert len(exactly_50) == 50
    assert judge_scor(record(), answer(f"```\n{exactly_50}\n```"), cfg).reason == Reason.TOO_SHORT
    out = judge_scor(record(), answer(f"```\n{exactly_50}#\n```"), cfg)
    assert out["compiles"] is True
    broken = "def f(:\n    pass  # a long enough broken line here to keep\n"
    out = judge_scor(record(), answer(f"```python\n{broken}```"), cfg)
    assert out["compiles"] is False and out[TEXT] == broken


def test_scor_after_sgcr_keeps_the_first_original():
    cfg = RewriteConfig(load_prompt("scor"), keep_original=True)
    after_sgcr = {**record("y = 2\n"), "original_sha1": "abc", "original_text": "first"}
    program = "def main() -> None:\n    print('a fairly long line of output here')\n"
    out = judge_scor(after_sgcr, answer(f"```python\n{program}```"), cfg)
    assert out["original_sha1"] == "abc" and out["original_text"] == "first"


def test_math_request_limit_counts_every_turn():
    prompt = load_prompt("math_rewrite")
    page = "p" * 100
    cfg = RewriteConfig(prompt, max_prompt_chars=prompt.chars + 100)
    assert isinstance(build_math_request(record(page), ENGINE, cfg), ChatRequest)
    verdict = build_math_request(record(page + "!"), ENGINE, cfg)
    assert isinstance(verdict, Reject) and verdict.reason == Reason.TOO_LONG
    assert verdict.fields["prompt_chars"] == prompt.chars + 101


def test_math_keeps_the_whole_answer():
    cfg = RewriteConfig(load_prompt("math_rewrite"))
    text = "Question: What is 2 + 3?\n\nSolution:\n1. Add.\n\nFinal answer: $5$\n  "
    out = judge_math(record("page"), answer(text), cfg)
    assert out[TEXT] == text
    assert out["original_sha1"] == text_id("page")
    short = judge_math(record("page"), answer("  " + "x" * 50 + "\n"), cfg)
    assert isinstance(short, Reject) and short.reason == Reason.TOO_SHORT
