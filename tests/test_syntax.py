"""The syntax stage: compile() for Python, each language's parser for the others, never a raise."""

from __future__ import annotations

import os
import stat

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import GlobalWindow

from beam_swallow.languages.parsing import ParseConfig, check_sources, compile_verdict
from beam_swallow.options import SwallowOptions
from beam_swallow.records import Reason, Reject
from beam_swallow.samples import stdlib_python_files
from beam_swallow.transforms.syntax import STAGE, Syntax, judge_syntax, parse_config
from beam_swallow.transforms.tool_stage import _BatchDoFn


def _compiles(source: str) -> bool:
    try:
        compile(source, "<string>", "exec")
    except BaseException:  # the reference: anything at all means "does not compile"
        return False
    return True


def _judge(record: dict) -> dict | Reject:
    [verdict] = check_sources(record.get("language", "Python"), [record["text"]])
    return judge_syntax(record, verdict)


def test_verdicts_equal_compile_on_stdlib_files():
    files = stdlib_python_files()
    # Every 7th file (about 250) plus every file in test folders named like bad syntax.
    picked = files[::7] + [p for p in files if "bad" in p.name or "py2" in p.name]
    assert len(picked) > 200
    rejected = 0
    for path in picked:
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        reason, _ = compile_verdict(source)
        assert (reason is None) == _compiles(source), path
        rejected += reason is not None
    assert rejected > 0, "the pick holds known-bad files: some must be rejected"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("print 'hello'\n", Reason.SYNTAX_ERROR),  # Python 2
        ("exec 'x = 1'\n", Reason.SYNTAX_ERROR),
        ("x = 1\0\n", Reason.NULL_BYTES),
        ("x = " + "(" * 300 + ")" * 300 + "\n", Reason.TOO_DEEP),  # parser nesting limit
        ("x = " + "1+" * 100_000 + "1\n", Reason.TOO_DEEP),  # RecursionError
        ("x = " + "-" * 100_000 + "1\n", Reason.TOO_DEEP),  # MemoryError
        ("def f(:\n", Reason.SYNTAX_ERROR),
    ],
)
def test_hostile_sources_are_rejected_with_specific_reasons(source, reason):
    assert not _compiles(source)
    verdict = _judge({"id": "x", "text": source})
    assert isinstance(verdict, Reject)
    assert verdict.reason == reason
    assert verdict.fields["error"]
    assert verdict.fields["syntax_checker"].startswith("python 3.")


def test_a_python_rejection_locates_the_error():
    verdict = _judge({"id": "x", "text": "x = 1\ndef f(:\n"})
    assert verdict.fields["error"].startswith("line 2, column 7: SyntaxError")


@pytest.mark.parametrize("source", ["", "\n", "# only a comment\n", "x = 1\n" * 200_000])
def test_valid_sources_are_kept_and_marked(source):
    verdict = _judge({"id": "x", "text": source})
    checker = verdict["syntax_checker"]
    assert verdict == {"id": "x", "text": source, "syntax_ok": True, "syntax_checker": checker}
    assert verdict["syntax_checker"].startswith("python 3.")


