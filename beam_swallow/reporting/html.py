"""``DIR/report.html``: one page, readable from disk, built from report.json alone.

Plain HTML and CSS, the figures as PNG files in ``DIR/report_files/`` beside it,
no script. Every count on the page carries ``data-key``, its path in
report.json (``stages.lint.kept``), so a test can check the page against the
file it was built from.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from apache_beam.io.filesystems import FileSystems

from beam_swallow.cache import CACHE_EVENTS
from beam_swallow.reporting.plots import draw_all
from beam_swallow.reporting.quality import render_quality

__all__ = ["FILES_DIR", "HTML_NAME", "render_html", "write_html"]

HTML_NAME = "report.html"
FILES_DIR = "report_files"

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { padding: 2px 10px; text-align: right; }
th { background: #eef; } td.l, th.l { text-align: left; } tr:nth-child(even) td { background: #f7f7fa; }
.bad { color: #b00; font-weight: bold; } .ok { color: #070; font-weight: bold; }
pre { background: #f4f4f4; padding: 6px; white-space: pre-wrap; font-size: 12px; margin: 2px 0; }
img { max-width: 100%; display: block; margin: .5em 0; }
"""

_FIGURE_TITLES = {
    "funnel_records": "Funnel in records",
    "funnel_tokens": "Funnel in tokens",
    "rejections": "Rejection reasons",
    "dead_letters": "Dead letters",
    "quality_score": "Quality scores",
    "sgcr_score": "SGCR scores",
    "lengths": "Text length before and after rewriting",
    "quality_before_after": "Quality before and after each rewrite",
    "cluster_sizes": "Near-duplicate clusters",
    "stage_times": "Time per stage",
}


def _n(value: Any, key: str) -> str:
    """A number with its report.json path, for the page and for the browser test."""
    if value is None:
        return "<td>-</td>"
    text = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    return f'<td data-key="{escape(key)}">{text}</td>'


def _counts(entry: dict[str, Any], key: str) -> str:
    """A stage's or a language's cells: input, kept, rejected, dead letters and tokens."""
    return (
        _n(entry["input"], f"{key}.input")
        + _n(entry["kept"], f"{key}.kept")
        + f"<td>{sum(entry['rejected'].values()):,}</td>"
        + _n(entry["dead_letter"], f"{key}.dead_letter")
        + _n(entry.get("input_tokens"), f"{key}.input_tokens")
        + _n(entry.get("kept_tokens"), f"{key}.kept_tokens")
    )


def _balanced(balanced: bool) -> str:
    return f'<td class="{"ok" if balanced else "bad"}">{"yes" if balanced else "NO"}</td>'


def _funnel(report: dict[str, Any]) -> str:
    timing = report.get("timing", {}).get("stages", {})
    rows = []
    for stage, e in report["stages"].items():
        k = f"stages.{stage}"
        t = timing.get(stage, {})
        rows.append(
            f'<tr><td class="l">{escape(stage)}</td>'
            + _counts(e, k)
            + (_n(t["seconds"], f"timing.stages.{stage}.seconds") if t else "<td>-</td>")
            + (f"<td>{t['records_per_s']:,.1f}</td>" if t.get("records_per_s") else "<td>-</td>")
            + _balanced(e["balanced"])
            + "</tr>"
        )
    return (
        '<table><tr><th class="l">stage</th><th>input</th><th>kept</th><th>rejected</th>'
        "<th>dead letters</th><th>input tokens</th><th>kept tokens</th><th>seconds</th>"
        "<th>records/s</th><th>balanced</th></tr>" + "".join(rows) + "</table>"
    )


