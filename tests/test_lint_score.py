"""The lint arithmetic and verdicts, without pylint or Beam."""

from __future__ import annotations

import io
import tokenize

import pytest

import beam_swallow.linting as linting
from beam_swallow.linting.score import (
    PYLINT_FLAGS,
    LintResult,
    Status,
    comment_ratio,
    penalized,
    printed_score,
    pylint_note,
)
from beam_swallow.options import SwallowOptions
from beam_swallow.records import Reason, Reject
from beam_swallow.transforms.lint import LintConfig, LintError, lint_verdict


def test_flags_are_the_papers():
    assert PYLINT_FLAGS == (
        "--persistent=n",
        "--disable=E0401,C0114,C0301,C0103,C0116,C0411,R0903,W0511,C0412",
    )


def test_public_api():
    assert sorted(linting.__all__) == sorted(
        [
            "PYLINT_FLAGS",
            "LintPool",
            "LintResult",
            "PoolStats",
            "Status",
            "comment_ratio",
            "default_workers",
            "penalized",
            "pylint_note",
        ]
    )


@pytest.mark.parametrize(
    ("counts", "note"),
    [
        (dict(fatal=0, error=0, warning=0, refactor=0, convention=0, statement=10), 10.0),
        (dict(fatal=0, error=1, warning=0, refactor=0, convention=0, statement=10), 5.0),
        (dict(fatal=0, error=0, warning=1, refactor=1, convention=1, statement=12), 7.5),
        (dict(fatal=0, error=3, warning=0, refactor=0, convention=0, statement=10), 0),
        (dict(fatal=1, error=0, warning=0, refactor=0, convention=0, statement=10), 0.0),
        (dict(fatal=0, error=0, warning=0, refactor=0, convention=0, statement=0), None),
    ],
)
def test_pylint_note(counts, note):
    assert pylint_note(**counts) == note


def test_printed_score_rounds_like_the_cli():
    assert printed_score(10 - 10 / 3) == 6.67
    assert printed_score(10 - 10 * 2 / 7) == 7.14


def test_comment_ratio_counts_tokens_not_lines():
    source = "# heading\nx = 1  # trailing\n"
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    assert comment_ratio(source) == 2 / len(tokens)
    assert comment_ratio("x = 1\n") == 0.0
    assert comment_ratio("") == 0.0
    assert comment_ratio("x = (\n") == 0.0  # does not tokenize


def test_penalty():
    assert penalized(8.0, 0.25) == 6.0
    assert penalized(8.0, 0.0) == 8.0
    assert penalized(8.0, 1.0) == 0.0


RECORD = {"id": "a", "text": "x = 1\n", "repo": "r"}


def test_verdicts():
    ok = LintResult(Status.OK, 9.0, 0.1, 8.1)
    kept = lint_verdict(RECORD, ok, 7.0)
    assert kept == {**RECORD, "pylint_score": 9.0, "comment_ratio": 0.1, "quality_score": 8.1}
    low = lint_verdict(RECORD, ok, 8.5)
    assert isinstance(low, Reject) and low.reason == Reason.LOW_QUALITY
    assert low.fields["quality_score"] == 8.1
    boundary = lint_verdict(RECORD, LintResult(Status.OK, 7.0, 0.0, 7.0), 7.0)
    assert boundary["quality_score"] == 7.0
    assert lint_verdict(RECORD, LintResult(Status.NO_STATEMENTS), 7.0) == Reject(
        Reason.NO_STATEMENTS
    )
    timeout = lint_verdict(RECORD, LintResult(Status.TIMEOUT, error="slow"), 7.0)
    assert timeout == Reject(Reason.LINT_TIMEOUT, {"error": "slow"})
    with pytest.raises(LintError, match="boom"):
        lint_verdict(RECORD, LintResult(Status.ERROR, error="boom"), 7.0)


def test_config_validates():
    for bad in (dict(timeout_s=0), dict(workers=0), dict(recycle_after=0)):
        with pytest.raises(ValueError):
            LintConfig(**bad)


def test_options_defaults_and_flags():
    opts = SwallowOptions([])
    assert (opts.min_quality, opts.lint_timeout, opts.lint_workers, opts.lint_recycle_after) == (
        7.0,
        120.0,
        None,
        500,
    )
    opts = SwallowOptions(["--min_quality=6.5", "--lint_timeout=3", "--lint_workers=2"])
    assert (opts.min_quality, opts.lint_timeout, opts.lint_workers) == (6.5, 3.0, 2)