def _hanging_bash(tmp_path) -> str:
    """A program that answers ``--version`` like bash and otherwise never ends."""
    script = tmp_path / "bash"
    script.write_text(
        '#!/bin/sh\nif [ "$1" = --version ]; then echo "GNU bash, version 0.0-hang"; exit 0; fi\n'
        "exec sleep 600\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_the_stage_routes_by_language_and_its_exits_add_up(tmp_path, monkeypatch):
    # Shell's parser hangs: its batch (the two Shell records) becomes dead letters when
    # --syntax_timeout runs out, and every other language is judged as usual.
    monkeypatch.setenv("BEAM_SWALLOW_BASH", _hanging_bash(tmp_path))
    records = [
        {"id": "py-ok", "text": "x = 1\n"},  # no language: Python
        {"id": "py-bad", "text": "def f(:\n", "language": "Python"},
        {"id": "go-ok", "text": "package a\n\nfunc f() {}\n", "language": "Go"},
        {"id": "go-bad", "text": "package a\n\nfunc f( {\n", "language": "Go"},
        {"id": "java-ok", "text": "class A { int x = 1; }\n", "language": "Java"},
        {"id": "java-bad", "text": "class A { int x = ; }\n", "language": "Java"},
        {"id": "c-bad", "text": "int main( { return 0; }\n", "language": "C"},
        {"id": "sh-1", "text": "echo hi\n", "language": "Shell"},
        {"id": "sh-2", "text": "if true; then\n", "language": "Shell"},
        {"id": "big", "text": "package a\n" + "// x\n" * 40, "language": "Go"},
        {"id": "odd", "text": "x\n", "language": "Haskell"},
        {"id": "notext", "text": 7, "language": "Go"},
    ]
    cfg = ParseConfig(mode="exact", timeout_s=5.0, max_chars=100, batch_files=2)
    pipeline = beam.Pipeline(runner=FnApiRunner())
    out = pipeline | beam.Create(records) | Syntax(cfg)
    assert_that(
        out.kept | beam.Map(lambda r: (r["id"], r["syntax_checker"].split()[0])),
        equal_to([("py-ok", "python"), ("go-ok", "gofmt"), ("java-ok", "javac")]),
        label="kept",
    )
    assert_that(
        out.rejected | beam.Map(lambda r: (r["id"], r["reason"], r["error"].split(",")[0])),
        equal_to(
            [
                ("py-bad", Reason.SYNTAX_ERROR, "line 1"),
                ("go-bad", Reason.SYNTAX_ERROR, "line 3"),
                ("java-bad", Reason.SYNTAX_ERROR, "line 1"),
                ("c-bad", Reason.SYNTAX_ERROR, "line 1"),
                ("big", Reason.TOO_LARGE, "210 characters"),
            ]
        ),
        label="rejected",
    )
    assert_that(
        out.dead_letter | beam.Map(lambda r: (r["id"], r["error_type"])),
        equal_to(
            [
                ("sh-1", "tool_error"),
                ("sh-2", "tool_error"),
                ("odd", "value_error"),
                ("notext", "type_error"),
            ]
        ),
        label="dead",
    )
    all_out = (out.kept, out.rejected, out.dead_letter) | beam.Flatten()
    assert_that(
        all_out | beam.combiners.Count.Globally(), equal_to([len(records)]), label="conserved"
    )
    pipeline.run().wait_until_finish()


def _leaving(cfg: ParseConfig, records: list[dict]) -> tuple[list[list[str]], list[str]]:
    """Which record ids each ``process`` call let out, and which the bundle's end did."""
    do_fn = _BatchDoFn(STAGE, cfg, Syntax.run, Syntax.verdict, Syntax.holds)
    do_fn.start_bundle()
    at_once = [
        [out.value.value["id"] for out in do_fn.process(record, 0, GlobalWindow())]
        for record in records
    ]
    return at_once, [out.value.value["id"] for out in do_fn.finish_bundle()]


def test_files_judged_in_process_leave_at_once_and_an_external_parsers_wait_for_a_batch():
    records = [
        {"id": "py", "text": "x = 1\n"},
        {"id": "go-1", "text": "package a\n", "language": "Go"},
        {"id": "c", "text": "int x;\n", "language": "C"},  # no exact parser: tree-sitter
        {"id": "go-2", "text": "package b\n", "language": "Go"},
        {"id": "go-3", "text": "package c\n", "language": "Go"},
    ]
    exact = ParseConfig(mode="exact", batch_files=2)
    assert _leaving(exact, records) == ([["py"], [], ["c"], ["go-1", "go-2"], []], ["go-3"])
    in_process = ParseConfig(mode="tree_sitter", batch_files=2)
    assert _leaving(in_process, records) == ([[r["id"]] for r in records], [])


def test_the_flags_build_the_config():
    opts = SwallowOptions(
        ["--syntax_check", "both", "--syntax_timeout", "3", "--syntax_max_chars", "10"]
    )
    assert parse_config(opts) == ParseConfig(mode="both", timeout_s=3.0, max_chars=10)
    assert parse_config(SwallowOptions([])) == ParseConfig()
    with pytest.raises(ValueError, match="batch_files"):
        parse_config(SwallowOptions(["--syntax_batch_files", "0"]))


def test_the_preflight_names_the_tool_and_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("BEAM_SWALLOW_TOOLS", str(tmp_path))
    monkeypatch.delenv("BEAM_SWALLOW_NODE", raising=False)
    stage = Syntax(ParseConfig(mode="exact"))
    stage.tools_preflight(["Python", "C", "Kotlin"])  # compile() and tree-sitter: in process
    with pytest.raises(Exception, match=r"--syntax_check exact on TSX: node is not installed"):
        stage.tools_preflight(["Python", "TSX"])
    monkeypatch.setenv("PATH", os.defpath)
    Syntax(ParseConfig(mode="tree_sitter")).tools_preflight(["TSX", "Go", "Java"])
