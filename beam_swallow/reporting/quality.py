"""Quality before and after each rewrite: binned in the pipeline, shown in the report.

Every rewritten record carries ``quality[<stage>] = {"before": {...}, "after": {...}}``
(:mod:`beam_swallow.transforms.measured`). In the same pass that counts a
stage's kept records, :func:`quality_bins` adds, per measure, the bin of its
value before (kind ``quality_before:<measure>``) and after
(``quality_after:<measure>``) and how it moved (``quality_change:<measure>``:
``improved``/``same``/``worse``, or ``higher``/``same``/``lower`` for length and
comment ratio, which have no better direction). :func:`quality_examples` picks,
per stage and move of the headline measure (code: ``quality_score``, math:
``formula_share``), a few records to show (kind ``quality_examples``).

:func:`render_quality` is report.html's section: per stage, the share that
improved, stayed and got worse for each measure, the two distributions side
by side (as tables here, and as a figure drawn from :func:`distributions`),
and the examples. :func:`quality_lines` is what ``beam-swallow
inspect`` prints for one record.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from html import escape
from typing import Any

from beam_swallow.records import ID, TEXT, Record
from beam_swallow.stage import KEPT
from beam_swallow.transforms.measured import QUALITY
from beam_swallow.transforms.quality import DIRECTION, HEADLINE, change

__all__ = [
    "EXAMPLES",
    "distributions",
    "quality_bins",
    "quality_examples",
    "quality_lines",
    "render_quality",
]

EXAMPLES = "quality_examples"
# kind names hold no dot and no bin label does, so report.html's data-key paths split on dots
_BEFORE, _AFTER, _CHANGE = "quality_before:", "quality_after:", "quality_change:"
_EXAMPLE_CHARS = 400
# shares, binned by tens of percent; scores by whole points; chars in powers of two
_SHARES = frozenset({"comment_ratio", "formula_share"})
_MOVES = {1: ("improved", "same", "worse"), 0: ("higher", "same", "lower")}


def _bin(measure: str, value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if measure == "chars":
        low = 2 ** int(math.log2(value + 1))
        return f"{low}-{2 * low - 1}"
    if measure in _SHARES:
        return f"{min(90, math.floor(float(value) * 10) * 10)}%"
    return str(math.floor(float(value)))


def _entry(record: Record, stage: str) -> dict[str, Any] | None:
    entry = (record.get(QUALITY) or {}).get(stage)
    return entry if isinstance(entry, dict) else None


def quality_bins(
    record: Record, stage: str, exit_: str
) -> Iterator[tuple[tuple[str, str, str], int]]:
    """The ``((stage, kind, bin), 1)`` pairs of one kept record's measures at ``stage``."""
    entry = _entry(record, stage) if exit_ == KEPT else None
    if entry is None:
        return
    before, after = entry.get("before", {}), entry.get("after", {})
    for measure in sorted(set(before) | set(after)):
        old, new = before.get(measure), after.get(measure)
        if old is not None:
            yield (stage, _BEFORE + measure, _bin(measure, old)), 1
        if new is not None:
            yield (stage, _AFTER + measure, _bin(measure, new)), 1
        moved = change(measure, old, new)
        if moved is not None:
            yield (stage, _CHANGE + measure, moved), 1


def quality_examples(
    record: Record, stage: str
) -> Iterator[tuple[tuple[str, str], dict[str, Any]]]:
    """``((stage, "<headline>.<move>"), example)`` for a measured record, else nothing."""
    entry = _entry(record, stage)
    if entry is None:
        return
    before, after = entry.get("before", {}), entry.get("after", {})
    headline = next((m for m in HEADLINE.values() if m in after), None)
    moved = change(headline, before.get(headline), after.get(headline)) if headline else None
    if moved is None:
        return
    example = {
        "id": str(record.get(ID)),
        "before": before,
        "after": after,
        "text": str(record.get(TEXT, ""))[:_EXAMPLE_CHARS],
    }
    yield (stage, f"{headline}.{moved}"), example


def quality_lines(record: Record, stage: str) -> list[str]:
    """``measure: before -> after (move)`` for each measure a record has at ``stage``."""
    entry = _entry(record, stage)
    if entry is None:
        return []
    before, after = entry.get("before", {}), entry.get("after", {})
    lines = []
    for measure in sorted(set(before) | set(after)):
        old, new = before.get(measure), after.get(measure)
        moved = change(measure, old, new)
        lines.append(
            f"{measure}: {'-' if old is None else old} -> {'-' if new is None else new}"
            + (f" ({moved})" if moved else "")
        )
    return lines


