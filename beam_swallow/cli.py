"""The ``beam-swallow`` command: one subcommand per pipeline or tool.

Pipeline subcommands accept beam-swallow's flags (see ``--help``) and any Beam
pipeline option (``--runner``, ``--direct_running_mode``, ``--project``, ...),
which are passed to Beam untouched; a flag neither knows stops the command
(exit 2) with the nearest known names, and flags after a lone ``--`` go to Beam
unchecked, for options only a runner's own side reads. A bad flag value, and an
external tool the run's languages need that is not installed (``ToolMissing``),
stop the command before anything is read (exit 2, one line). A job the breaker
stopped (:mod:`beam_swallow.transforms.breaker`) exits 3 with its one-line error; a
remote job that failed exits 1 with the runner's last error; a run whose job did not
end here (a Dataflow template or dry run, a job not waited for) prints what was
written or where the job runs, exits 0, and has no report
(:mod:`beam_swallow.reporting.session`). ``main(argv) -> int`` is what tests call.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.languages.tools import ToolMissing
from beam_swallow.options import SwallowOptions
from beam_swallow.report import REPORT_NAME
from beam_swallow.reporting.html import HTML_NAME
from beam_swallow.reporting.session import JobFailed, Launched
from beam_swallow.streaming import REPORTS_DIR
from beam_swallow.transforms.breaker import tripped_message

__all__ = ["main", "PIPELINES", "TOOLS"]

PipelineRun = Callable[[PipelineOptions], dict[str, Any] | Launched]
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
    "code": (
        "SwallowCode: syntax, lint, dedup and LLM rewriting of Python files (v1); "
        "format, score, rewrite and reformat of code in 16 languages (--recipe v2).",
        _run_code,
    ),
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
    "--runner=DataflowRunner --project=... --region=... --temp_location=gs://... "
    "--sdk_container_image=IMAGE (docs, Runners: Dataflow), and "
    "--streaming (with --input_subscription or --input_topic: docs, Streaming; with "
    "--input_kafka_topic on Flink: docs, Streaming from Kafka). "
    "A flag neither beam-swallow nor Beam knows is an error; flags after a lone -- "
    "are passed to the runner unchecked (for options only a runner's own side reads)"
)
_PASS_THROUGH = "--"
_NEAREST = 3


def _summary(report: dict[str, Any], output: str) -> str:
    rejected = sum(report["rejected"].values())
    lines = [
        f"input {report['input']}: kept {report['kept']}, rejected {rejected}, "
        f"dead letters {report['dead_letter']} "
        f"({'balanced' if report['balanced'] else 'NOT BALANCED'})"
        + (f", {report['replayed']} replayed from dead letters" if "replayed" in report else ""),
    ]
    for stage, entry in report["stages"].items():
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(entry["rejected"].items())) or "-"
        lines.append(
            f"  {stage:<14} in {entry['input']:>7}  kept {entry['kept']:>7}  "
            f"dead {entry['dead_letter']:>5}  rejected: {reasons}"
        )
    if report.get("languages"):
        lines.append(f"languages ({report.get('no_language', 0)} records with none):")
    for language, entry in report.get("languages", {}).items():
        reasons = ", ".join(f"{k} {v}" for k, v in entry["rejected"].items()) or "-"
        lines.append(
            f"  {language:<14} in {entry['input']:>7}  kept {entry['kept']:>7}  "
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


def _beam_parser(argv: list[str]) -> argparse.ArgumentParser:
    """The parser Beam builds from every options class it knows (ours included)."""
    found: list[argparse.ArgumentParser] = []
    PipelineOptions(argv).get_all_options(add_extra_args_fn=found.append)
    return found[0]


def unknown_flags(argv: list[str]) -> list[str]:
    """One line per flag in ``argv`` that no options class knows, with the nearest known names.

    Beam keeps flags it does not know for runners that may read them, and drops
    them on the local runner: a misspelt ``--min_qualty 9`` would run with the
    default threshold and say nothing. A value after an unknown flag is its value,
    not a second problem; a bare word elsewhere is reported as unexpected.
    """
    parser = _beam_parser(argv)
    _, unknown = parser.parse_known_args(argv)
    known = [name for name in parser._option_string_actions if name.startswith("--")]
    problems = []
    after_flag = False
    for arg in unknown:
        if not arg.startswith("-") or arg == "-":
            if not after_flag:
                problems.append(f"unexpected argument {arg!r}")
            after_flag = False
            continue
        name = arg.split("=", 1)[0]
        nearest = difflib.get_close_matches(name, known, n=_NEAREST)
        hint = f" (did you mean {' or '.join(nearest)}?)" if nearest else ""
        problems.append(f"unknown flag {name}{hint}")
        after_flag = "=" not in arg
    return problems


def _split_pass_through(argv: list[str]) -> tuple[list[str], list[str]]:
    """``argv`` before a lone ``--`` (checked) and after it (passed to the runner as it is)."""
    if _PASS_THROUGH not in argv:
        return argv, []
    cut = argv.index(_PASS_THROUGH)
    return argv[:cut], argv[cut + 1 :]


def _pipeline_main(name: str, run: PipelineRun, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog=f"beam-swallow {name}", description=PIPELINES[name][0], epilog=_BEAM_OPTIONS_NOTE
    )
    SwallowOptions._add_argparse_args(parser)
    checked, passed = _split_pass_through(argv)
    parser.parse_known_args(checked)  # --help, and type errors in our flags, stop here
    problems = unknown_flags(checked)
    if problems:
        print(f"beam-swallow {name}: error: {'; '.join(problems)}", file=sys.stderr)
        return 2
    options = _pipeline_options(checked + passed)
    opts = options.view_as(SwallowOptions)
    try:
        report = run(options)
    except (ValueError, ToolMissing) as exc:  # bad flags, missing tools: before anything runs
        print(f"beam-swallow {name}: error: {exc}", file=sys.stderr)
        return 2
    except JobFailed as exc:
        message = tripped_message(exc)
        print(f"beam-swallow {name}: error: {message or exc}", file=sys.stderr)
        return 1 if message is None else 3
    except Exception as exc:  # the breaker's error arrives as the runner words a worker's
        message = tripped_message(exc)
        if message is None:
            raise
        print(f"beam-swallow {name}: error: {message}", file=sys.stderr)
        return 3
    if isinstance(report, Launched):
        print("\n".join(report.lines))
        return 0
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
