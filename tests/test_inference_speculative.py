"""Speculative decoding's settings, its figures in the report, and --record_pairs.

The speculating server itself runs in tests/test_inference_vllm.py (vLLM's CPU
build: same answers with and without speculation, the report's tokens per step,
and the replay of vLLM's proposer against what the server measured). Here: the
flags become the server's command line, the engines that cannot speculate
refuse the flag, the report's arithmetic, and the pairs a real engine run
writes (the embedded model).
"""

from __future__ import annotations

import inspect
import json
import textwrap

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from beam_swallow.cli import main
from beam_swallow.inference.base import Message, SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.speculative import SpeculativeConfig, suffix_unavailable
from beam_swallow.inference.vllm_server import server_command
from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.registry import engine_config
from beam_swallow.reporting.timing import stage_engine
from beam_swallow.testing.speculation import read_pairs
from beam_swallow.transforms.llm import LLMStage


def _flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_ngram_flags_become_vllms_speculative_config():
    opts = SwallowOptions(
        [
            "--engine=vllm",
            "--model=/m",
            "--speculative=ngram",
            "--speculative_tokens=6",
            "--ngram_min=3",
            "--ngram_max=5",
        ]
    )
    command = server_command(engine_config(opts))
    assert json.loads(_flag(command, "--speculative-config")) == {
        "method": "ngram",
        "num_speculative_tokens": 6,
        "prompt_lookup_min": 3,
        "prompt_lookup_max": 5,
    }
    assert _flag(command, "--per-request-spec-decode-metrics") == "summary"


def test_speculation_is_off_by_default_and_leaves_the_command_alone():
    config = engine_config(SwallowOptions(["--engine=vllm", "--model=/m"]))
    assert config.speculative == SpeculativeConfig() and not config.speculative.enabled
    command = server_command(config)
    assert "--speculative-config" not in command
    assert "--per-request-spec-decode-metrics" not in command


@pytest.mark.parametrize(
    "config, message",
    [
        (dict(method="beam"), "unknown --speculative"),
        (dict(method="ngram", num_tokens=0), "--speculative_tokens"),
        (dict(method="ngram", ngram_min=4, ngram_max=2), "--ngram_min"),
    ],
)
def test_impossible_settings_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        SpeculativeConfig(**config)


@pytest.mark.parametrize(
    "engine, extra",
    [("openai", {"endpoint": "http://127.0.0.1:1/v1", "model": "m"}), ("embedded", {})],
)
def test_engines_without_their_own_server_refuse_speculation(engine, extra):
    with pytest.raises(ValueError, match="vllm engine's server setting"):
        EngineConfig(engine=engine, speculative=SpeculativeConfig("ngram"), **extra)


def test_speculation_set_twice_is_refused():
    with pytest.raises(ValueError, match="set twice"):
        EngineConfig(
            engine="vllm",
            model="/m",
            engine_kwargs={"speculative_config": {"method": "ngram"}},
            speculative=SpeculativeConfig("ngram"),
        )


def test_cli_names_the_bad_flag_before_anything_runs(tmp_path, capsys):
    code = main(
        [
            "code",
            "--output",
            str(tmp_path / "out"),
            "--engine",
            "openai",
            "--endpoint",
            "http://127.0.0.1:9/v1",
            "--model",
            "m",
            "--speculative",
            "ngram",
        ]
    )
    assert code == 2
    assert "--speculative is the vllm engine's server setting" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_suffix_is_checked_only_where_vllm_is_installed():
    """Here (the main environment) vLLM is absent: a launcher cannot tell what its
    workers have, so nothing is refused; tests/test_inference_vllm.py checks the
    refusal on vLLM's CPU build, where arctic-inference does not install."""
    pytest.importorskip("llama_cpp")  # the main environment, not vLLM's
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        assert suffix_unavailable() is None
        EngineConfig(engine="vllm", model="/m", speculative=SpeculativeConfig("suffix"))


def test_stage_figures_count_steps_as_vllm_does():
    """100 answer tokens, 60 of them proposed and accepted: 40 engine steps, 2.5 per step."""
    counts = {
        "answers": 4,
        "completion_tokens": 100,
        "request_seconds": 2.0,
        "spec_answers": 4,
        "spec_drafts": 30,
        "spec_draft_tokens": 120,
        "spec_accepted_tokens": 60,
    }
    figures = stage_engine(counts)
    assert figures["tokens_per_step"] == pytest.approx(2.5)
    assert figures["acceptance_rate"] == pytest.approx(0.5)
    assert figures["output_tokens_per_s"] == pytest.approx(50.0)
    plain = stage_engine({"answers": 4, "completion_tokens": 100, "request_seconds": 2.0})
    assert "tokens_per_step" not in plain  # no speculation reported: no figure claimed


def test_record_pairs_writes_each_answered_request_as_sent(tmp_path):
    """The embedded engine answers two requests; the pairs hold the messages as sent
    and the raw answers the stage kept, one line each."""
    pytest.importorskip("llama_cpp")
    engine = EngineConfig(sampling=SamplingParams(max_tokens=8, seed=3), batch_size=2)
    records = [
        {"id": f"p{i}", "text": textwrap.dedent(inspect.getsource(f))}
        for i, f in enumerate((textwrap.indent, textwrap.dedent))
    ]

    def build(record):
        messages = (Message("system", "Rewrite this code."), Message("user", record["text"]))
        return engine.request(record["id"], messages)

    def judge(record, result):
        return {**record, "answer": result.text}

    folder = tmp_path / "pairs"
    pipeline = beam.Pipeline(runner=FnApiRunner())
    stage = LLMStage("pairs_test", engine, build, judge, record_pairs=str(folder))
    out = pipeline | beam.Create(records) | stage
    stamps = tmp_path / "stamps"
    _ = (
        (out.kept, out.rejected)
        | beam.Flatten()
        | beam.Map(lambda r: json.dumps([r["id"], r["generation"]["pairs_test"]]))
        | beam.io.WriteToText(str(stamps))
    )
    assert_that(out.dead_letter, equal_to([]), label="dead")
    pipeline.run().wait_until_finish()
    pairs = {p["id"]: p for p in read_pairs(folder, "pairs_test")}
    assert sorted(pairs) == ["p0", "p1"]
    stamped = dict(
        json.loads(line)
        for path in tmp_path.glob("stamps*")
        for line in path.read_text().splitlines()
    )
    for record in records:
        pair, stamp = pairs[record["id"]], stamped[record["id"]]
        assert pair["messages"][1] == {"role": "user", "content": record["text"]}
        assert pair["stage"] == "pairs_test" and pair["engine"] == "embedded"
        assert pair["answer"] and pair["max_tokens"] == 8
        assert pair["completion_tokens"] == stamp["completion_tokens"] > 0
        assert pair["finish_reason"] == stamp["finish_reason"]
        assert pair["spec"] == {"drafts": 0, "draft_tokens": 0, "accepted_tokens": 0}
