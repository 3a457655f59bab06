"""The embedded engine for real (SmolLM2-135M GGUF on llama.cpp), and EngineConfig."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from beam_swallow.inference import embedded, make_handler
from beam_swallow.inference.base import (
    FINISH_LENGTH,
    FINISH_TOO_LONG,
    ChatRequest,
    Message,
    SamplingParams,
)
from beam_swallow.inference.config import (
    EMBEDDED_MAX_TOKENS,
    EMBEDDED_REPETITION_PENALTY,
    EngineConfig,
)
from beam_swallow.inference.embedded import default_threads, threads_now
from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.registry import engine_config
from beam_swallow.prompts import load_prompt
from beam_swallow.transforms.layouts import SCOR_GRAMMAR, SGCR_GRAMMAR
from beam_swallow.transforms.parse import extract_code_block, parse_sgcr

QUESTION = "What is the capital of France? Answer in one short sentence."


def _messages(text: str) -> tuple[Message, ...]:
    return (Message("system", "You are a helpful assistant."), Message("user", text))


def test_importing_the_package_loads_no_engine():
    code = (
        "import sys, beam_swallow.transforms.llm, beam_swallow.inference.embedded, "
        "beam_swallow.inference.openai, beam_swallow.inference.vllm; "
        "print(sorted(m for m in ('llama_cpp', 'vllm', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_config_from_options_uses_paper_defaults_per_engine():
    embedded = engine_config(SwallowOptions([]))
    assert embedded.engine == "embedded"
    assert (embedded.sampling.temperature, embedded.sampling.top_p) == (0.2, 0.7)
    assert embedded.sampling.max_tokens == EMBEDDED_MAX_TOKENS
    assert embedded.sampling.repetition_penalty == EMBEDDED_REPETITION_PENALTY
    assert embedded.max_batch_size == 8
    vllm = engine_config(
        SwallowOptions(
            [
                "--engine=vllm",
                "--model=/m",
                "--tensor_parallel_size=4",
                "--max_model_len=102688",
                "--engine_kwargs",
                '{"enforce_eager": true}',
            ]
        )
    )
    assert vllm.sampling.max_tokens == 8192 and vllm.max_batch_size == 256
    assert vllm.sampling.repetition_penalty == 1.0  # the paper's: no penalty
    assert (vllm.tensor_parallel_size, vllm.max_model_len) == (4, 102688)
    assert vllm.engine_kwargs == {"enforce_eager": True}


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--engine=openai", "--model=m"], "--endpoint"),
        (["--engine=vllm"], "--model"),
    ],
)
def test_options_name_missing_engine_flags(flags, message):
    with pytest.raises(ValueError, match=message.lstrip("-")):
        engine_config(SwallowOptions(flags))


def test_engine_kwargs_must_be_a_json_object():
    with pytest.raises(ValueError, match="JSON object"):
        engine_config(SwallowOptions(["--engine_kwargs", "[1, 2]"]))


@pytest.fixture(scope="module")
def loaded():
    pytest.importorskip("llama_cpp")
    config = EngineConfig(sampling=SamplingParams(max_tokens=48, seed=1))
    handler = make_handler(config)
    return config, handler, handler.load_model()


def test_default_model_is_the_shipped_gguf(loaded):
    from beam_swallow.inference.gguf import default_gguf

    path = Path(default_gguf())
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    _, _, model = loaded
    assert model.context == 8192  # SmolLM2's own context


def test_batch_answers_each_request_and_isolates_a_bad_one(loaded):
    config, handler, model = loaded
    short = config.request("short", _messages(QUESTION))
    cut = SamplingParams(max_tokens=3, seed=1)
    batch = [
        short,
        config.request("surrogate", _messages("caf\ud800 " + QUESTION)),  # cannot be encoded
        config.request("huge", _messages("word " * 9000)),
        type(short)("cut", _messages("Count from one to fifty in words."), cut),
    ]
    results = {r.id: r for r in handler.run_inference(batch, model)}
    assert list(results) == ["short", "surrogate", "huge", "cut"]
    ok = results["short"]
    assert ok.finish_reason == "stop" and "Paris" in ok.text
    assert ok.prompt_tokens > 10 and 0 < ok.completion_tokens <= 48
    assert results["surrogate"].failed
    assert results["surrogate"].error_type == "UnicodeEncodeError"
    assert results["huge"].finish_reason == FINISH_TOO_LONG
    assert results["huge"].prompt_tokens > 8192 - 48 and results["huge"].completion_tokens == 0
    assert results["cut"].finish_reason == FINISH_LENGTH and results["cut"].completion_tokens == 3


def test_grammar_gives_every_finished_answer_the_stages_layout(loaded):
    """Under its stage's grammar, a tiny model's answer always parses: a score from
    1 to 10, suggestions and a python block for sgcr; one python block for scor."""
    config, handler, model = loaded
    code = "def add(a,b):\n  return a+b\nprint(add(1,2))\n"
    sampling = SamplingParams(max_tokens=200, seed=3)
    sgcr = load_prompt("sgcr").messages(code)
    scor = load_prompt("scor").messages(code)
    batch = [
        ChatRequest("sgcr", sgcr, sampling, SGCR_GRAMMAR),
        ChatRequest("scor", scor, sampling, SCOR_GRAMMAR),
        ChatRequest("free", sgcr, sampling),
    ]
    results = {r.id: r for r in handler.run_inference(batch, model)}
    for name in ("sgcr", "scor"):
        assert results[name].finish_reason == "stop", results[name].text
        assert results[name].structured
    assert not results["free"].structured
    answer = parse_sgcr(results["sgcr"].text)
    assert 1.0 <= answer.score <= 10.0 and answer.suggestions and answer.code
    assert extract_code_block(results["scor"].text)


def test_threads_follow_the_cores_this_process_may_use():
    cores = len(os.sched_getaffinity(0))
    assert default_threads() == cores
    assert default_threads(copies=cores) == 1
    assert default_threads(copies=cores * 4) == 1


def test_threads_give_up_the_cores_other_work_keeps_busy(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    for busy, expected in ((0, cores), (1, max(1, cores - 1)), (cores + 3, 1), (None, cores)):
        monkeypatch.setattr(embedded, "busy_elsewhere", lambda busy=busy: busy)
        assert threads_now(cores) == expected
    monkeypatch.setattr(embedded, "busy_elsewhere", lambda: 0)
    assert threads_now(1) == 1


def test_the_model_changes_its_threads_between_requests(loaded, monkeypatch):
    """The count threads_now gives reaches llama.cpp's context, for prompts and
    generation, and the model still answers; a count fixed in engine_kwargs stays."""
    from llama_cpp import llama_n_threads, llama_n_threads_batch

    config, handler, model = loaded
    request = config.request("short", _messages(QUESTION))
    limit = model.max_threads
    assert limit == default_threads()
    for busy, expected in ((limit, 1), (0, limit)):
        monkeypatch.setattr(embedded, "busy_elsewhere", lambda busy=busy: busy)
        [result] = handler.run_inference([request], model)
        assert "Paris" in result.text
        assert model.threads == expected
        assert llama_n_threads(model.llm.ctx) == llama_n_threads_batch(model.llm.ctx) == expected
    fixed = make_handler(EngineConfig(engine_kwargs={"n_threads": 1}))
    fixed_model = fixed.load_model()
    assert fixed_model.max_threads is None
    assert llama_n_threads_batch(fixed_model.llm.ctx) == 1
    monkeypatch.setattr(embedded, "busy_elsewhere", lambda: 0)
    assert fixed_model.fit_threads() == 1
