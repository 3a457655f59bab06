"""The lint stage in a pipeline, through the CLI, on the FnApiRunner.

One suite, run in memory and with SDK workers in separate processes
(``multi_processing``), where the DoFn (and its pool) lives off the main
thread of another process. Every test checks the three exits and the counts.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from beam_swallow.cli import main
from beam_swallow.linting import comment_ratio, penalized
from beam_swallow.records import Reason, text_id
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.lint_reference import HANG_TIMEOUT_S, hanging_source, stdlib_sources
from beam_swallow.transforms.lint import Lint, LintConfig

LOW = "import os\nvalue = undefined_name + os.sep\nprint(value)\n"
CHATTY = "".join(f"# note {i}\n" for i in range(12)) + "x = 1\nprint(x)\n"
EMPTY = "# only a comment\n"


class _LintStageSuite:
    beam_args: list[str] = []

    @pytest.fixture(autouse=True)
    def private_tmp(self, tmp_path, monkeypatch):
        """Temp files of this run (and its SDK worker processes) go to a fresh dir."""
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        monkeypatch.setenv("TMPDIR", str(scratch))
        monkeypatch.setattr(tempfile, "tempdir", str(scratch))
        return scratch

    def test_every_record_leaves_by_exactly_one_exit(self, tmp_path, private_tmp):
        real = stdlib_sources(5, max_bytes=3_000)
        texts = [*real, LOW, CHATTY, EMPTY, hanging_source()]
        src = tmp_path / "in.jsonl"
        src.write_text("".join(json.dumps({"text": t, "n": i}) + "\n" for i, t in enumerate(texts)))
        out = tmp_path / "out"
        argv = ["code", "--input", str(src), "--output", str(out), "--stages", "lint"]
        argv += ["--lint_timeout", str(HANG_TIMEOUT_S), "--lint_workers", "1", *self.beam_args]
        argv += ["--lint_slow_timeout", str(HANG_TIMEOUT_S)]  # its second try runs out too
        assert main(argv) == 0

        report = read_report(out)
        outputs = read_outputs(out)
        assert_conserved(report, outputs)
        assert report["stages"]["lint"]["input"] == len(texts)
        kept, dead = outputs["kept"], outputs["dead_letter"]
        rejected = {r["n"]: r for r in outputs["rejected"]}
        assert len(rejected) == len(outputs["rejected"])  # each record once

        for record in kept:
            assert record["n"] < len(real)
            assert record["quality_score"] >= 7.0
            assert record["comment_ratio"] == pytest.approx(comment_ratio(record["text"]))
            assert record["quality_score"] == pytest.approx(
                penalized(record["pylint_score"], record["comment_ratio"])
            )
        assert rejected[5]["reason"] == Reason.LOW_QUALITY
        assert rejected[5]["pylint_score"] == 0.0
        assert rejected[6]["reason"] == Reason.LOW_QUALITY
        assert rejected[6]["pylint_score"] == 10.0 and rejected[6]["quality_score"] < 7.0
        assert rejected[7]["reason"] == Reason.NO_STATEMENTS
        assert rejected[8]["reason"] == Reason.LINT_TIMEOUT and "killed" in rejected[8]["error"]
        assert f"nor alone within {HANG_TIMEOUT_S:g}s" in rejected[8]["error"]
        assert all(r["stage"] == "lint" for r in rejected.values())
        assert dead == []
        assert {r["id"] for r in kept} | {r["id"] for r in rejected.values()} == {
            text_id(t) for t in texts
        }
        assert list(Path(private_tmp).glob("beam-swallow-lint-*")) == []

    def test_broken_records_are_dead_letters(self, private_tmp):
        records = [
            {"id": "good", "text": "def add(a, b):\n    return a + b\n"},
            {"id": "none", "text": None},
            {"id": "empty", "text": ""},
        ]
        options = PipelineOptions(self.beam_args)
        with beam.Pipeline(runner=FnApiRunner(), options=options) as pipeline:
            result = pipeline | beam.Create(records) | Lint(LintConfig(workers=1, timeout_s=60))
            kept = result.kept | "KeptIds" >> beam.Map(lambda r: (r["id"], r["pylint_score"]))
            rejected = result.rejected | "RejIds" >> beam.Map(lambda r: (r["id"], r["reason"]))
            dead = result.dead_letter | "DeadIds" >> beam.Map(
                lambda r: (r["id"], r["stage"], r["error_type"])
            )
            assert_that(kept, equal_to([("good", 10.0)]), label="kept")
            assert_that(rejected, equal_to([("empty", Reason.NO_STATEMENTS)]), label="rejected")
            assert_that(dead, equal_to([("none", "lint", "lint_error")]), label="dead")
        assert list(Path(private_tmp).glob("beam-swallow-lint-*")) == []


class TestInMemory(_LintStageSuite):
    beam_args: list[str] = []


class TestMultiProcessing(_LintStageSuite):
    beam_args = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def test_the_pool_is_sized_on_the_worker_not_the_launcher(monkeypatch):
    """The pool (and the records held in flight) is as large as the CPU count where the DoFn runs.

    A launcher that builds the graph for a cluster knows nothing of the workers'
    CPUs: building the graph must not ask, running it must.
    """
    import beam_swallow.linting.config as lint_config  # where the pool is sized

    asked: list[str] = []

    def cpus_here() -> int:
        asked.append("cpu count")
        return 1

    monkeypatch.setattr(lint_config, "default_workers", cpus_here)
    records = [{"id": str(i), "text": f"value_{i} = {i}\nprint(value_{i})\n"} for i in range(3)]
    pipeline = beam.Pipeline(runner=FnApiRunner())
    result = pipeline | beam.Create(records) | Lint(LintConfig(timeout_s=60))
    assert_that(result.kept | beam.Map(lambda r: r["id"]), equal_to(["0", "1", "2"]))
    assert asked == []
    pipeline.run().wait_until_finish()
    assert asked, "the DoFn never sized its pool"
