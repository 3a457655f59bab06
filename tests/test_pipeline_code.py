"""The code pipeline end to end through the CLI, on the FnApiRunner.

One suite, run twice: in memory, and with SDK workers in separate processes
(``multi_processing``), where DoFns run off the main thread. Every test checks
the outputs themselves and that the counts add up.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_swallow.cli import main
from beam_swallow.languages.parsing.python import CHECKER as PYTHON_CHECKER
from beam_swallow.records import text_id
from beam_swallow.testing import assert_conserved, read_jsonl_dir, read_outputs, read_report

GOOD = "def add(a, b):\n    return a + b\n"
BIG = "value = 1\n" * 400_000  # 4 MB of valid Python

HOSTILE_LINES: list[bytes] = [
    json.dumps({"text": GOOD, "repo": "r/1"}).encode(),
    b'{"text": "unterminated',
    b"[1, 2]",
    b'{"content": "no text field"}',
    b'{"text": 7}',
    b'{"text": "caf\xe9 = 1"}',
    b'{"text": "lone = \'\\udc80\'"}',
    json.dumps({"text": "x = 1\0"}).encode(),
    json.dumps({"text": "x = " + "1+" * 100_000 + "1"}).encode(),
    json.dumps({"text": "x = " + "(" * 300 + ")" * 300}).encode(),
    json.dumps({"text": "print 'old'\n"}).encode(),
    json.dumps({"text": BIG}).encode(),
    json.dumps({"text": ""}).encode(),
    b"",  # a blank line is not a record
    json.dumps({"text": "y = 2\n" * 3000}).encode(),  # over --max_text_chars below
]


def _write(path: Path, lines: list[bytes], compress: bool = False) -> Path:
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def _report(out: Path) -> dict:
    return read_report(out)


def _assert_conserved(report: dict, out: Path) -> None:
    assert_conserved(report, read_outputs(out))


class _CodePipelineSuite:
    """Tests shared by every local running mode; subclasses set ``beam_args``."""

    beam_args: list[str] = []

    def run(self, *argv: str) -> int:
        """Run the code pipeline's syntax stage (the stage under test here) on this runner."""
        return main(["code", "--stages", "syntax", *argv, *self.beam_args])

    def test_hostile_input_lands_in_the_right_exits(self, tmp_path):
        src = _write(tmp_path / "hostile.jsonl", HOSTILE_LINES)
        out = tmp_path / "out"
        assert (
            self.run("--input", str(src), "--output", str(out), "--max_text_chars", "5000000") == 0
        )
        report = _report(out)
        _assert_conserved(report, out)
        assert report["input"] == 14
        assert report["stages"]["read"]["dead_letter"] == 6
        assert report["stages"]["syntax"]["rejected"] == {
            "null_bytes": 1,
            "too_deep": 2,
            "syntax_error": 1,
        }
        kept = read_jsonl_dir(out / "kept")
        assert sorted(r["text"] for r in kept) == sorted(["", GOOD, BIG, "y = 2\n" * 3000])
        assert all(r["syntax_ok"] is True for r in kept)
        assert next(r for r in kept if r["text"] == GOOD)["repo"] == "r/1"
        dead = read_jsonl_dir(out / "dead_letter")
        assert sorted(d["error_type"] for d in dead) == sorted(
            [
                "invalid_json",
                "not_an_object",
                "missing_text",
                "missing_text",
                "invalid_utf8",
                "invalid_unicode",
            ]
        )
        assert all(d["stage"] == "read" and d["raw"] and d["source_file"] for d in dead)
        rejected = read_jsonl_dir(out / "rejected")
        assert {r["reason"] for r in rejected} == {"null_bytes", "too_deep", "syntax_error"}
        assert all(r["stage"] == "syntax" and r["error"] for r in rejected)

    def test_too_large_is_rejected_at_read(self, tmp_path):
        src = _write(
            tmp_path / "in.jsonl.gz", HOSTILE_LINES[:1] + HOSTILE_LINES[-1:], compress=True
        )
        out = tmp_path / "out"
        assert self.run("--input", str(src), "--output", str(out), "--max_text_chars", "1000") == 0
        report = _report(out)
        _assert_conserved(report, out)
        assert report["stages"]["read"]["rejected"] == {"too_large": 1}
        assert report["kept"] == 1

    def test_stack_style_fields_and_parquet_round_trip(self, tmp_path):
        rows = [
            {"content": GOOD, "blob_id": "b1", "path": "a.py", "repo_name": "x/y", "size": 30},
            {
                "content": "print 'py2'",
                "blob_id": "b2",
                "path": "b.py",
                "repo_name": "x/z",
                "size": 11,
            },
        ]
        src = tmp_path / "stack.parquet"
        pq.write_table(pa.Table.from_pylist(rows), src)
        out = tmp_path / "out"
        argv = ["--input", str(src), "--output", str(out), "--text_field", "content"]
        assert self.run(*argv, "--id_field", "blob_id", "--output_format", "parquet") == 0
        kept = pq.read_table(next((out / "kept").glob("*.parquet"))).to_pylist()
        assert kept == [
            {
                **rows[0],
                "id": "b1",
                "language": "Python",
                "syntax_ok": True,
                "syntax_checker": PYTHON_CHECKER,
            }
        ]
        rejected = read_jsonl_dir(out / "rejected")
        assert rejected[0]["blob_id"] == "b2" and rejected[0]["content"] == "print 'py2'"
        _assert_conserved(_report(out), out)

    def test_rerun_replaces_outputs(self, tmp_path):
        out = tmp_path / "out"
        first = _write(
            tmp_path / "a.jsonl", [json.dumps({"text": f"a{i} = {i}"}).encode() for i in range(6)]
        )
        second = _write(tmp_path / "b.jsonl", [json.dumps({"text": "b = 1"}).encode()])
        assert self.run("--input", str(first), "--output", str(out)) == 0
        assert self.run("--input", str(second), "--output", str(out)) == 0
        assert [r["text"] for r in read_jsonl_dir(out / "kept")] == ["b = 1"]
        assert _report(out)["input"] == 1