def _languages(report: dict[str, Any]) -> str:
    """Per language: the records read as it, where they went, and their tokens."""
    languages = report.get("languages")
    if not languages:
        return "<p>This run did not route records by language.</p>"
    rows = []
    reasons = []
    for language, e in languages.items():
        k = f"languages.{language}"
        rows.append(
            f'<tr><td class="l">{escape(language)}</td>'
            + _counts(e, k)
            + _balanced(e["balanced"])
            + "</tr>"
        )
        reasons += [
            f'<tr><td class="l">{escape(language)}</td><td class="l">{escape(reason)}</td>'
            + _n(count, f"{k}.rejected.{reason}")
            + "</tr>"
            for reason, count in e["rejected"].items()
        ]
    table = (
        '<table><tr><th class="l">language</th><th>input</th><th>kept</th><th>rejected</th>'
        "<th>dead letters</th><th>input tokens</th><th>kept tokens</th><th>balanced</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    unrouted = (
        f"<p>Records with no language (lines that were no record, labels or extensions of no "
        f'known language): <span data-key="no_language">{report.get("no_language", 0):,}</span>.</p>'
    )
    by_reason = (
        '<table><tr><th class="l">language</th><th class="l">reason</th><th>records</th></tr>'
        + "".join(reasons)
        + "</table>"
        if reasons
        else ""
    )
    return table + unrouted + by_reason


