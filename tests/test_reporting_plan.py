"""``beam-swallow plan``: the paper's own counts and throughput give back its GPU-hours."""

from __future__ import annotations

import json
import re

import pytest

from beam_swallow.cli import main
from beam_swallow.reporting.engine_sim import feeding_gain
from beam_swallow.reporting.plan import (
    CONTINUOUS_FEEDING_GAIN,
    PAPER_FILES,
    PAPER_GPU_HOURS,
    PlanInputs,
    make_plan,
)


def test_paper_counts_and_throughput_land_near_the_papers_gpu_hours():
    plan = make_plan(PlanInputs(files=PAPER_FILES, feeding="batch"))
    # 24.1M files into SGCR at 548 tokens, ~20.8M into SCOR at 835, 360 tokens/s per H100
    assert plan.sgcr_files == pytest.approx(24_100_915, rel=1e-6)
    assert plan.scor_files == pytest.approx(20_800_000, rel=1e-6)
    assert plan.gpu_hours == pytest.approx(PAPER_GPU_HOURS, rel=0.02)


def test_continuous_feeding_stands_on_the_engine_models_figure():
    """The plan's gain is the one the discrete-event engine model computes for the
    paper's load (rounded to two places), and divides the batch-fed GPU-hours."""
    assert feeding_gain()["gain"] == pytest.approx(CONTINUOUS_FEEDING_GAIN, abs=0.005)
    batch = make_plan(PlanInputs(files=PAPER_FILES, feeding="batch"))
    continuous = make_plan(PlanInputs(files=PAPER_FILES))
    assert continuous.gpu_hours == pytest.approx(batch.gpu_hours / CONTINUOUS_FEEDING_GAIN)


def test_gpu_hours_follow_the_given_throughput():
    base = make_plan(PlanInputs(files=1_000_000, tokens_per_s=360))
    faster = make_plan(PlanInputs(files=1_000_000, tokens_per_s=720))
    assert faster.gpu_hours == pytest.approx(base.gpu_hours / 2)
    assert faster.gpu_cost == pytest.approx(base.gpu_cost / 2)


def test_cpu_hours_scale_with_file_size():
    small = make_plan(PlanInputs(files=1_000_000, avg_bytes=2_000))
    large = make_plan(PlanInputs(files=1_000_000, avg_bytes=8_000))
    assert large.lint_core_hours == pytest.approx(4 * small.lint_core_hours)
    assert large.syntax_core_hours == pytest.approx(4 * small.syntax_core_hours)
    assert large.shuffle_gb > small.shuffle_gb


def test_cli_prints_each_line_with_its_source(capsys):
    assert main(["plan", "--files", str(PAPER_FILES), "--gpu", "H100", "--feeding", "batch"]) == 0
    out = capsys.readouterr().out
    assert "BENCHMARKS.md syntax" in out and "BENCHMARKS.md lint" in out
    assert "H100-h" in out and "GB shuffled" in out
    assert "(the paper's, fed in 2,048-prompt calls)" in out
    gpu_hours = int(re.search(r"([\d,]+) H100-h", out).group(1).replace(",", ""))
    assert gpu_hours == pytest.approx(PAPER_GPU_HOURS, rel=0.02)
    assert main(["plan", "--files", str(PAPER_FILES)]) == 0
    out = capsys.readouterr().out
    assert f"x {CONTINUOUS_FEEDING_GAIN}: fed continuously, simulated" in out


def test_measured_throughput_comes_from_a_runs_report(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    engines = {"vllm": {"completion_tokens": 7200, "request_seconds": 10.0, "tokens_per_s": 720.0}}
    (run / "report.json").write_text(json.dumps({"timing": {"engines": engines}}))
    assert main(["plan", "--files", "1000000", "--measured", str(run)]) == 0
    out = capsys.readouterr().out
    assert "tokens/s measured by the run" in out and "720 output tokens/s per H100" in out
    (run / "report.json").write_text(json.dumps({"timing": {"engines": {}}}))
    assert main(["plan", "--files", "1000000", "--measured", str(run)]) == 2


def test_fetch_line_for_the_papers_files_at_a_stated_rate(capsys):
    plan = make_plan(PlanInputs(files=PAPER_FILES, fetch_per_s=200, fetch_workers=10))
    assert plan.fetch_worker_hours == pytest.approx(PAPER_FILES / 200 / 3600)
    assert main(["plan", "--files", str(PAPER_FILES), "--fetch_per_s", "100"]) == 0
    out = capsys.readouterr().out
    hours = float(re.search(r"([\d,.]+) worker-h", out).group(1).replace(",", ""))
    assert hours == pytest.approx(PAPER_FILES / 100 / 3600, rel=1e-3)
    assert "100 GETs/s per worker" in out


def test_a_language_mix_prices_the_python_share(capsys):
    assert (
        main(["plan", "--files", "1000000", "--languages_mix", "python=0.5,Go=0.2,Rust=0.1"]) == 0
    )
    out = capsys.readouterr().out
    assert "language mix (given):" in out
    assert re.search(r"Python\s+50\.0%\s+500,000 files\s+priced below", out)
    assert re.search(r"Go\s+20\.0%\s+200,000 files\s+rejected other_language", out)
    assert re.search(r"unsupported\s+20\.0%\s+200,000 files\s+rejected unsupported_language", out)
    alone = make_plan(PlanInputs(files=500_000))
    assert f"{alone.lint_core_hours:,.1f} core-h" in out  # the lines price 500,000 files
    assert f"{alone.gpu_hours:,.0f} H100-h" in out


@pytest.mark.parametrize(
    ("mix", "message"),
    [
        ("Python=0.7,Go=0.5", "sum to 1.2, over 1"),
        ("Python=0", "above 0"),
        ("Golang=0.5", "'Golang' is not a language"),
        ("Python", "LANGUAGE=SHARE"),
        ("Python=half", "not a share"),
    ],
)
def test_a_bad_mix_is_a_flag_error(mix, message, capsys):
    assert main(["plan", "--files", "10", "--languages_mix", mix]) == 2
    assert message in capsys.readouterr().out


def test_the_mix_measured_on_a_sample_of_the_input(tmp_path, capsys):
    from beam_swallow.testing.stack_v2 import StackFile, write_repository_shard

    records = [{"text": "x", "path": f"f{i}.go"} for i in range(6)]
    records += [{"text": "x", "path": "a.py"}, {"text": "x", "language": "Rust"}]
    records += [{"text": "x", "path": "notes.md"}, {"text": "x", "path": "Makefile"}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["plan", "--files", "1000", "--languages_mix_from", str(tmp_path / "*.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "a sample of 10 files" in out
    assert re.search(r"Go\s+60\.0%\s+600 files", out)
    assert re.search(r"Python\s+20\.0%\s+200 files", out)  # a.py and Makefile (no extension)
    assert re.search(r"unsupported\s+10\.0%\s+100 files", out)

    shard = tmp_path / "shards"
    shard.mkdir()
    files = [StackFile(f"s{i}.rs", b"fn main() {}\n", language="Rust") for i in range(3)]
    write_repository_shard(shard / "repos.parquet", [*files, StackFile("a.py", b"x = 1\n")])
    argv = ["plan", "--files", "100", "--languages_mix_from", str(shard / "*.parquet")]
    assert main([*argv, "--mix_sample", "2"]) == 0
    out = capsys.readouterr().out
    assert "a sample of 2 files" in out and re.search(r"Rust\s+100\.0%", out)
    assert main(["plan", "--files", "1", "--languages_mix_from", str(tmp_path / "none*")]) == 2
