"""The v2 recipes' stages without a model: format and reformat (ruff for Python; every
language: test_languages_formatting*.py), length,
lint_errors, the score's parser and bands, the math style choice, the quality
measures. The format stage is held to the ``ruff format`` CLI on real files."""

from __future__ import annotations

import re
import subprocess
import sysconfig
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from beam_swallow.inference.base import ChatResult
from beam_swallow.languages.formatting import FormatConfig
from beam_swallow.languages.formatting.ruff import (
    RuffConfig,
    check_sources,
    format_python,
    ruff_binary,
)
from beam_swallow.linting.score import LintResult, Status
from beam_swallow.records import Reason
from beam_swallow.reporting.quality import (
    quality_bins,
    quality_examples,
    quality_lines,
    render_quality,
)
from beam_swallow.testing.lint_reference import stdlib_sources
from beam_swallow.transforms import Format, Length, LintErrors, Reformat
from beam_swallow.transforms.length import LengthConfig, judge_length
from beam_swallow.transforms.math_styles import style_of
from beam_swallow.transforms.quality import change, code_measures, formula_share
from beam_swallow.transforms.score import ScoreBands, band_of, judge_score, parse_score

BROKEN = "def broken(:\n    return 1\n"


def _cli_format(source: str) -> tuple[int, bytes]:
    """``ruff format --isolated -`` on one source through stdin, as bytes both ways."""
    done = subprocess.run(
        [ruff_binary(), "format", "--isolated", "-"],
        input=source.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    return done.returncode, done.stdout


def _site_packages_sources(count: int) -> list[str]:
    """Real files of installed packages (pylint's and astroid's own), read as UTF-8."""
    root = Path(sysconfig.get_paths()["purelib"])
    found = []
    for package in ("pylint", "astroid", "tenacity", "httpx"):
        for path in sorted((root / package).rglob("*.py")):
            try:
                found.append(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, OSError):
                continue
            if len(found) >= count:
                return found
    return found


def test_format_equals_the_ruff_cli_on_real_files():
    sources = stdlib_sources(60) + _site_packages_sources(60)
    sources.append("x = 1\r\ny=[1,2]\r\n")  # Windows line endings stay as they were
    assert len(sources) > 100
    outcomes = format_python(sources, FormatConfig(batch_files=40))
    changed = 0
    for source, outcome in zip(sources, outcomes, strict=True):
        code, expected = _cli_format(source)
        if code == 0:
            assert outcome.error is None
            assert outcome.text.encode("utf-8") == expected
            changed += outcome.text != source
        else:  # the CLI refuses it too
            assert outcome.text is None and outcome.error
    assert changed > 0  # the check compared real reformatting, not untouched files


def test_an_unparsable_file_is_refused_with_ruffs_message():
    [good, bad] = format_python(["x=1\n", BROKEN], FormatConfig())
    assert good.text == "x = 1\n"
    assert bad.text is None
    assert bad.error.startswith("Failed to parse at 1:12:")


def _run_stage(stage: beam.PTransform, records: list[dict]):
    pipeline = beam.Pipeline(runner=FnApiRunner())
    out = pipeline | beam.Create(records) | stage
    return pipeline, out


def test_format_stage_exits_add_up():
    records = [
        {"id": "a", "text": "x=1\n"},
        {"id": "b", "text": "x = 1\n"},
        {"id": "c", "text": BROKEN},
        {"id": "d", "text": 7},
    ]
    pipeline, out = _run_stage(Format(FormatConfig(batch_files=2)), records)
    assert_that(
        out.kept | beam.Map(lambda r: (r["id"], r["text"], r["format_changed"])),
        equal_to([("a", "x = 1\n", True), ("b", "x = 1\n", False)]),
        label="kept",
    )
    assert_that(
        out.rejected | beam.Map(lambda r: (r["id"], r["stage"], r["reason"])),
        equal_to([("c", "format", Reason.UNFORMATTABLE)]),
        label="rejected",
    )
    assert_that(
        out.dead_letter | beam.Map(lambda r: (r["id"], r["stage"], r["error_type"])),
        equal_to([("d", "format", "type_error")]),
        label="dead",
    )
    pipeline.run().wait_until_finish()


def test_reformat_is_the_same_stage_under_its_own_name():
    pipeline, out = _run_stage(Reformat(FormatConfig()), [{"id": "a", "text": "y=2\n"}])
    assert_that(
        out.kept | beam.Map(lambda r: (r["text"], r["reformat_changed"])),
        equal_to([("y = 2\n", True)]),
    )
    pipeline.run().wait_until_finish()


def test_a_ruff_run_that_fails_makes_each_record_of_its_batch_a_dead_letter():
    # a timeout no run can meet: ruff is killed, the batch is unanswered
    pipeline, out = _run_stage(
        Format(FormatConfig(timeout_s=1e-6)), [{"id": str(i), "text": "x=1\n"} for i in range(3)]
    )
    assert_that(
        out.dead_letter | beam.Map(lambda r: (r["id"], r["error_type"])),
        equal_to([(str(i), "tool_error") for i in range(3)]),
        label="dead",
    )
    assert_that(out.kept, equal_to([]), label="kept")
    pipeline.run().wait_until_finish()


def test_lint_errors_finds_what_ruff_check_finds():
    sources = ["import os\nprint(os.sep)\n", "print(undefined_name)\n", BROKEN]
    findings = check_sources(sources, RuffConfig())
    assert findings[0] == []
    assert findings[1] == ["F821 1:7 Undefined name `undefined_name`"]
    assert findings[2]  # a syntax error is a lint error
    pipeline, out = _run_stage(
        LintErrors(RuffConfig()), [{"id": str(i), "text": s} for i, s in enumerate(sources)]
    )
    assert_that(out.kept | beam.Map(lambda r: r["id"]), equal_to(["0"]), label="kept")
    assert_that(
        out.rejected | beam.Map(lambda r: (r["id"], r["reason"], len(r["lint_errors"]))),
        equal_to([("1", Reason.LINT_ERRORS, 1), ("2", Reason.LINT_ERRORS, len(findings[2]))]),
        label="rejected",
    )
    pipeline.run().wait_until_finish()


def test_length_bounds_are_inclusive():
    cfg = LengthConfig(min_chars=3, max_chars=5)
    assert judge_length({"text": "abc"}, cfg) == {"text": "abc"}
    assert judge_length({"text": "abcde"}, cfg) == {"text": "abcde"}
    assert judge_length({"text": "ab"}, cfg).reason == Reason.TEXT_TOO_SHORT
    assert judge_length({"text": "abcdef"}, cfg).reason == Reason.TEXT_TOO_LONG
    with pytest.raises(ValueError):
        LengthConfig(min_chars=6, max_chars=5)
    pipeline, out = _run_stage(Length(cfg), [{"id": "a", "text": "abcd"}, {"id": "b", "text": "a"}])
    assert_that(out.kept | beam.Map(lambda r: r["id"]), equal_to(["a"]), label="kept")
    assert_that(
        out.rejected | beam.Map(lambda r: (r["id"], r["chars"])), equal_to([("b", 1)]), label="rej"
    )
    pipeline.run().wait_until_finish()


@pytest.mark.parametrize(
    ("answer", "score", "reason"),
    [
        ("Score: 7\nReason: clear names.\n", 7.0, "clear names."),
        ("Score: 10\nReason: a model file\n", 10.0, "a model file"),
        ("**Score**: 4/10\nreason: long functions", 4.0, "long functions"),
        ("I would rate it highly.", None, ""),
        ("Score: 42\nReason: x", None, "x"),
    ],
)
def test_parse_score(answer, score, reason):
    assert parse_score(answer) == (score, reason)


def test_bands_route_as_configured():
    bands = ScoreBands.parse("3,8")
    assert [band_of(s, bands) for s in (0, 2.9, 3, 7.9, 8, 10)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]
    for bad in ("8,3", "3", "-1,4", "4,11"):
        with pytest.raises(ValueError):
            ScoreBands.parse(bad)
    record = {"id": "a", "text": "x = 1\n"}

    def answer(text):
        return ChatResult(id="a", text=text, finish_reason="stop")

    low = judge_score(record, answer("Score: 2\nReason: r\n"), bands)
    assert low.reason == Reason.LOW_SCORE and low.fields["band"] == "low"
    kept = judge_score(record, answer("Score: 5\nReason: r\n"), bands)
    assert (kept["llm_score"], kept["band"], kept["score_reason"]) == (5.0, "medium", "r")
    assert judge_score(record, answer("no idea"), bands).reason == Reason.NO_SCORE


def test_alternate_styles_split_pages_and_stay_put():
    styles = [style_of({"id": str(i)}, "alternate") for i in range(200)]
    assert 60 < styles.count("textbook") < 140 and set(styles) == {"textbook", "qa"}
    assert styles == [style_of({"id": str(i)}, "alternate") for i in range(200)]
    assert style_of({"id": "1"}, "qa") == "qa"


def test_quality_moves_and_measures():
    assert change("quality_score", 6.0, 8.0) == "improved"
    assert change("quality_score", 8.0, 6.0) == "worse"
    assert change("parses", True, True) == "same"
    assert change("parses", False, True) == "improved"
    assert change("chars", 10, 30) == "higher"
    assert change("pylint_score", None, 3.0) is None
    assert formula_share("Step 1: add.\n$x = 2$\nnothing here\n\n1. done\n") == 0.75
    assert formula_share("") == 0.0
    scored = code_measures("x = (\n", "Python", LintResult(Status.UNPARSABLE, error="bad"))
    assert scored["parses"] is False and scored["pylint_score"] is None
    assert scored["chars"] == 6


def _measured(before: float, after: float, record_id: str) -> dict:
    return {
        "id": record_id,
        "text": "x = 1\n",
        "quality": {
            "rewrite": {
                "before": {"chars": 100, "parses": True, "quality_score": before},
                "after": {"chars": 300, "parses": True, "quality_score": after},
            }
        },
    }


def test_quality_bins_and_the_report_section_agree():
    records = [_measured(4.5, 8.0, "a"), _measured(6.0, 6.0, "b"), _measured(9.0, 2.0, "c")]
    stats: dict = {}
    for record in records:
        for (stage, kind, label), n in quality_bins(record, "rewrite", "kept"):
            bins = stats.setdefault(stage, {}).setdefault(kind, {})
            bins[label] = bins.get(label, 0) + n
        for (stage, key), example in quality_examples(record, "rewrite"):
            stats[stage].setdefault("quality_examples", {}).setdefault(key, []).append(example)
    assert list(quality_bins(records[0], "rewrite", "rejected")) == []  # kept exits only
    moves = stats["rewrite"]["quality_change:quality_score"]
    assert moves == {"improved": 1, "same": 1, "worse": 1}
    assert stats["rewrite"]["quality_before:quality_score"] == {"4": 1, "6": 1, "9": 1}
    assert stats["rewrite"]["quality_after:chars"] == {"256-511": 3}
    page = render_quality({"stats": stats})
    keys = dict(re.findall(r'data-key="([^"]+)">([^<]*)<', page))
    report = {"stats": stats}
    for key, shown in keys.items():  # every count carries its path in the report
        value = report
        for part in key.split("."):
            value = value[part]
        assert int(shown) == value, key
    assert "stats.rewrite.quality_change:quality_score.worse" in keys
    assert set(stats["rewrite"]["quality_examples"]) == {
        "quality_score.improved",
        "quality_score.same",
        "quality_score.worse",
    }
    assert "quality_score: 4.5 -> 8.0 (improved)" in quality_lines(records[0], "rewrite")