def _reasons(report: dict[str, Any]) -> str:
    rows = [
        f'<tr><td class="l">{escape(stage)}</td><td class="l">{escape(reason)}</td>'
        + _n(count, f"stages.{stage}.rejected.{reason}")
        + "</tr>"
        for stage, e in report["stages"].items()
        for reason, count in sorted(e["rejected"].items())
    ]
    if not rows:
        return "<p>No record was rejected.</p>"
    return (
        '<table><tr><th class="l">stage</th><th class="l">reason</th><th>records</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def _dead_letters(report: dict[str, Any]) -> str:
    parts = []
    for stage, entry in report.get("stats", {}).items():
        for error_type, count in sorted(entry.get("error_type", {}).items()):
            examples = entry.get("examples", {}).get(error_type, [])
            shown = "".join(
                f"<pre>{escape(json.dumps(example, ensure_ascii=False, indent=1))}</pre>"
                for example in examples
            )
            parts.append(
                f"<h3>{escape(stage)}: {escape(error_type)} "
                f'(<span data-key="stats.{escape(stage)}.error_type.{escape(error_type)}">{count:,}</span>)</h3>'
                + shown
            )
    return "".join(parts) or "<p>No dead letters.</p>"


def _engines(report: dict[str, Any]) -> str:
    engines = report.get("timing", {}).get("engines", {})
    if not engines:
        return "<p>No LLM stage ran.</p>"
    rows = []
    for name, e in engines.items():
        rows.append(
            f'<tr><td class="l">{escape(name)}</td>'
            + _n(e.get("requests"), f"timing.engines.{name}.requests")
            + _n(e.get("prompt_tokens"), f"timing.engines.{name}.prompt_tokens")
            + _n(e.get("completion_tokens"), f"timing.engines.{name}.completion_tokens")
            + (f"<td>{e['request_seconds']:,.1f}</td>" if "request_seconds" in e else "<td>-</td>")
            + (f"<td>{e['tokens_per_s']:,.1f}</td>" if "tokens_per_s" in e else "<td>-</td>")
            + "</tr>"
        )
    return (
        '<table><tr><th class="l">engine</th><th>requests</th><th>prompt tokens</th>'
        "<th>completion tokens</th><th>request seconds</th><th>completion tokens/s</th></tr>"
        + "".join(rows)
        + "</table>"
        + _stage_engines(report)
    )


def _stage_engines(report: dict[str, Any]) -> str:
    """Each LLM stage's answers, output tokens/s and, with speculation, tokens per step."""
    stages = report.get("timing", {}).get("stages", {})
    rows = []
    for stage, t in stages.items():
        e = t.get("engine")
        if not e:
            continue
        k = f"timing.stages.{stage}.engine"
        rows.append(
            f'<tr><td class="l">{escape(stage)}</td>'
            + _n(e.get("answers"), f"{k}.answers")
            + _n(e.get("completion_tokens"), f"{k}.completion_tokens")
            + _n(e.get("output_tokens_per_s"), f"{k}.output_tokens_per_s")
            + _n(e.get("tokens_per_step"), f"{k}.tokens_per_step")
            + _n(e.get("acceptance_rate"), f"{k}.acceptance_rate")
            + "</tr>"
        )
    if not rows:
        return ""
    return (
        '<table><tr><th class="l">stage</th><th>answers</th><th>completion tokens</th>'
        "<th>output tokens/s</th><th>tokens per step</th><th>proposals accepted</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _cache(report: dict[str, Any]) -> str:
    rows = [
        f'<tr><td class="l">{escape(stage)}</td>'
        + "".join(_n(e["cache"][event], f"stages.{stage}.cache.{event}") for event in CACHE_EVENTS)
        + "</tr>"
        for stage, e in report["stages"].items()
        if "cache" in e
    ]
    if not rows:
        return "<p>No result cache (--cache_dir): every result was computed.</p>"
    return (
        '<table><tr><th class="l">stage</th>'
        + "".join(f"<th>{event}</th>" for event in CACHE_EVENTS)
        + "</tr>"
        + "".join(rows)
        + "</table>"
    )


def _pairs(title: str, values: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td class="l">{escape(str(k))}</td><td class="l">{escape(json.dumps(v, default=str))}</td></tr>'
        for k, v in values.items()
    )
    return f"<h3>{escape(title)}</h3><table>{rows}</table>" if rows else ""


def render_html(report: dict[str, Any], figures: dict[str, str], title: str) -> str:
    """The page for ``report``; ``figures`` maps figure names to their file names."""
    run = report.get("run", {})
    status = (
        '<span class="ok">balanced</span>'
        if report["balanced"]
        else '<span class="bad">NOT BALANCED</span>'
    )
    images = "".join(
        f"<h3>{escape(_FIGURE_TITLES[name])}</h3>"
        f'<img src="{FILES_DIR}/{escape(file_name)}" alt="{escape(_FIGURE_TITLES[name])}">'
        for name, file_name in figures.items()
    )
    tokenizer = report.get("tokenizer") or "none (install the embedded extra to count tokens)"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>beam-swallow report: {escape(title)}</title>
<style>{_STYLE}</style></head><body>
<h1>beam-swallow report: {escape(title)}</h1>
<p>Started {escape(str(run.get("started", "?")))}; stages {escape(", ".join(run.get("stages", [])))};
wall time <span>{report.get("timing", {}).get("wall_seconds", 0):,.1f}</span> s; counts {status}.</p>
<table><tr><th>input</th><th>kept</th><th>rejected</th><th>dead letters</th><th>input tokens</th><th>kept tokens</th></tr>
<tr>{_n(report["input"], "input")}{_n(report["kept"], "kept")}<td>{sum(report["rejected"].values()):,}</td>
{_n(report["dead_letter"], "dead_letter")}{_n(report.get("input_tokens"), "input_tokens")}{_n(report.get("kept_tokens"), "kept_tokens")}</tr></table>
<p>Tokens counted with {escape(tokenizer)}.</p>
<h2>Funnel</h2>{_funnel(report)}
<h2>Languages</h2>{_languages(report)}
<h2>Figures</h2>{images}
<h2>Quality before and after rewriting</h2>{render_quality(report)}
<h2>Rejection reasons</h2>{_reasons(report)}
<h2>Dead letters</h2>{_dead_letters(report)}
<h2>Engines</h2>{_engines(report)}
<h2>Result cache</h2>{_cache(report)}
<h2>Run parameters</h2>
{_pairs("versions", run.get("versions", {}))}{_pairs("prompt SHA-256", run.get("prompts", {}))}
{_pairs("flags given", run.get("flags", {}))}{_pairs("all settings", run.get("settings", {}))}
</body></html>
"""


def write_html(output_dir: str, report: dict[str, Any]) -> str:
    """Draw the figures and write ``DIR/report.html``; returns its path."""
    figures = draw_all(report, FileSystems.join(output_dir, FILES_DIR))
    path = FileSystems.join(output_dir, HTML_NAME)
    with FileSystems.create(path, mime_type="text/html") as handle:
        handle.write(render_html(report, figures, output_dir).encode("utf-8"))
    return path
