"""A misspelt flag stops the CLI before anything runs, naming the nearest known flags."""

from __future__ import annotations

from pathlib import Path

from beam_swallow.cli import main, unknown_flags
from beam_swallow.testing import read_report

_SYNTAX_RUN = ["code", "--stages", "syntax", "--sample_size", "2", "--quiet"]


def test_a_misspelt_flag_is_an_error_naming_the_nearest(tmp_path, capsys):
    out = tmp_path / "out"
    status = main([*_SYNTAX_RUN, "--min_qualty", "9", "--output", str(out)])
    assert status == 2
    err = capsys.readouterr().err
    assert "unknown flag --min_qualty (did you mean --min_quality" in err
    assert not out.exists()  # refused before the sample was written or anything cleared


def test_every_unknown_flag_is_named_once_with_its_value_left_out():
    problems = unknown_flags(["--max_tokns", "5", "--input", "x", "--lint_timout=3", "stray"])
    assert problems[0].startswith("unknown flag --max_tokns (did you mean --max_tokens")
    assert problems[1].startswith("unknown flag --lint_timout (did you mean --lint_timeout")
    assert problems[2] == "unexpected argument 'stray'"
    assert len(problems) == 3


def test_beam_flags_are_known_and_no_abbreviation_passes():
    assert unknown_flags(["--runner=FnApiRunner", "--direct_num_workers", "1"]) == []
    assert unknown_flags(["--flink_master", "localhost:8081", "--job_endpoint=x:1"]) == []
    assert unknown_flags(["--experiments=a", "--experiments=b", "--streaming"]) == []
    # a prefix of a real flag is not that flag
    assert unknown_flags(["--min_qual", "6"])[0].startswith("unknown flag --min_qual ")


def test_a_beam_flag_runs_and_flags_after_a_lone_dashdash_pass_to_the_runner(tmp_path: Path):
    out = tmp_path / "out"
    argv = [*_SYNTAX_RUN, "--output", str(out), "--direct_num_workers", "1"]
    assert main([*argv, "--", "--a_flag_only_a_runner_reads=1"]) == 0
    report = read_report(out)
    assert report["balanced"] and report["input"] == 2