def _sort_key(label: str) -> tuple[int, float | str]:
    try:
        return 0, float(label.split("-")[0].rstrip("%"))
    except ValueError:
        return 1, label


def _count(key: str, value: int | None) -> str:
    """A count cell; with its report.json path when the report holds it (0 where it does not)."""
    if not value:
        return "<td>0</td>"
    return f'<td data-key="{escape(key)}">{value:,}</td>'


def _moves_table(stage: str, stats: dict[str, Any]) -> str:
    rows = []
    for kind in sorted(k for k in stats if k.startswith(_CHANGE)):
        measure = kind[len(_CHANGE) :]
        counts = stats[kind]
        total = sum(counts.values()) or 1
        cells = "".join(
            _count(f"stats.{stage}.{kind}.{move}", counts.get(move))
            + f"<td>{100 * counts.get(move, 0) / total:.0f}%</td>"
            for move in _MOVES[DIRECTION.get(measure, 0)]
        )
        labels = "/".join(_MOVES[DIRECTION.get(measure, 0)])
        rows.append(
            f'<tr><td class="l">{escape(measure)}</td><td class="l">{labels}</td>{cells}</tr>'
        )
    return (
        '<table><tr><th class="l">measure</th><th class="l">moves</th>'
        '<th colspan="2">improved / higher</th><th colspan="2">same</th>'
        '<th colspan="2">worse / lower</th></tr>' + "".join(rows) + "</table>"
    )


def distributions(
    report: dict[str, Any],
) -> dict[str, dict[str, tuple[list[str], list[int], list[int]]]]:
    """``{stage: {measure: (bin labels, counts before, counts after)}}``, bins in order,
    for every stage whose rewrites were measured."""
    out: dict[str, dict[str, tuple[list[str], list[int], list[int]]]] = {}
    for stage, stats in report.get("stats", {}).items():
        measures = sorted(
            {k[len(_BEFORE) :] for k in stats if k.startswith(_BEFORE)}
            | {k[len(_AFTER) :] for k in stats if k.startswith(_AFTER)}
        )
        for measure in measures:
            before = stats.get(_BEFORE + measure, {})
            after = stats.get(_AFTER + measure, {})
            labels = sorted(set(before) | set(after), key=_sort_key)
            out.setdefault(stage, {})[measure] = (
                labels,
                [before.get(label, 0) for label in labels],
                [after.get(label, 0) for label in labels],
            )
    return out


def _distributions(stage: str, measures: dict[str, tuple[list[str], list[int], list[int]]]) -> str:
    parts = []
    for measure, (labels, before, after) in measures.items():
        rows = "".join(
            f'<tr><td class="l">{escape(label)}</td>'
            + _count(f"stats.{stage}.{_BEFORE}{measure}.{label}", old)
            + _count(f"stats.{stage}.{_AFTER}{measure}.{label}", new)
            + "</tr>"
            for label, old, new in zip(labels, before, after, strict=True)
        )
        parts.append(
            f'<table style="display:inline-table;vertical-align:top;margin-right:1em">'
            f'<tr><th class="l">{escape(measure)}</th><th>before</th><th>after</th></tr>'
            f"{rows}</table>"
        )
    return "".join(parts)


def _examples(stats: dict[str, Any]) -> str:
    parts = []
    for key, examples in sorted(stats.get(EXAMPLES, {}).items()):
        shown = "".join(
            f"<pre>{escape(json.dumps(example, ensure_ascii=False, indent=1))}</pre>"
            for example in examples
        )
        parts.append(f"<h4>{escape(key)}</h4>{shown}")
    return "".join(parts)


def render_quality(report: dict[str, Any]) -> str:
    """report.html's section on quality before and after, one part per rewriting stage."""
    parts = []
    measured = distributions(report)
    for stage, stats in report.get("stats", {}).items():
        if not any(kind.startswith(_CHANGE) for kind in stats):
            continue
        parts.append(
            f"<h3>{escape(stage)}</h3><p>How each measure moved, over the rewrites this "
            "stage kept:</p>"
            + _moves_table(stage, stats)
            + "<p>Distributions before and after, side by side:</p>"
            + _distributions(stage, measured.get(stage, {}))
            + "<p>Examples of each move of the headline measure:</p>"
            + _examples(stats)
        )
    return "".join(parts) or "<p>No rewrite was measured (no rewriting stage kept a record).</p>"
