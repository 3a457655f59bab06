"""The vllm engine for real: vLLM's CPU build with SmolLM2-135M converted from the GGUF.

Skipped where vllm is not importable (the main test environment); ``make
test-vllm`` builds the vLLM environment and the checkpoint and runs these.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("vllm")

import apache_beam as beam  # noqa: E402
from apache_beam.metrics.metric import MetricsFilter  # noqa: E402
from apache_beam.runners.portability.fn_api_runner import FnApiRunner  # noqa: E402
from apache_beam.testing.util import assert_that, equal_to  # noqa: E402

from beam_swallow.inference import make_handler  # noqa: E402
from beam_swallow.inference.base import Message, SamplingParams  # noqa: E402
from beam_swallow.inference.config import EngineConfig  # noqa: E402
from beam_swallow.prompts import load_prompt  # noqa: E402
from beam_swallow.records import Reason  # noqa: E402
from beam_swallow.transforms.layouts import SGCR_GRAMMAR  # noqa: E402
from beam_swallow.transforms.llm import LLMStage  # noqa: E402
from beam_swallow.transforms.parse import parse_sgcr  # noqa: E402

pytestmark = pytest.mark.vllm

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")

MODEL = os.environ.get("VLLM_TEST_MODEL", ".cache/smollm2-hf")
STAGE = "ask"
ENGINE = EngineConfig(
    engine="vllm",
    model=MODEL,
    dtype="float32",
    max_model_len=2048,
    sampling=SamplingParams(max_tokens=48, seed=5),
    engine_kwargs={"enforce_eager": True},
)
QUESTIONS = [
    "What is the capital of France? Answer in one short sentence.",
    "What is two plus two? Answer in one short sentence.",
    "Which animal says moo? Answer in one short sentence.",
]


@pytest.fixture(scope="module", autouse=True)
def checkpoint():
    if not (Path(MODEL) / "config.json").exists():
        pytest.fail(f"no checkpoint at {MODEL}: run `make vllm-cpu` first")


def build(record):
    messages = (Message("system", "You are a helpful assistant."), Message("user", record["text"]))
    return ENGINE.request(record["id"], messages)


def judge(record, result):
    return {**record, "answer": result.text}


def test_handler_is_shared_per_machine_and_batches():
    handler = make_handler(ENGINE)
    assert handler.share_model_across_processes()
    assert handler.batch_elements_kwargs()["max_batch_size"] == 2048


def test_llm_stage_on_vllm():
    records = [{"id": f"q{i}", "text": q} for i, q in enumerate(QUESTIONS)]
    records.append({"id": "huge", "text": "banana " * 3000})  # > 2048 tokens
    pipeline = beam.Pipeline(runner=FnApiRunner())
    out = pipeline | beam.Create(records) | LLMStage(STAGE, ENGINE, build, judge)
    assert_that(
        out.kept | "KeptIds" >> beam.Map(lambda r: r["id"]),
        equal_to(["q0", "q1", "q2"]),
        label="kept",
    )
    assert_that(
        out.rejected | beam.Map(lambda r: (r["id"], r["reason"])),
        equal_to([("huge", Reason.TOO_LONG)]),
        label="rejected",
    )
    assert_that(out.dead_letter, equal_to([]), label="dead")

    def stamped(kept):
        for record in kept:
            stamp = record["generation"][STAGE]
            assert record["answer"].strip()
            assert stamp["engine"] == "vllm" and stamp["model"] == MODEL
            assert stamp["prompt_tokens"] > 10 and 0 < stamp["completion_tokens"] <= 48

    assert_that(out.kept, stamped, label="stamps")
    total = (
        [out.kept, out.rejected, out.dead_letter] | beam.Flatten() | beam.combiners.Count.Globally()
    )
    assert_that(total, equal_to([len(records)]), label="conservation")
    run = pipeline.run()
    run.wait_until_finish()
    query = run.metrics().query(MetricsFilter().with_namespace("inference.vllm"))
    counters = {c.key.metric.name: c.committed for c in query["counters"]}
    assert counters["requests"] == 4 and counters["too_long"] == 1
    assert counters["completion_tokens"] > 0 and counters["errors"] == 0


def test_structured_outputs_give_sgcr_answers_that_parse():
    """vLLM's structured outputs decode under the SGCR grammar: every answer
    that finishes (the judge here keeps them all) holds a score from 1 to 10 and
    a python block."""
    engine = EngineConfig(**{**ENGINE.__dict__, "sampling": SamplingParams(max_tokens=384, seed=5)})
    prompt = load_prompt("sgcr")
    codes = ["def add(a,b):\n  return a+b\n", "import os\nprint(os.getcwd())\n"]
    records = [{"id": f"c{i}", "text": code} for i, code in enumerate(codes)]

    def build_sgcr(record):
        return engine.request(record["id"], prompt.messages(record["text"]), SGCR_GRAMMAR)

    pipeline = beam.Pipeline(runner=FnApiRunner())
    out = pipeline | beam.Create(records) | LLMStage("sgcr", engine, build_sgcr, judge)

    def parsed(kept):
        assert kept  # an answer may run to max_tokens (rejected truncated); not all of them
        for record in kept:
            assert record["generation"]["sgcr"]["structured"] is True
            answer = parse_sgcr(record["answer"])
            assert 1.0 <= answer.score <= 10.0 and answer.code, record["answer"]

    assert_that(out.kept, parsed, label="parsed")
    pipeline.run().wait_until_finish()


def test_structured_outputs_give_score_answers_that_parse():
    """The v2 score stage on vLLM: decoded under SCORE_GRAMMAR, every answer that
    finishes has a whole score from 0 to 10 and a one-line reason, and is banded."""
    from beam_swallow.transforms.rewriting import RewriteConfig
    from beam_swallow.transforms.score import SCORE_GRAMMAR, Score, ScoreBands, band_of

    engine = EngineConfig(**{**ENGINE.__dict__, "sampling": SamplingParams(max_tokens=96, seed=5)})
    cfg = RewriteConfig(prompt=load_prompt("score"), grammar=SCORE_GRAMMAR)
    bands = ScoreBands(0.0, 10.0)  # no low band: every parsed answer is kept
    codes = ["def add(a,b):\n  return a+b\n", "import os\nprint(os.getcwd())\n", "X = 1\n"]
    records = [{"id": f"c{i}", "text": code} for i, code in enumerate(codes)]
    pipeline = beam.Pipeline(runner=FnApiRunner())
    out = pipeline | beam.Create(records) | Score(engine, cfg, bands)

    def parsed(kept):
        assert kept  # an answer may run to max_tokens (rejected truncated); not all of them
        for record in kept:
            assert record["generation"]["score"]["structured"] is True
            assert float(record["llm_score"]).is_integer() and 0 <= record["llm_score"] <= 10
            assert record["score_reason"] and "\n" not in record["score_reason"]
            assert record["band"] == band_of(record["llm_score"], bands)

    assert_that(out.kept, parsed, label="parsed")
    assert_that(
        out.rejected | beam.Map(lambda r: r["reason"]),
        lambda reasons: all(reason == Reason.TRUNCATED for reason in reasons),
        label="only_truncated",
    )
    pipeline.run().wait_until_finish()
