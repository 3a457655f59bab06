"""LLMStage on the FnApiRunner with the real embedded engine (SmolLM2-135M on llama.cpp).

Every exit is checked by record id and reason, plus the conservation sum and
the engine's counters.
"""

from __future__ import annotations

import dataclasses
import inspect
import textwrap

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from beam_swallow.inference.base import ChatResult, Message, SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.embedded import EmbeddedHandler
from beam_swallow.records import Reason, Record, Reject
from beam_swallow.transforms.llm import LLMStage

pytest.importorskip("llama_cpp")

STAGE = "rewrite_test"
ENGINE = EngineConfig(sampling=SamplingParams(max_tokens=48, seed=7), batch_size=4)
# A question this tiny model answers briefly, so answers finish with "stop".
QUESTION = "What is the name of the function above? Answer in one short sentence."


def _code(obj: object) -> str:
    """Real Python from the standard library, read at run time."""
    return textwrap.dedent(inspect.getsource(obj))


def build_request(record: Record):
    if record.get("skip"):
        return Reject(Reason.TOO_LONG, {"chars": len(record["text"])})
    code = record["text"]  # KeyError for a record without text: a dead letter
    messages = (
        Message("system", "You are a helpful assistant."),
        Message("user", f"```python\n{code}```\n{QUESTION}"),
    )
    request = ENGINE.request(record["id"], messages)
    if record.get("tiny"):
        return dataclasses.replace(
            request, sampling=dataclasses.replace(request.sampling, max_tokens=2)
        )
    return request


def judge(record: Record, result: ChatResult):
    if record["id"] == "judge_breaks":
        raise ValueError("judge failed on purpose")
    return {**record, "answer": result.text}


def _records() -> list[Record]:
    import json
    import textwrap as tw

    long_text = _code(json) * 6  # far beyond SmolLM2's 8,192-token context
    return [
        {"id": "ok_1", "text": _code(tw.indent)},
        {"id": "ok_2", "text": _code(tw.dedent), "generation": {"earlier": {"engine": "x"}}},
        {"id": "judge_breaks", "text": _code(tw.shorten)},
        {"id": "skipped", "text": "x = 1\n", "skip": True},
        {"id": "no_text"},
        {"id": "cut_short", "text": _code(tw.fill), "tiny": True},
        {"id": "huge", "text": long_text},
    ]


def _run(records, stage: LLMStage):
    outputs = {}
    pipeline = beam.Pipeline(runner=FnApiRunner())
    result = pipeline | beam.Create(records) | stage
    for exit_name in ("kept", "rejected", "dead_letter"):
        outputs[exit_name] = getattr(result, exit_name)
    return pipeline, outputs


def test_llm_stage_routes_every_record_once():
    records = _records()
    pipeline, out = _run(records, LLMStage(STAGE, ENGINE, build_request, judge))
    ids = lambda pcoll, label: pcoll | label >> beam.Map(lambda r: r["id"])  # noqa: E731
    assert_that(ids(out["kept"], "KeptIds"), equal_to(["ok_1", "ok_2"]), label="kept")
    assert_that(
        out["rejected"] | beam.Map(lambda r: (r["id"], r["reason"], r["stage"])),
        equal_to(
            [
                ("skipped", Reason.TOO_LONG, STAGE),
                ("cut_short", Reason.TRUNCATED, STAGE),
                ("huge", Reason.TOO_LONG, STAGE),
            ]
        ),
        label="rejected",
    )
    assert_that(
        out["dead_letter"] | beam.Map(lambda r: (r["id"], r["error_type"], r["stage"])),
        equal_to([("judge_breaks", "value_error", STAGE), ("no_text", "key_error", STAGE)]),
        label="dead",
    )

    def check_kept(kept):
        for record in kept:
            assert record["answer"].strip(), record
            stamp = record["generation"][STAGE]
            assert stamp["engine"] == "embedded"
            assert stamp["model"] == ENGINE.model_label
            assert (stamp["temperature"], stamp["top_p"], stamp["max_tokens"]) == (0.2, 0.7, 48)
            assert stamp["repetition_penalty"] == 1.0
            assert stamp["prompt_tokens"] > 20 and 0 < stamp["completion_tokens"] <= 48
            assert stamp["finish_reason"] in ("stop",)
        earlier = [r["generation"].get("earlier") for r in kept if r["id"] == "ok_2"]
        assert earlier == [{"engine": "x"}]

    assert_that(out["kept"], check_kept, label="stamps")
    counted = (
        [out["kept"], out["rejected"], out["dead_letter"]]
        | beam.Flatten()
        | beam.combiners.Count.Globally()
    )
    assert_that(counted, equal_to([len(records)]), label="conservation")
    run = pipeline.run()
    run.wait_until_finish()

    counters = {
        c.key.metric.name: c.committed
        for c in run.metrics().query(MetricsFilter().with_namespace("inference.embedded"))[
            "counters"
        ]
    }
    # five requests reach the engine: ok_1, ok_2, judge_breaks, cut_short, huge
    assert counters["requests"] == 5
    assert counters["too_long"] == 1 and counters["truncated"] == 1
    assert counters["errors"] == 0
    assert counters["completion_tokens"] > 0 and counters["prompt_tokens"] > 8000


class _CrashingHandler(EmbeddedHandler):
    """The real embedded engine, except that a batch holding a 'crash' request raises.

    No real engine fails a whole batch on demand; this is the one stand-in, and
    it only exercises LLMStage's handling of RunInference's failed batches.
    """

    def answer(self, batch, model):
        if any(request.id.startswith("crash") for request in batch):
            raise RuntimeError("engine crashed on this batch")
        return super().answer(batch, model)


def test_failed_batch_becomes_one_dead_letter_per_record():
    config = dataclasses.replace(ENGINE, batch_size=1)
    records = [
        {"id": "crash_a", "text": "x = 1\n"},
        {"id": "crash_b", "text": "y = 2\n"},
        {"id": "fine", "text": "z = 3\n"},
    ]
    stage = LLMStage(STAGE, config, build_request, judge, handler=_CrashingHandler(config))
    pipeline, out = _run(records, stage)
    assert_that(
        out["dead_letter"]
        | beam.Map(lambda r: (r["id"], r["error_type"], "crashed" in r["error"])),
        equal_to([("crash_a", "runtime_error", True), ("crash_b", "runtime_error", True)]),
        label="dead",
    )
    assert_that(out["kept"] | beam.Map(lambda r: r["id"]), equal_to(["fine"]), label="kept")
    assert_that(out["rejected"], equal_to([]), label="rejected")
    pipeline.run().wait_until_finish()
