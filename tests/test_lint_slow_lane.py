"""The lint slow lane: a file that runs out of --lint_timeout gets a second try, alone.

The slow file is a real one: the standard library's ``argparse.py``, which a warm
pylint needs a few seconds for (5 s on the benchmark machine), so a bound of 1 s
sends it to the slow lane on any machine, however loaded.
"""

from __future__ import annotations

import json
import sysconfig
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.linting.config import LintConfig
from beam_swallow.linting.pool import SLOW_FACTOR, LintPool
from beam_swallow.linting.score import Status
from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.registry import lint_config
from beam_swallow.testing import read_outputs, read_report
from beam_swallow.testing.lint_reference import hanging_source, stdlib_sources

SLOW_FILE = Path(sysconfig.get_paths()["stdlib"]) / "argparse.py"
# Far longer than the slow file needs on a loaded machine: the second try must finish.
GENEROUS_S = 600.0


@pytest.fixture(scope="module")
def slow_text() -> str:
    return SLOW_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def with_default_bound(slow_text):
    with LintConfig(workers=1).pool() as pool:
        return pool.map([slow_text])[0]


def test_a_slow_file_is_scored_in_the_slow_lane_as_with_the_default_bound(
    slow_text, with_default_bound
):
    with LintPool(1, timeout_s=1, recycle_after=100, slow_timeout_s=GENEROUS_S) as pool:
        [result] = pool.map([slow_text])
        assert (pool.stats.timeouts, pool.stats.slow) == (1, 1)
    assert with_default_bound.status == Status.OK
    assert result == with_default_bound


def test_the_main_pool_goes_on_while_the_slow_lane_holds_a_file():
    small = stdlib_sources(3, max_bytes=2_000)
    # a bound no small file reaches on a loaded machine (10 s did, under a load of 12):
    # the hanging file spends it once before the small ones run
    with LintPool(1, timeout_s=30, recycle_after=100, slow_timeout_s=GENEROUS_S) as pool:
        stuck = pool.submit(hanging_source())
        tickets = [pool.submit(text) for text in small]
        ready: dict = {}
        while not set(tickets) <= set(ready):
            ready.update(pool.collect(wait_for=1))
        # every small file came back from the one main worker while the hanging one
        # still sits in the slow lane
        assert stuck not in ready and pool.in_flight == 1 and pool.stats.slow == 1
        assert all(ready[t].status == Status.OK for t in tickets)


def test_a_file_that_runs_out_of_both_bounds_is_a_timeout():
    with LintPool(1, timeout_s=1, recycle_after=100, slow_timeout_s=2) as pool:
        [result] = pool.map([hanging_source()])
        assert (pool.stats.timeouts, pool.stats.slow) == (2, 1)
    assert result.status == Status.TIMEOUT
    assert result.error == "no result within 1s, nor alone within 2s; worker killed"


def test_the_slow_bound_defaults_to_ten_times_the_timeout_and_zero_turns_it_off():
    assert LintConfig(timeout_s=3).slow_bound == SLOW_FACTOR * 3 == 30
    assert LintConfig(timeout_s=3, slow_timeout_s=0).slow_bound is None
    assert LintConfig(timeout_s=3, slow_timeout_s=3).slow_bound == 3
    with pytest.raises(ValueError, match="at least the lint timeout"):
        LintConfig(timeout_s=3, slow_timeout_s=2)
    opts = SwallowOptions(["--lint_timeout", "2", "--lint_slow_timeout", "50"])
    assert lint_config(opts).slow_bound == 50
    assert lint_config(SwallowOptions(["--lint_timeout", "2"])).slow_bound == 20


def _lint_score_lines(capsys, argv: list[str]) -> list[dict]:
    assert main(["lint-score", *argv]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_lint_score_gives_the_slow_file_its_second_try(capsys, tmp_path, with_default_bound):
    small = tmp_path / "small.py"
    small.write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    paths = [str(SLOW_FILE), str(small)]
    slow_lane = ["--lint_timeout", "1", "--lint_slow_timeout", str(GENEROUS_S)]
    lines = _lint_score_lines(capsys, [*slow_lane, "--lint_workers", "1", *paths])
    assert [line["path"] for line in lines] == paths
    assert lines[0]["status"] == "ok"
    assert lines[0]["pylint_score"] == with_default_bound.pylint_score
    assert lines == _lint_score_lines(capsys, ["--lint_workers", "1", *paths])


def test_the_lint_stage_gives_the_slow_file_its_second_try(tmp_path, slow_text, with_default_bound):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "argparse", "text": slow_text}) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["code", "--stages", "lint", "--quiet", "--input", str(source), "--output", str(out)]
    argv += ["--lint_timeout", "1", "--lint_slow_timeout", str(GENEROUS_S), "--lint_workers", "1"]
    assert main(argv) == 0
    assert read_report(out)["balanced"]
    outputs = read_outputs(out)
    [record] = outputs["kept"] + outputs["rejected"]
    assert record["pylint_score"] == with_default_bound.pylint_score
