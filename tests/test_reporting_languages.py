"""report.json and report.html per language: counts per exit and reason, tokens, the
balance of each language, and the rows a streaming run sums its windows' reports from."""

from __future__ import annotations

from beam_swallow.pipelines.streaming import _rows
from beam_swallow.report import LANGUAGE_COUNTS, LANGUAGE_TOKENS, build_report
from beam_swallow.reporting.html import render_html

STAGES = ["read", "syntax", "format"]


def _rows_of_a_run() -> list[tuple[str, str, str, int]]:
    """Count rows of a small run: 6 Go files, 3 C, one line that was no record."""
    counts = [
        ("read", "input", "", 10),
        ("read", "kept", "", 8),
        ("read", "rejected", "other_language", 1),
        ("read", "dead_letter", "", 1),
        ("read", "tokens", "", 800),
        ("syntax", "kept", "", 6),
        ("syntax", "rejected", "syntax_error", 2),
        ("syntax", "tokens", "", 600),
        ("format", "kept", "", 5),
        ("format", "dead_letter", "", 1),
        ("format", "tokens", "", 500),
    ]
    language = [
        ("read", "Go|kept|", 6),
        ("read", "C|kept|", 2),
        ("read", "C|rejected|other_language", 1),
        ("syntax", "Go|kept|", 5),
        ("syntax", "Go|rejected|syntax_error", 1),
        ("syntax", "C|kept|", 1),
        ("syntax", "C|rejected|syntax_error", 1),
        ("format", "Go|kept|", 4),
        ("format", "Go|dead_letter|", 1),
        ("format", "C|kept|", 1),
    ]
    tokens = [("read", "Go", 600), ("read", "C", 200), ("syntax", "Go", 500)]
    tokens += [("syntax", "C", 100), ("format", "Go", 400), ("format", "C", 100)]
    return (
        counts
        + [(stage, LANGUAGE_COUNTS, key, n) for stage, key, n in language]
        + [(stage, LANGUAGE_TOKENS, key, n) for stage, key, n in tokens]
    )


def test_each_language_has_its_exits_reasons_tokens_and_balance():
    report = build_report(_rows_of_a_run(), STAGES)
    assert report["balanced"] is True
    assert list(report["languages"]) == ["C", "Go"]  # the catalog's order
    go, c = report["languages"]["Go"], report["languages"]["C"]
    assert go == {
        "input": 6,
        "kept": 4,
        "rejected": {"syntax_error": 1},
        "dead_letter": 1,
        "input_tokens": 600,
        "kept_tokens": 400,
        "balanced": True,
    }
    assert c["input"] == 3 and c["rejected"] == {"other_language": 1, "syntax_error": 1}
    assert c["kept"] == 1 and c["balanced"] is True
    assert report["no_language"] == 1  # the line that was no record
    syntax = report["stages"]["syntax"]["languages"]
    assert syntax["Go"]["input"] == 6 and syntax["C"]["input"] == 2
    assert report["stages"]["format"]["languages"]["Go"]["dead_letter"] == 1


def test_a_language_that_loses_records_is_not_balanced():
    rows = [r for r in _rows_of_a_run() if r[2] != "Go|dead_letter|"]
    assert build_report(rows, STAGES)["languages"]["Go"]["balanced"] is False


def test_a_run_without_languages_has_no_language_section():
    rows = [r for r in _rows_of_a_run() if r[1] not in (LANGUAGE_COUNTS, LANGUAGE_TOKENS)]
    report = build_report(rows, STAGES)
    assert "languages" not in report and "no_language" not in report
    assert "did not route records by language" in render_html(report, {}, "run")


def test_window_reports_give_back_the_rows_they_were_built_from():
    report = build_report(_rows_of_a_run(), STAGES)
    again = build_report(_rows(report), STAGES)
    assert again["languages"] == report["languages"]
    assert again["stages"] == report["stages"]


def test_the_page_shows_each_languages_counts_with_their_keys():
    report = build_report(_rows_of_a_run(), STAGES)
    page = render_html(report, {}, "run")
    assert "<h2>Languages</h2>" in page
    assert 'data-key="languages.Go.kept">4<' in page
    assert 'data-key="languages.C.rejected.other_language">1<' in page
    assert 'data-key="languages.Go.kept_tokens">400<' in page
    assert 'data-key="no_language">1<' in page
