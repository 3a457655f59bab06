"""The formatters under load and failure, and the format stage over mixed languages.

Several threads and two processes format at once (each call has its own folder);
a hung tool is killed at its timeout and only its call fails; a missing tool is
one preflight error; the stage batches per language, and its three exits add up.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from beam_swallow.languages.formatting import FormatConfig, format_sources, formatter_label
from beam_swallow.languages.tools import ToolError, ToolMissing
from beam_swallow.records import Reason
from beam_swallow.testing.code_corpus import CodeFile, broken_copy, code_files, reindented_copy
from beam_swallow.transforms import Format, Reformat

_PATIENT_S = 300.0
_CFG = FormatConfig(timeout_s=_PATIENT_S)
_MIXED = ("Go", "Shell", "Rust", "JavaScript", "C", "Java", "Python")


def _sources(language: str, count: int = 6) -> list[str]:
    real = code_files(language, count)
    assert len(real) == count, f"too few real {language} files here (make tools corpora)"
    return [reindented_copy(file.text) for file in real]


def _format_all(work: dict[str, list[str]]) -> dict[str, list[tuple[str | None, str | None]]]:
    return {
        language: [(o.text, o.error) for o in format_sources(language, sources, _CFG)]
        for language, sources in work.items()
    }


@pytest.fixture(scope="module")
def work() -> dict[str, list[str]]:
    return {language: _sources(language) for language in _MIXED}


def test_threads_at_once_get_what_one_caller_gets(work):
    alone = _format_all(work)
    jobs = [(language, sources) for language, sources in work.items()] * 2
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [
            pool.submit(format_sources, language, sources, _CFG) for language, sources in jobs
        ]
        answers = [future.result(timeout=_PATIENT_S) for future in futures]
    for (language, _), outcomes in zip(jobs, answers, strict=True):
        assert [(o.text, o.error) for o in outcomes] == alone[language]


def test_two_processes_at_once_get_what_one_caller_gets(work):
    alone = _format_all(work)
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        answers = [pool.apply_async(_format_all, (work,)) for _ in range(2)]
        for answer in answers:
            assert answer.get(timeout=_PATIENT_S) == alone


def _hanging_program(folder: Path, pid_file: Path) -> Path:
    """A program that says it started, then never answers: what a stuck formatter looks like."""
    program = folder / "stuck-formatter"
    program.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 3600\n", encoding="utf-8")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program


def test_a_hung_tool_is_killed_at_its_timeout_and_fails_only_its_call(tmp_path, monkeypatch):
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("BEAM_SWALLOW_GOFMT", str(_hanging_program(tmp_path, pid_file)))
    # as written: in a reindented copy, a `<<-` here-document may no longer end
    shell = [file.text for file in code_files("Shell", 3)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        hung = pool.submit(format_sources, "Go", ["package x\n"], FormatConfig(timeout_s=10))
        other = pool.submit(format_sources, "Shell", shell, _CFG)
        with pytest.raises(ToolError, match="took over 10 s"):
            hung.result(timeout=_PATIENT_S)
        assert all(outcome.text for outcome in other.result(timeout=_PATIENT_S))
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # killed and reaped, not left running
    monkeypatch.delenv("BEAM_SWALLOW_GOFMT")
    [after] = format_sources("Go", ["package  x\n"], _CFG)  # the next call starts afresh
    assert after.text == "package x\n"


def test_a_missing_tool_is_one_preflight_line_naming_tool_language_and_install(
    monkeypatch, tmp_path
):
    stage = Format(_CFG)
    stage.tools_preflight(["Python", "Ruby", "Go", "Java"])  # installed here: nothing raised
    stage.tools_preflight(["PHP", "Kotlin"])  # no formatter, nothing to install
    monkeypatch.setenv("BEAM_SWALLOW_TOOLS", str(tmp_path))  # no jar there
    with pytest.raises(ToolMissing, match=r"^format \(Java\): google-java-format 1\.28\.0 is not"):
        stage.tools_preflight(["Java"])
    # a rustfmt that would follow `mod x;` out of its batch (an older one; none is installed
    # here, so a stand-in that answers as it does) is refused before it formats anything
    older = tmp_path / "older-rustfmt"
    older.write_text("#!/bin/sh\necho 'skip_children = false'\n", encoding="utf-8")
    older.chmod(older.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("BEAM_SWALLOW_RUSTFMT", str(older))
    with pytest.raises(ToolMissing, match=r"^format \(Rust\): .* does not honour --config skip_"):
        stage.tools_preflight(["Rust"])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing, match=r"^format \(Go\): gofmt is not installed: install Go"):
        stage.tools_preflight(["Ruby", "Go"])


def _run_stage(stage: beam.PTransform, records: list[dict]):
    pipeline = beam.Pipeline(runner=FnApiRunner())
    out = pipeline | beam.Create(records, reshuffle=False) | stage
    return pipeline, out


def test_the_stage_formats_each_language_with_its_tool_and_the_exits_add_up(work):
    records, expected_kept, expected_rejected = [], [], []
    for language in ("Go", "Shell", "Rust", "JavaScript", "C", "Python"):
        sources = work[language][:3]
        copies = (broken_copy(CodeFile(language, "reindented", s)) for s in work[language])
        broken = next(copy for copy in copies if copy)
        outcomes = format_sources(language, [*sources, broken], _CFG)
        label = formatter_label(language)
        for index, (text, outcome) in enumerate(zip([*sources, broken], outcomes, strict=True)):
            record_id = f"{language}-{index}"
            record = {"id": record_id, "text": text, "language": language}
            if language == "Python":
                del record["language"]  # a record read before languages: Python
            records.append(record)
            if outcome.text is None:
                expected_rejected.append((record_id, Reason.UNFORMATTABLE, outcome.error, label))
            else:
                expected_kept.append((record_id, outcome.text, label, outcome.text != text))
    ruby = [file.text for file in code_files("Ruby", 2)]
    for index, text in enumerate(ruby):
        records.append({"id": f"Ruby-{index}", "text": text, "language": "Ruby"})
        expected_kept.append((f"Ruby-{index}", text, "none", False))
    records.append({"id": "no-text", "text": None, "language": "Go"})
    records.append({"id": "unknown", "text": "x\n", "language": "Haskell"})
    pipeline, out = _run_stage(Format(FormatConfig(batch_files=2, timeout_s=_PATIENT_S)), records)
    assert_that(
        out.kept | beam.Map(lambda r: (r["id"], r["text"], r["formatter"], r["format_changed"])),
        equal_to(expected_kept),
        label="kept",
    )
    assert_that(
        out.rejected | beam.Map(lambda r: (r["id"], r["reason"], r["error"], r["formatter"])),
        equal_to(expected_rejected),
        label="rejected",
    )
    assert_that(
        out.dead_letter | beam.Map(lambda r: (r["id"], r["stage"], r["error_type"])),
        equal_to([("no-text", "format", "type_error"), ("unknown", "format", "value_error")]),
        label="dead",
    )
    pipeline.run().wait_until_finish()
    # every record in exactly one exit, and the check itself compared real changes
    assert len(expected_kept) + len(expected_rejected) + 2 == len(records)
    assert len(expected_rejected) >= 5 and any(changed for *_, changed in expected_kept)


def test_a_batch_whose_tool_fails_is_dead_letters_and_no_other_language_is_touched():
    # a timeout no run can meet: each formatter run is killed; Ruby calls no tool
    records = [
        {"id": "go", "text": "package x\n", "language": "Go"},
        {"id": "sh", "text": "echo x\n", "language": "Shell"},
        {"id": "rb", "text": "puts 1\n", "language": "Ruby"},
    ]
    pipeline, out = _run_stage(Reformat(FormatConfig(timeout_s=1e-6)), records)
    assert_that(
        out.dead_letter | beam.Map(lambda r: (r["id"], r["stage"], r["error_type"])),
        equal_to([("go", "reformat", "tool_error"), ("sh", "reformat", "tool_error")]),
        label="dead",
    )
    assert_that(
        out.kept | beam.Map(lambda r: (r["id"], r["formatter"], r["reformat_changed"])),
        equal_to([("rb", "none", False)]),
        label="kept",
    )
    assert_that(out.rejected, equal_to([]), label="rejected")
    pipeline.run().wait_until_finish()
