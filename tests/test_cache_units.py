"""The result cache's parts without a pipeline: keys, entry lines, config, lint results."""

from __future__ import annotations

import pytest

from beam_swallow.cache import CacheConfig, cache_key, decode_entry, encode_entry
from beam_swallow.inference.base import ChatRequest, ChatResult, Message, SamplingParams
from beam_swallow.linting.config import LintConfig
from beam_swallow.linting.score import LintResult, Status
from beam_swallow.records import Reject, rejected
from beam_swallow.transforms.lint import STAGE, lint_verdict
from beam_swallow.transforms.lint_cache import lint_identity, result_of
from beam_swallow.transforms.llm_cache import request_key, result_from_value, value_of


def test_keys_depend_on_every_part_and_on_nothing_else():
    identity = {"stage": "lint", "pylint": "4.1"}
    key = cache_key(identity, "x = 1\n")
    assert key == cache_key(dict(reversed(list(identity.items()))), "x = 1\n")  # order-free
    assert (
        len(
            {
                key,
                cache_key(identity, "x = 2\n"),
                cache_key({**identity, "pylint": "4.2"}, "x = 1\n"),
            }
        )
        == 3
    )


def test_request_key_ignores_the_record_id_but_not_the_sampling():
    identity = {"stage": "sgcr", "engine": "embedded", "model": "m", "prompt_sha": "abc"}
    messages = (Message("system", "rate it"), Message("user", "x = 1\n"))
    a = ChatRequest("id-a", messages, SamplingParams(temperature=0.2))
    b = ChatRequest("id-b", messages, SamplingParams(temperature=0.2))
    c = ChatRequest("id-a", messages, SamplingParams(temperature=0.3))
    assert request_key(identity, a) == request_key(identity, b)
    assert request_key(identity, a) != request_key(identity, c)
    assert request_key(identity, a) != request_key({**identity, "prompt_sha": "abd"}, a)


def test_an_answer_round_trips_through_its_stored_value():
    result = ChatResult("r1", "```python\nx = 1\n```", "stop", 12, 7)
    line = encode_entry("k", value_of(result))
    key, value = decode_entry(line.encode("ascii"))
    assert key == "k"
    assert result_from_value(value, "r9") == ChatResult("r9", result.text, "stop", 12, 7)


def test_a_cut_or_edited_line_is_corrupt_never_an_answer():
    line = encode_entry("key-1", {"text": "ok", "n": 1}).encode("ascii")
    assert decode_entry(line) == ("key-1", {"text": "ok", "n": 1})
    for cut in (1, len(line) // 2, len(line) - 1):
        assert decode_entry(line[:cut]) is None
    assert decode_entry(line.replace(b"key-1", b"key-2")) is None  # a wrong key
    assert decode_entry(line.replace(b'"ok"', b'"no"')) is None  # an edited value
    assert decode_entry(b"\xff\xfe") is None
    assert decode_entry(b"[1, 2]") is None
    assert decode_entry(b'{"key": "k", "value": NaN, "check": "x"}') is None


def test_non_ascii_and_lone_surrogates_survive_a_line():
    value = {"text": "naïve \u2028 \ud800 日本"}
    assert decode_entry(encode_entry("k", value).encode("ascii")) == ("k", value)


def test_config_checks_its_values():
    for bad in (
        {"root": " "},
        {"root": "c", "flush_entries": 0},
        {"root": "c", "flush_seconds": 0},
    ):
        with pytest.raises(ValueError):
            CacheConfig(**bad)
    cfg = CacheConfig("gs://bucket/cache")
    assert cfg.stage_dir("lint", {"a": 1}).startswith("gs://bucket/cache/lint/")
    assert cfg.stage_dir("lint", {"a": 1}) != cfg.stage_dir("lint", {"a": 2})


def test_lint_identity_names_the_versions_flags_and_timeout():
    identity = lint_identity(LintConfig())
    assert {"python", "pylint", "astroid", "flags", "timeout_s", "score_code"} <= set(identity)
    assert lint_identity(LintConfig(min_quality=3.0)) == identity  # the threshold is re-applied
    assert lint_identity(LintConfig(timeout_s=5.0)) != identity


@pytest.mark.parametrize(
    "result",
    [
        LintResult(Status.OK, pylint_score=8.5, comment_ratio=0.1, score=7.65),
        LintResult(Status.OK, pylint_score=5.0, comment_ratio=0.0, score=5.0),
        LintResult(Status.NO_STATEMENTS),
        LintResult(Status.UNPARSABLE, error="unknown encoding: klingon"),
        LintResult(Status.TIMEOUT, error="no score within 1.0 s"),
    ],
)
def test_each_lint_output_gives_back_the_result_it_was_judged_from(result):
    record = {"id": "1", "text": "x = 1\n", "reason": "an input field"}
    verdict = lint_verdict(record, result, 7.0)
    if isinstance(verdict, Reject):
        out, kept = rejected(record, STAGE, verdict.reason, **verdict.fields), False
    else:
        out, kept = verdict, True
    assert result_of(out, kept) == result


def test_the_page_shows_each_cached_stage_counts_under_its_report_path():
    from beam_swallow.reporting.html import render_html

    counts = {"input": 3, "kept": 2, "rejected": {"low_quality": 1}, "dead_letter": 0}
    cache = {"hits": 2, "misses": 1, "written": 1, "corrupt": 5}
    report = {
        **counts,
        "balanced": True,
        "stages": {
            "syntax": {**counts, "balanced": True},
            "lint": {**counts, "balanced": True, "cache": cache},
        },
    }
    page = render_html(report, {}, "t")
    for event, n in cache.items():
        assert f'<td data-key="stages.lint.cache.{event}">{n}</td>' in page
    assert "stages.syntax.cache" not in page
    report["stages"]["lint"].pop("cache")
    assert "No result cache" in render_html(report, {}, "t")