class TestInMemory(_CodePipelineSuite):
    beam_args = []


class TestMultiProcessing(_CodePipelineSuite):
    beam_args = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


class TestPortableJobService(_CodePipelineSuite):
    """Submitted through PortableRunner to a real job service, as to Flink."""

    @pytest.fixture(autouse=True)
    def _submit_to_job_service(self, job_service):
        self.beam_args = [
            "--runner=PortableRunner",
            f"--job_endpoint={job_service}",
            "--environment_type=LOOPBACK",
        ]


def test_stdlib_sample_without_input(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["code", "--output", str(out), "--sample_size", "30", "--stages", "syntax"]) == 0
    report = _report(out)
    assert report["input"] == 30
    _assert_conserved(report, out)
    kept = read_jsonl_dir(out / "kept")
    assert all(r["path"].endswith(".py") and r["id"] == text_id(r["text"]) for r in kept)
    printed = capsys.readouterr().out
    assert str(out / "report.json") in printed


def test_unknown_stage_is_a_clear_error(tmp_path, capsys):
    assert main(["code", "--output", str(tmp_path), "--stages", "syntax,nope"]) == 2
    assert "unknown stage(s) nope" in capsys.readouterr().err


@pytest.mark.parametrize(
    "bad, message",
    [
        (["--stages", "near_dedup", "--bands", "40", "--rows", "8"], "exceeds --num_perm"),
        (["--stages", "sgcr", "--engine", "openai", "--model", "m"], "--endpoint"),
        (["--stages", "lint", "--min_quality", "7", "--text_field", ""], "--text_field"),
        (["--stages", "decontaminate", "--decontam_file", "missing.jsonl"], "not found"),
    ],
)
def test_a_bad_flag_fails_before_an_earlier_run_is_cleared(tmp_path, capsys, bad, message):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": GOOD}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["code", "--input", str(source), "--output", str(out)]
    assert main([*argv, "--stages", "syntax"]) == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert main([*argv, *bad]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_missing_input_files_are_a_clear_error(tmp_path, capsys):
    pattern = str(tmp_path / "none*.jsonl")
    assert main(["code", "--input", pattern, "--output", str(tmp_path / "o")]) == 2
    assert f"no input files match {pattern!r}" in capsys.readouterr().err


def test_gcs_paths_through_a_real_gcs_protocol_server(tmp_path, gcs_emulator):
    from google.cloud import storage

    client = storage.Client.create_anonymous_client()
    client.project = "test"
    bucket = client.create_bucket("swallow-test")
    bucket.blob("in/part-0.jsonl").upload_from_string(b"\n".join(HOSTILE_LINES[:4]))
    rc = main(
        [
            "code",
            "--input",
            "gs://swallow-test/in/*.jsonl",
            "--output",
            "gs://swallow-test/out",
            "--no_auth",
            "--stages",
            "syntax",
        ]
    )
    assert rc == 0
    report = json.loads(bucket.blob("out/report.json").download_as_bytes())
    assert_conserved(report)
    assert (report["input"], report["kept"], report["dead_letter"]) == (4, 1, 3)
    names = {blob.name for blob in client.list_blobs("swallow-test", prefix="out/")}
    assert any(name.startswith("out/kept/") for name in names)
    assert any(name.startswith("out/dead_letter/") for name in names)
