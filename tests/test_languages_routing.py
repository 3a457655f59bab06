"""A language for every record: label, then extension, then ``--language``; the run's
``--languages`` from its stages; unknown labels and extensions rejected, never taken for
Python; conservation on bad input, per language too. Real files of each language come
from this machine (beam_swallow.testing.code_corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.cli import main
from beam_swallow.io import ReaderConfig, ReadRecords, WriteOutputs, parse_line, to_output
from beam_swallow.languages import names
from beam_swallow.languages.routing import LanguageRouting, extension_of
from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.recipes import CODE_RECIPES
from beam_swallow.pipelines.registry import (
    MATH_STAGES,
    build_stages,
    reader_config,
    run_languages,
    stage_names,
)
from beam_swallow.records import Reason, Reject
from beam_swallow.streaming.messages import message_exit
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.code_corpus import code_files, corpus_records

EVERY = LanguageRouting()
E2E_LANGUAGES = ("Python", "Go", "C", "JavaScript", "Shell", "Java", "Rust")


@pytest.mark.parametrize(
    ("fields", "language"),
    [
        ({"language": "C++", "path": "include/vector.h"}, "C++"),  # the label wins over .h
        ({"path": "include/stdio.h"}, "C"),  # linguist's fallback for .h
        ({"language": "cuda", "path": "k.cu"}, "Cuda"),  # any case, the catalog's spelling
        ({"path": "src/Main.JAVA"}, "Java"),
        ({"path": "web/App.tsx"}, "TSX"),
        ({"path": "a\\b\\build.rs"}, "Rust"),
        ({"language": "  ", "path": "x.go"}, "Go"),  # a blank label is no label
        ({"path": "Makefile"}, "Python"),  # no extension: the run's default
        ({"path": ".bashrc"}, "Python"),
        ({}, "Python"),
    ],
)
def test_label_then_extension_then_default(fields, language):
    record = {"text": "x", **fields}
    assert EVERY.judge(record)["language"] == language


def test_the_default_is_the_runs_language():
    routing = LanguageRouting(default="go")
    assert routing.default == "Go"
    assert routing.judge({"text": "x", "path": "Makefile"})["language"] == "Go"
    assert routing.judge({"text": "x", "path": "m.py"})["language"] == "Python"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"language": "Markdown", "path": "README.md"}, "'Markdown'"),
        ({"path": "README.md"}, "'.md'"),
        ({"path": "archive.tar.gz"}, "'.gz'"),
        ({"language": 7}, "7"),
    ],
)
def test_an_unknown_label_or_extension_is_unsupported_never_python(fields, named):
    verdict = EVERY.judge({"text": "x", **fields})
    assert isinstance(verdict, Reject) and verdict.reason == Reason.UNSUPPORTED_LANGUAGE
    assert named in verdict.fields["error"]
    assert "language" not in verdict.fields


def test_a_known_language_the_run_does_not_take_is_other_language():
    routing = LanguageRouting(languages=("Go", "rust"))
    assert routing.languages == ("Go", "Rust")
    verdict = routing.judge({"text": "x", "path": "a.py"})
    assert verdict == Reject(Reason.OTHER_LANGUAGE, {"language": "Python"})
    assert routing.judge({"text": "x", "language": "RUST"})["language"] == "Rust"


def test_routing_refuses_names_the_catalog_lacks():
    with pytest.raises(ValueError, match="'Golang' is not a language"):
        LanguageRouting(languages=("Golang",))
    with pytest.raises(ValueError, match="--language: 'Cobol'"):
        LanguageRouting(default="Cobol")
    with pytest.raises(ValueError, match="at least one"):
        LanguageRouting(languages=())


def test_extension_of():
    assert extension_of("a/b.c/Main.JAVA") == ".java"
    assert extension_of("lib.d.ts") == ".ts"
    assert extension_of("noext") == extension_of(".hidden") == extension_of("trailing.") == ""


def _opts(*argv: str) -> SwallowOptions:
    return PipelineOptions(list(argv)).view_as(SwallowOptions)


def _languages(*argv: str) -> tuple[str, ...]:
    opts = _opts(*argv)
    stages, default = CODE_RECIPES[opts.recipe]
    built = build_stages(opts, stage_names(opts, default, stages), stages)
    return run_languages(opts, built)


def test_the_runs_languages_default_to_what_its_stages_take():
    assert _languages() == ("Python",)  # v1: lint, sgcr and scor are Python's
    assert _languages("--recipe", "v2") == names()
    # v1 is the paper's Python pipeline: other languages are asked for by name
    assert _languages("--stages", "syntax,exact_dedup") == ("Python",)
    assert _languages("--stages", "syntax,exact_dedup", "--language", "Go") == ("Go",)
    assert _languages("--stages", "syntax", "--languages", "Go,C") == ("Go", "C")
    assert _languages("--recipe", "v2", "--stages", "syntax,exact_dedup") == names()
    assert _languages("--recipe", "v2", "--languages", "go, RUST") == ("Go", "Rust")
    assert _languages("--recipe", "v2", "--stages", "exact_dedup", "--languages", "") == names()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--languages", "Go"), "lint takes Python only, not Go"),
        (("--language", "Rust"), "lint takes Python only, not Rust"),
        (("--stages", "scor", "--languages", "Python,C"), "scor takes Python only, not C"),
        (("--recipe", "v2", "--languages", "Golang"), "'Golang' is not a language"),
        (
            ("--recipe", "v2", "--languages", "Rust", "--language", "Go"),
            "--language Go is not one of the run's languages",
        ),
    ],
)
def test_a_language_a_stage_cannot_take_is_a_flag_error(argv, message):
    with pytest.raises(ValueError, match=message):
        _languages(*argv)


def test_the_math_pipeline_does_not_route_by_language():
    assert reader_config(_opts()).routing is None
    with pytest.raises(ValueError, match="code pipeline"):
        reader_config(_opts("--languages", "Go"))
    assert "math_rewrite" in MATH_STAGES


def test_v1_with_go_stops_the_cli_before_anything_is_read(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["code", "--languages", "Go", "--output", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "lint takes Python only, not Go" in error and "--recipe v2" in error
    assert not out.exists()


def test_a_label_field_of_another_name_sets_the_inputs_language_aside():
    cfg = ReaderConfig(routing=LanguageRouting(label_field="lang"))
    line = json.dumps({"text": "fn main() {}\n", "lang": "Rust", "language": "en"}).encode()
    record = parse_line(line, cfg)
    judged = cfg.judge(record)
    assert judged["language"] == "Rust"
    assert to_output(judged, "text")["language"] == "en"  # the input's field, as it was


def test_streamed_messages_are_routed_too():
    cfg = ReaderConfig(routing=LanguageRouting(languages=("Go",)))
    kept = message_exit(b'{"text": "package a\\n", "path": "a.go"}', "pubsub", {}, cfg)
    other = message_exit(b'{"text": "x = 1\\n", "path": "a.py"}', "pubsub", {}, cfg)
    assert kept.tag == "kept" and kept.value["language"] == "Go"
    assert (other.tag, other.value["reason"]) == ("rejected", Reason.OTHER_LANGUAGE)


def _mixed_records() -> list[dict]:
    """Real files of the end-to-end languages, labelled and not, plus the odd cases."""
    records = []
    for language in E2E_LANGUAGES:
        files = code_files(language, count=2, max_bytes=6_000)
        assert len(files) == 2, f"no {language} files here: make corpora"
        labelled = corpus_records(files[:1])
        unlabelled = corpus_records(files[1:], labelled=False)
        for record in labelled + unlabelled:
            record["id"] = f"{record['id']}:{'l' if 'language' in record else 'u'}"
        records += labelled + unlabelled
    records += [
        {"id": "md", "text": "# title\n", "path": "README.md"},
        {"id": "label", "text": "x\n", "language": "Markdown", "path": "x.py"},
        {"id": "hpp", "text": "int f();\n", "language": "C++", "path": "f.h"},
        {"id": "bare", "text": "x = 1\n", "path": "Makefile"},
    ]
    return records


def _write_input(folder: Path, records: list[dict]) -> str:
    folder.mkdir()
    lines = [json.dumps(r) for r in records] + ["{not json", '{"path": "no_text.go"}']
    (folder / "mixed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    half = len(records) // 2
    pq.write_table(pa.Table.from_pylist(records[half:]), folder / "more.parquet")
    return f"{folder}/*"


def test_the_reader_routes_every_format_and_every_record_leaves_once(tmp_path):
    records = _mixed_records()
    pattern = _write_input(tmp_path / "in", records)
    cfg = ReaderConfig(routing=LanguageRouting(languages=("Go", "C", "Java", "C++")))
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        read = pipeline | ReadRecords(pattern, cfg)
        (read.kept, read.rejected, read.dead_letter) | WriteOutputs(str(tmp_path / "out"))
    outputs = read_outputs(tmp_path / "out")
    assert len(outputs["dead_letter"]) == 2  # the line that is no JSON, the record without text
    in_parquet = len(records) - len(records) // 2  # records[half:]
    assert sum(len(v) for v in outputs.values()) == len(records) + in_parquet + 2
    kept = {r["id"]: r["language"] for r in outputs["kept"]}
    assert kept.get("hpp") == "C++"  # the label wins over .h
    assert set(kept.values()) == {"Go", "C", "Java", "C++"}
    for record in outputs["kept"]:  # labelled or not, each file is its own language
        assert record["id"].split(":")[0] == record["language"] or record["id"] == "hpp"
    reasons = {r["id"]: r["reason"] for r in outputs["rejected"]}
    assert reasons["md"] == reasons["label"] == Reason.UNSUPPORTED_LANGUAGE
    assert reasons["bare"] == Reason.OTHER_LANGUAGE  # no extension: Python, not taken
    for record in outputs["rejected"]:
        if record["reason"] == Reason.OTHER_LANGUAGE:
            assert record["language"] in ("Python", "JavaScript", "Shell", "Rust")


def test_a_run_reports_each_language_and_conserves_it(tmp_path, capsys):
    records = _mixed_records()
    pattern = _write_input(tmp_path / "in", records)
    out = tmp_path / "out"
    argv = ["code", "--input", pattern, "--output", str(out), "--stages", "exact_dedup"]
    assert main([*argv, "--languages", "Python,Go,C,JavaScript,Shell,Rust", "--quiet"]) == 0
    summary = capsys.readouterr().out
    report, outputs = read_report(out), read_outputs(out)
    assert_conserved(report, outputs)  # per language too
    languages = report["languages"]
    assert list(languages) == ["Python", "C", "C++", "Go", "Rust", "JavaScript", "Java", "Shell"]
    assert languages["Java"]["rejected"] == {Reason.OTHER_LANGUAGE: languages["Java"]["input"]}
    assert languages["C++"]["rejected"] == {Reason.OTHER_LANGUAGE: 2}  # in both files
    for language in ("Go", "Rust", "Shell"):
        assert languages[language]["kept"] >= 2  # a file, its broken copy (labelled or not)
        assert languages[language]["kept_tokens"] > 0 or report.get("tokenizer") is None
    assert report["no_language"] == 2 + 4  # two lines that are no record, unsupported twice
    assert report["stages"]["exact_dedup"]["languages"]["Go"]["input"] == languages["Go"]["kept"]
    assert "languages (6 records with none):" in summary and "  Go " in summary
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f'data-key="languages.Go.kept">{languages["Go"]["kept"]}<' in page
    assert 'data-key="languages.Java.rejected.other_language"' in page
    go = next(r["id"] for r in outputs["kept"] if r["language"] == "Go")
    assert main(["inspect", str(out), "--id", go]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"record {go} (Go)") and "read           passed  (language=Go)" in shown


def test_the_tools_preflight_sees_the_runs_languages_and_stops_it(tmp_path, monkeypatch, capsys):
    """pipelines/runner.py asks each stage for its tools before anything is read; a
    ToolMissing is the command's one-line error (exit 2)."""
    from beam_swallow.languages.tools import ToolMissing
    from beam_swallow.transforms.rewrite import Rewrite

    asked = []

    def missing_tool(self, languages):
        asked.append(tuple(languages))
        raise ToolMissing("gofmt is not installed (Go needs it): make tools")

    monkeypatch.setattr(Rewrite, "tools_preflight", missing_tool)
    out = tmp_path / "out"
    argv = ["code", "--recipe", "v2", "--languages", "Go,Rust", "--output", str(out), "--quiet"]
    assert main(argv) == 2
    assert asked == [("Go", "Rust")]
    assert capsys.readouterr().err == (
        "beam-swallow code: error: gofmt is not installed (Go needs it): make tools\n"
    )
    assert not out.exists()


def test_a_missing_parser_stops_a_v2_run_before_anything_is_read(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BEAM_SWALLOW_GOFMT", str(tmp_path / "no-gofmt"))
    out = tmp_path / "out"
    argv = ["code", "--recipe", "v2", "--languages", "Go", "--output", str(out), "--quiet"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "gofmt" in error and len(error.strip().splitlines()) == 1
    assert not out.exists()
