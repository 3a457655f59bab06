"""Running a pipeline so a person can follow it, and reporting when it ends.

:func:`run_watched` runs the job: on the local runner with live per-stage
progress when stdout is a terminal (and ``--quiet`` is not given); on a remote
runner it prints the job's id and where to watch it, then waits.
:func:`finish_report` writes report.json (counts, tokens, stats, timing, run
parameters) and report.html with its figures.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    CrossLanguageOptions,
    GoogleCloudOptions,
    PipelineOptions,
    PortableOptions,
    StandardOptions,
)
from apache_beam.runners.runner import PipelineResult
from apache_beam.utils import subprocess_server

from beam_swallow.options import SwallowOptions
from beam_swallow.report import build_report, read_counts, write_report
from beam_swallow.reporting.html import write_html
from beam_swallow.reporting.live import LiveMetrics
from beam_swallow.reporting.params import run_parameters
from beam_swallow.reporting.progress import StageProgress, expected_records
from beam_swallow.reporting.stats import read_stats
from beam_swallow.reporting.timing import run_timing

__all__ = ["finish_report", "run_watched", "show_progress", "where_to_watch"]


def show_progress(options: PipelineOptions, local: bool) -> bool:
    """Live progress: local runs on a terminal, unless ``--quiet``."""
    return local and not options.view_as(SwallowOptions).quiet and sys.stdout.isatty()


def where_to_watch(options: PipelineOptions, result: PipelineResult) -> str:
    """One line naming a remote job and where its own UI shows it."""
    runner = str(options.view_as(StandardOptions).runner)
    job_id = getattr(result, "job_id", None)
    job_id = job_id() if callable(job_id) else getattr(result, "_job_id", "?")
    if "dataflow" in runner.lower():
        gcp = options.view_as(GoogleCloudOptions)
        return (
            f"Dataflow job {job_id}: https://console.cloud.google.com/dataflow/jobs/"
            f"{gcp.region}/{job_id}?project={gcp.project}"
        )
    master = options.get_all_options().get("flink_master")
    if master:
        return f"{runner} job {job_id}: Flink's web UI at http://{master}"
    endpoint = options.view_as(PortableOptions).job_endpoint
    return f"{runner} job {job_id} on the job service at {endpoint}"


@contextlib.contextmanager
def _run_context(options: PipelineOptions) -> Iterator[None]:
    """What ``with Pipeline(...)`` sets up around a run, for a run started by hand:
    Beam's service replacements, and job-server or expansion-service subprocesses
    kept alive until the job is done."""
    with (
        subprocess_server.JavaJarServer.beam_services(
            options.view_as(CrossLanguageOptions).beam_services
        ),
        subprocess_server.SubprocessServer.cache_subprocesses(),
    ):
        yield


def run_watched(
    pipeline: beam.Pipeline,
    options: PipelineOptions,
    stages: list[str],
    live: LiveMetrics | None,
    input_pattern: str,
) -> PipelineResult:
    """Run ``pipeline`` to the end, showing progress or the remote job's id."""
    with _run_context(options):
        if live is not None:
            with StageProgress(live, stages, expected_records(input_pattern)):
                result = pipeline.run()
                result.wait_until_finish()
            return result
        result = pipeline.run()
        if options.view_as(StandardOptions).runner is not None:
            print(where_to_watch(options, result), flush=True)
        result.wait_until_finish()
    return result


def finish_report(
    output: str,
    stages: list[str],
    stage_labels: dict[str, str],
    options: PipelineOptions,
    result: PipelineResult,
    started: float,
    tokenizer: str | None,
    input_pattern: str,
) -> dict[str, Any]:
    """Write report.json and report.html for a finished run; returns the report."""
    wall = time.monotonic() - started
    counts = build_report(read_counts(output), stages)  # timing needs each stage's input
    records_in = {stage: entry["input"] for stage, entry in counts["stages"].items()}
    timing = run_timing(result, stage_labels, records_in)
    timing["wall_seconds"] = wall
    report = write_report(
        output,
        stages,
        extra={
            "tokenizer": tokenizer,
            "timing": timing,
            "stats": read_stats(output),
            "run": run_parameters(options, stages, input_pattern),
        },
    )
    write_html(output, report)
    return report
