"""The dedup stages through the CLI: standalone, in the code pipeline, and in math.

Each run checks the outputs and that every stage's counts add up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.testing import assert_conserved, read_jsonl_dir, read_outputs, read_report


def _report(out: Path) -> dict:
    report = read_report(out)
    assert_conserved(report, read_outputs(out))
    return report


@pytest.mark.parametrize("mode", ["in_memory", "multi_processing"])
def test_standalone_dedup_on_planted_sample(tmp_path, mode):
    out = tmp_path / "out"
    argv = ["dedup", "--output", str(out), "--sample_size", "40"]
    argv += [f"--direct_running_mode={mode}", "--direct_num_workers=2"]
    assert main(argv) == 0
    report = _report(out)
    assert report["input"] == 60  # 40 files, 10 exact and 10 near copies planted
    assert report["stages"]["exact_dedup"]["rejected"]["exact_duplicate"] >= 10
    assert report["stages"]["near_dedup"]["rejected"]["near_duplicate"] >= 5
    kept = read_jsonl_dir(out / "kept")
    texts = [" ".join(r["text"].split()) for r in kept]
    assert len(texts) == len(set(texts))  # no exact duplicate survives
    rejected = read_jsonl_dir(out / "rejected")
    kept_ids = {r["id"] for r in kept}
    assert all(r["duplicate_of"] in kept_ids for r in rejected if r["stage"] == "near_dedup")


def test_code_pipeline_places_dedup_stages(tmp_path):
    out = tmp_path / "out"
    stages = "syntax,exact_dedup,near_dedup,decontaminate"
    argv = ["code", "--output", str(out), "--sample_size", "30", "--stages", stages]
    assert main(argv) == 0
    report = _report(out)
    assert list(report["stages"]) == ["read", *stages.split(",")]


def test_math_pipeline_dedups_its_input(tmp_path):
    page = "Solve 3x + 4 = 19. Subtract 4 from both sides: 3x = 15, so x = 5. " * 6
    rows = [
        {"text": page, "url": "a"},
        {"text": page.replace(". ", ".  "), "url": "b"},  # whitespace-only copy
        {"text": page.replace("x = 5.", "x equals 5.", 1), "url": "c"},  # near copy
        {"text": "Find the area of a circle of radius 2: pi * 2^2 = 4 pi.", "url": "d"},
    ]
    source = tmp_path / "pages.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    argv = ["math", "--input", str(source), "--output", str(out)]
    assert main([*argv, "--stages", "exact_dedup,near_dedup"]) == 0
    report = _report(out)
    assert report["stages"]["exact_dedup"]["rejected"] == {"exact_duplicate": 1}
    assert report["stages"]["near_dedup"]["rejected"] == {"near_duplicate": 1}
    assert sorted(r["url"] for r in read_jsonl_dir(out / "kept"))[-1] == "d"
    assert len(read_jsonl_dir(out / "kept")) == 2


def test_bad_band_settings_are_refused(tmp_path, capsys):
    argv = ["dedup", "--output", str(tmp_path), "--bands", "64", "--rows", "8"]
    assert main(argv) == 2
    assert "--num_perm" in capsys.readouterr().err
