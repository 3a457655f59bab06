"""``beam-swallow report DIR``: rebuild report.json's counts and report.html from a run's outputs.

Counts and distributions come from ``DIR/_counts/``, which the run wrote; what
only the run itself knew (its parameters, timing, the tokenizer's name) is
carried over from the report.json it left, when there is one.
"""

from __future__ import annotations

import argparse
import json

from apache_beam.io.filesystems import FileSystems

from beam_swallow.report import REPORT_NAME, read_counts, write_report
from beam_swallow.reporting.html import write_html
from beam_swallow.reporting.stats import read_stats

__all__ = ["main", "rebuild"]

_CARRIED = ("run", "timing", "tokenizer")


def rebuild(output_dir: str) -> dict:
    """Rewrite ``DIR/report.json`` and ``DIR/report.html``; returns the report."""
    path = FileSystems.join(output_dir, REPORT_NAME)
    previous = {}
    if FileSystems.exists(path):
        with FileSystems.open(path) as handle:
            previous = json.loads(handle.read())
    rows = read_counts(output_dir)
    if not rows:
        raise FileNotFoundError(
            f"no counts under {output_dir}: not the output of a beam-swallow run"
        )
    stages = previous.get("run", {}).get("stages") or list(dict.fromkeys(row[0] for row in rows))
    extra = {key: previous[key] for key in _CARRIED if key in previous}
    extra["stats"] = read_stats(output_dir)
    report = write_report(output_dir, stages, extra=extra)
    write_html(output_dir, report)
    return report


def _parser() -> argparse.ArgumentParser:
    """The command's flags (also read by the docs' generated CLI reference)."""
    parser = argparse.ArgumentParser(
        prog="beam-swallow report",
        description="Rebuild DIR/report.json and DIR/report.html (with its figures) from a run's outputs.",
    )
    parser.add_argument("output", metavar="DIR", help="The run's --output directory.")
    return parser


def main(argv: list[str]) -> int:
    """``beam-swallow report DIR``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        report = rebuild(args.output)
    except FileNotFoundError as exc:
        print(f"beam-swallow report: error: {exc}")
        return 2
    print(FileSystems.join(args.output, "report.html"))
    return 0 if report["balanced"] else 1
