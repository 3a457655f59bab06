"""The report's figures, drawn with matplotlib from report.json's contents.

Each function takes the report dict and returns one figure, or None when the
run has no data for it, so the page shows only figures that say something.
:func:`draw_all` writes them as PNGs through Beam's FileSystems (local or gs://).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from apache_beam.io.filesystems import FileSystems  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from beam_swallow.reporting.quality import distributions  # noqa: E402

__all__ = ["FIGURES", "draw_all"]

Report = dict[str, Any]
_WIDTH = 8.0


def _done(fig: Figure, counts: str) -> Figure:
    """Finish a figure whose ``counts`` axis ("x" or "y") counts things: whole-number ticks."""
    for ax in fig.axes:
        (ax.xaxis if counts == "x" else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def funnel_records(report: Report) -> Figure | None:
    stages = report["stages"]
    names = list(stages)
    fig, ax = plt.subplots(figsize=(_WIDTH, 0.45 * len(names) + 1.2))
    ax.barh(names, [stages[s]["input"] for s in names], color="#d0d7e5", label="input")
    ax.barh(names, [stages[s]["kept"] for s in names], color="#3b6fb6", label="kept")
    ax.invert_yaxis()
    ax.set_xlabel("records")
    ax.legend(loc="lower right")
    ax.set_title("Records into and out of each stage")
    return _done(fig, "x")


def funnel_tokens(report: Report) -> Figure | None:
    stages = report["stages"]
    names = [s for s in stages if "kept_tokens" in stages[s]]
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(_WIDTH, 0.45 * len(names) + 1.2))
    ax.barh(names, [stages[s]["input_tokens"] for s in names], color="#e5d9c9", label="input")
    ax.barh(names, [stages[s]["kept_tokens"] for s in names], color="#b67a3b", label="kept")
    ax.invert_yaxis()
    ax.set_xlabel(f"tokens ({report.get('tokenizer', '')})")
    ax.legend(loc="lower right")
    ax.set_title("Tokens into and out of each stage")
    return _done(fig, "x")


def rejections(report: Report) -> Figure | None:
    stages = {s: e["rejected"] for s, e in report["stages"].items() if e["rejected"]}
    if not stages:
        return None
    reasons = sorted({r for per in stages.values() for r in per})
    fig, ax = plt.subplots(figsize=(_WIDTH, 0.45 * len(stages) + 1.6))
    left = [0] * len(stages)
    cmap = plt.get_cmap("tab20")
    for i, reason in enumerate(reasons):
        values = [per.get(reason, 0) for per in stages.values()]
        ax.barh(list(stages), values, left=left, label=reason, color=cmap(i % 20))
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("records rejected")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Rejection reasons per stage")
    return _done(fig, "x")


def _histogram(
    report: Report, stage: str, kind: str, width: float, title: str, line: float | None
) -> Figure | None:
    bins = report.get("stats", {}).get(stage, {}).get(kind)
    if not bins:
        return None
    edges = sorted((float(k), v) for k, v in bins.items())
    fig, ax = plt.subplots(figsize=(_WIDTH, 3.2))
    ax.bar([e for e, _ in edges], [v for _, v in edges], width=width, align="edge", color="#3b6fb6")
    if line is not None:
        ax.axvline(line, color="#c0392b", linestyle="--", label=f"keep >= {line:g}")
        ax.legend()
    ax.set_xlabel(kind)
    ax.set_ylabel("records")
    ax.set_title(title)
    return _done(fig, "y")


def quality_scores(report: Report) -> Figure | None:
    threshold = report.get("run", {}).get("settings", {}).get("min_quality", 7.0)
    return _histogram(
        report, "lint", "quality_score", 0.25, "Quality score (lint), every scored file", threshold
    )


def sgcr_scores(report: Report) -> Figure | None:
    return _histogram(report, "sgcr", "sgcr_score", 0.5, "SGCR score (-1: no score parsed)", None)


def lengths(report: Report) -> Figure | None:
    stats = report.get("stats", {})
    names = [s for s in report["stages"] if stats.get(s, {}).get("chars")]
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(_WIDTH, 3.6))
    for stage in names:
        bins = sorted((int(k), v) for k, v in stats[stage]["chars"].items())
        ax.plot([2**k for k, _ in bins], [v for _, v in bins], "o-", label=stage, alpha=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("characters of text kept by the stage (power-of-two bins)")
    ax.set_ylabel("records")
    ax.legend(fontsize=8)
    ax.set_title("Text length after each stage (a rewrite's 'before' is the stage above it)")
    return _done(fig, "y")


def quality_before_after(report: Report) -> Figure | None:
    """One row per rewriting stage, one panel per measure: counts before and after, side by side."""
    measured = distributions(report)
    if not measured:
        return None
    columns = max(len(measures) for measures in measured.values())
    fig, axes = plt.subplots(
        len(measured), columns, figsize=(_WIDTH * 1.4, 2.6 * len(measured)), squeeze=False
    )
    for row, (stage, measures) in enumerate(measured.items()):
        for col in range(columns):
            ax = axes[row][col]
            if col >= len(measures):
                ax.axis("off")
                continue
            measure, (labels, before, after) = list(measures.items())[col]
            spots = range(len(labels))
            ax.bar([x - 0.2 for x in spots], before, width=0.4, color="#d0d7e5", label="before")
            ax.bar([x + 0.2 for x in spots], after, width=0.4, color="#3b6fb6", label="after")
            ax.set_xticks(list(spots), labels, rotation=45, fontsize=7)
            ax.set_title(f"{stage}: {measure}", fontsize=9)
            if col == 0:
                ax.legend(fontsize=7)
    return _done(fig, "y")


def cluster_sizes(report: Report) -> Figure | None:
    bins = report.get("stats", {}).get("near_dedup", {}).get("cluster_size")
    if not bins:
        return None
    sizes = sorted((int(k), v) for k, v in bins.items())
    fig, ax = plt.subplots(figsize=(_WIDTH, 3.2))
    ax.bar([str(k) for k, _ in sizes], [v for _, v in sizes], color="#3b6fb6")
    ax.set_xlabel("cluster size (kept record + its near-duplicates)")
    ax.set_ylabel("clusters")
    ax.set_title("Near-duplicate cluster sizes")
    return _done(fig, "y")


def stage_times(report: Report) -> Figure | None:
    timing = report.get("timing", {}).get("stages", {})
    names = [s for s in report["stages"] if s in timing]
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(_WIDTH, 0.45 * len(names) + 1.2))
    seconds = [timing[s]["seconds"] for s in names]
    ax.barh(names, seconds, color="#5a8f4e")
    for y, stage in enumerate(names):
        rate = timing[stage]["records_per_s"]
        label = f" {rate:,.1f} rec/s" if rate else ""
        ax.text(seconds[y], y, label, va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("seconds in the stage's transforms (Beam execution time)")
    ax.set_xlim(0, max(seconds) * 1.3 or 1)
    ax.set_title("Time per stage")
    fig.tight_layout()
    return fig


def dead_letters(report: Report) -> Figure | None:
    counts = {
        f"{stage}: {kind}": n
        for stage, entry in report.get("stats", {}).items()
        for kind, n in entry.get("error_type", {}).items()
    }
    if not counts:
        return None
    fig, ax = plt.subplots(figsize=(_WIDTH, 0.4 * len(counts) + 1.2))
    ax.barh(list(counts), list(counts.values()), color="#8e44ad")
    ax.invert_yaxis()
    ax.set_xlabel("dead letters")
    ax.set_xlim(0, max(counts.values()) * 1.1 or 1)
    ax.set_title("Dead letters by stage and error type")
    return _done(fig, "x")


FIGURES: dict[str, Callable[[Report], Figure | None]] = {
    "funnel_records": funnel_records,
    "funnel_tokens": funnel_tokens,
    "rejections": rejections,
    "dead_letters": dead_letters,
    "quality_score": quality_scores,
    "sgcr_score": sgcr_scores,
    "lengths": lengths,
    "quality_before_after": quality_before_after,
    "cluster_sizes": cluster_sizes,
    "stage_times": stage_times,
}


def draw_all(report: Report, directory: str) -> dict[str, str]:
    """Write every figure the report has data for under ``directory``; name -> file name."""
    drawn = {}
    for name, draw in FIGURES.items():
        fig = draw(report)
        if fig is None:
            continue
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90)
        plt.close(fig)
        file_name = f"{name}.png"
        with FileSystems.create(
            FileSystems.join(directory, file_name), mime_type="image/png"
        ) as out:
            out.write(buffer.getvalue())
        drawn[name] = file_name
    return drawn
