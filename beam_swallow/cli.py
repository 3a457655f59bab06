"""The ``beam-swallow`` command: one subcommand per pipeline or tool.

Pipeline subcommands accept beam-swallow's flags (see ``--help``) and any Beam
pipeline option (``--runner``, ``--direct_running_mode``, ``--project``, ...),
which are passed to Beam untouched. ``main(argv) -> int`` is what tests call.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.options import SwallowOptions
from beam_swallow.report import REPORT_NAME
from beam_swallow.reporting.html import HTML_NAME
from beam_swallow.streaming import REPORTS_DIR

__all__ = ["main", "PIPELINES", "TOOLS"]

PipelineRun = Callable[[PipelineOptions], dict[str, Any]]
ToolMain = Callable[[list[str]], int]


def _run_code(options: PipelineOptions) -> dict[str, Any]:
    from beam_swallow.pipelines.code import run_code

    return run_code(options)


def _run_math(options: PipelineOptions) -> dict[str, Any]:
    from beam_swallow.pipelines.math import run_math

    return run_math(options)


def _run_dedup(options: PipelineOptions) -> dict[str, Any]:
    from beam_swallow.pipelines.dedup import run_dedup

    return run_dedup(options)


PIPELINES: dict[str, tuple[str, PipelineRun]] = {
    "code": ("SwallowCode: syntax, lint, dedup and LLM rewriting of Python files.", _run_code),
    "math": ("SwallowMath: LLM rewriting of scraped math web pages.", _run_math),
    "dedup": ("Exact and near-duplicate removal and benchmark decontamination only.", _run_dedup),
}


def _lint_score(argv: list[str]) -> int:
    from beam_swallow.lint_score import main as lint_score_main

    return lint_score_main(argv)


def _report(argv: list[str]) -> int:
    from beam_swallow.reporting.rebuild import main as report_main

    return report_main(argv)


def _inspect(argv: list[str]) -> int:
    from beam_swallow.reporting.journey import main as inspect_main

    return inspect_main(argv)


def _plan(argv: list[str]) -> int:
    from beam_swallow.reporting.plan import main as plan_main

    return plan_main(argv)


# Subcommands that are not pipelines: name -> (help, main(argv) -> exit status).
TOOLS: dict[str, tuple[str, ToolMain]] = {
    "lint-score": (
        "Score Python files with the lint stage's engine; one JSON object per file.",
        _lint_score,
    ),
    "report": ("Rebuild DIR/report.json and DIR/report.html from a run's outputs.", _report),
    "inspect": ("One record's journey through a run: stages, scores, exit, diffs.", _inspect),
    "plan": ("Core-hours, GPU-hours, dedup shuffle and cost of a run, before it runs.", _plan),
}

_BEAM_OPTIONS_NOTE = (
    "Any Beam pipeline option is also accepted and passed to Beam, e.g. --runner "
    "(default: the local FnApiRunner), --direct_running_mode=multi_processing "
    "--direct_num_workers=N, --runner=PortableRunner --job_endpoint=HOST:PORT, "
    "--runner=DataflowRunner --project=... --region=... --temp_location=gs://..., and "
    "--streaming (with --input_subscription or --input_topic: README, Streaming; with "
    "--input_kafka_topic on Flink: README, Streaming from Kafka)"
)


def _summary(report: dict[str, Any], output: str) -> str:
    rejected = sum(report["rejected"].values())
    lines = [
        f"input {report['input']}: kept {report['kept']}, rejected {rejected}, "
        f"dead letters {report['dead_letter']} "
        f"({'balanced' if report['balanced'] else 'NOT BALANCED'})",
    ]
    for stage, entry in report["stages"].items():
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(entry["rejected"].items())) or "-"
        lines.append(
            f"  {stage:<14} in {entry['input']:>7}  kept {entry['kept']:>7}  "
            f"dead {entry['dead_letter']:>5}  rejected: {reasons}"
        )
    lines.append(f"outputs: {FileSystems.join(output, '{kept,rejected,dead_letter}')}/")
    if "windows" in report:  # a streaming run: one report per window, and their sum
        lines.append(
            f"reports: {report['windows']} windows in {FileSystems.join(output, REPORTS_DIR)}/, "
            f"their sum in {FileSystems.join(output, REPORT_NAME)}"
        )
    else:
        lines.append(
            f"report:  {FileSystems.join(output, REPORT_NAME)}, {FileSystems.join(output, HTML_NAME)}"
        )
    return "\n".join(lines)


def _pipeline_options(argv: list[str]) -> PipelineOptions:
    """Beam's options for ``argv``, each option's value pinned to an exact-name parse.

    Beam releases before prefix matching was turned off (2.62, the Flink tests' SDK, among
    them) parse each options view with only that view's flags, where argparse takes a
    prefix for the whole name: there ``--output DIR`` also set FlinkRunner's
    ``--output_executable_path``, and the job was written to DIR as a jar instead of
    running. The parse over every options class at once matches names exactly.
    """
    return PipelineOptions(argv, **PipelineOptions(argv).get_all_options())


def _pipeline_main(name: str, run: PipelineRun, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"beam-swallow {name}", description=PIPELINES[name][0], epilog=_BEAM_OPTIONS_NOTE
    )
    SwallowOptions._add_argparse_args(parser)
    parser.parse_known_args(argv)  # --help, and type errors in our flags, stop here
    options = _pipeline_options(argv)
    opts = options.view_as(SwallowOptions)
    try:
        report = run(options)
    except ValueError as exc:  # bad flag values: configs are built before anything runs
        print(f"beam-swallow {name}: error: {exc}", file=sys.stderr)
        return 2
    print(_summary(report, opts.output))
    return 0 if report["balanced"] else 1


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beam-swallow",
        description="Transform-and-retain pre-training data (SwallowCode / SwallowMath) on Apache Beam.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, _) in {**PIPELINES, **TOOLS}.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _drop_beam_memory_warning(record: logging.LogRecord) -> bool:
    """False for the warning Beam 2.77's RunInference logs on every batch without torch.

    Its memory probe imports ``resource`` together with a model manager that needs torch;
    without torch (the embedded and openai engines need none) it warns, once per batch,
    that memory usage cannot be fetched. Nothing is wrong with the run.
    """
    return not record.getMessage().startswith("Resource module is not available")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().addFilter(_drop_beam_memory_warning)
    parser = _top_parser()
    if not argv or (argv[0] not in PIPELINES and argv[0] not in TOOLS):
        args = parser.parse_args(argv[:1])  # prints help, or exits 2 on an unknown command
        if args.command is None:
            parser.print_help()
            return 2
    name, rest = argv[0], argv[1:]
    if name in TOOLS:
        return TOOLS[name][1](rest)
    return _pipeline_main(name, PIPELINES[name][1], rest)


def _console() -> None:
    sys.exit(main())


if __name__ == "__main__":
    _console()
