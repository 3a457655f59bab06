"""Running a pipeline so a person can follow it, and reporting when it ends.

:func:`run_watched` runs the job: on the local runner with live per-stage
progress when stdout is a terminal (and ``--quiet`` is not given); on a remote
runner it prints the job's id and where to watch it, then waits for the job to
end: Beam's ``--no_wait_until_finish`` does not wait, and
``--wait_until_finish_duration MS`` waits at most that long. A run whose job
does not end here returns :class:`Launched` (what to print) instead of the
runner's result, and has no report to build: Beam's DataflowRunner writing a
classic template (``--template_location``, which is how Dataflow's flex-template
launcher is understood to take the job back; never seen here) or only building
the job (``--dry_run``), or
a job still running when the wait ends. A remote job that ends in any state
but done raises :class:`JobFailed` with the runner's last error.
:func:`finish_report` writes report.json (counts, tokens, stats, timing, run
parameters) and report.html with its figures.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (
    CrossLanguageOptions,
    DebugOptions,
    GoogleCloudOptions,
    PipelineOptions,
    PortableOptions,
    StandardOptions,
    TestOptions,
)
from apache_beam.runners.runner import PipelineResult, PipelineState
from apache_beam.utils import subprocess_server

from beam_swallow.options import SwallowOptions
from beam_swallow.report import build_report, read_counts, write_report
from beam_swallow.reporting.html import write_html
from beam_swallow.reporting.live import LiveMetrics
from beam_swallow.reporting.params import run_parameters
from beam_swallow.reporting.progress import StageProgress, expected_records
from beam_swallow.reporting.stats import read_stats
from beam_swallow.reporting.timing import run_timing
from beam_swallow.streaming import REPORTS_DIR

__all__ = [
    "JobFailed",
    "Launched",
    "build_job",
    "builds_only",
    "finish_report",
    "is_dataflow",
    "run_watched",
    "show_progress",
    "where_to_watch",
]

_CONSOLE = "https://console.cloud.google.com/dataflow/jobs"


@dataclass(frozen=True)
class Launched:
    """A run whose job did not end here, so no report: ``lines`` say what was written
    where (a template, a job file), what was built (a dry run), or where the job runs
    and how to build its report once it is done."""

    lines: tuple[str, ...]


class JobFailed(RuntimeError):
    """A remote job that ended failed, cancelled or drained; the message holds the
    runner's last error (the breaker's message, when it stopped the job)."""


def is_dataflow(options: PipelineOptions) -> bool:
    """Whether the options name Beam's DataflowRunner."""
    return "dataflow" in str(options.view_as(StandardOptions).runner or "").lower()


def builds_only(options: PipelineOptions) -> bool:
    """Whether the runner only builds the job here: DataflowRunner writing a classic
    template (``--template_location``) or a dry run (``--dry_run``, any value, as
    Beam reads it). Nothing runs now, so a run's outputs are left as they are."""
    if not is_dataflow(options):
        return False
    template = options.view_as(GoogleCloudOptions).template_location
    return bool(template or options.view_as(TestOptions).dry_run)


def show_progress(options: PipelineOptions, local: bool) -> bool:
    """Live progress: local runs on a terminal, unless ``--quiet``."""
    return local and not options.view_as(SwallowOptions).quiet and sys.stdout.isatty()


def where_to_watch(options: PipelineOptions, result: PipelineResult) -> str:
    """A remote job's id and where its own UI shows it (on Dataflow, also the
    ``gcloud`` commands that show its state and cancel it: two lines)."""
    runner = str(options.view_as(StandardOptions).runner)
    job_id = getattr(result, "job_id", None)
    job_id = job_id() if callable(job_id) else getattr(result, "_job_id", "?")
    if is_dataflow(options):
        gcp = options.view_as(GoogleCloudOptions)
        where = f"--region={gcp.region} --project={gcp.project}"
        return (
            f"Dataflow job {job_id}: {_CONSOLE}/{gcp.region}/{job_id}?project={gcp.project}\n"
            f"follow it: gcloud dataflow jobs show {job_id} {where} "
            f"(stop it: gcloud dataflow jobs cancel {job_id} {where})"
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


def _report_later(options: PipelineOptions) -> str:
    """Where the report of a job that goes on without the launcher comes from."""
    output = options.view_as(SwallowOptions).output
    if options.view_as(StandardOptions).streaming:
        return f"each window writes its report under {FileSystems.join(output, REPORTS_DIR)}/"
    return f"once it is done, `beam-swallow report {output}` builds the report from its outputs"


def _built_here(options: PipelineOptions, result: PipelineResult) -> Launched:
    """The one line of a Dataflow run that built its job and ran nothing."""
    gcp = options.view_as(GoogleCloudOptions)
    if options.view_as(TestOptions).dry_run:
        job = getattr(result, "job", None)  # Beam's dry run hands back the job it built
        what = (
            f"job {job.proto.name} of {len(job.proto_pipeline.components.transforms)} transforms"
            if job is not None
            else "job"
        )
        return Launched(
            (
                f"dry run: Dataflow {what} for project {gcp.project} in {gcp.region} built; "
                "nothing was staged or submitted",
            )
        )
    return Launched(
        (
            f"Dataflow template written to {gcp.template_location}; start a job from it with "
            f"`gcloud dataflow jobs run JOB_NAME --gcs-location={gcp.template_location} "
            f"--region={gcp.region} --project={gcp.project}`; " + _report_later(options),
        )
    )


def build_job(pipeline: beam.Pipeline, options: PipelineOptions) -> Launched:
    """Have the runner build a job that :func:`builds_only` says runs nowhere now."""
    with _run_context(options):
        return _built_here(options, pipeline.run())


def _failed_dataflow_job(result: PipelineResult, error: Exception) -> JobFailed:
    """JobFailed for Beam's DataflowRuntimeException: its state and the job's last error."""
    detail = str(error).split("Error:\n", 1)[-1].strip() or "no error message"
    return JobFailed(f"Dataflow job {result.job_id()} ended {result.state}: {detail}")


def _wait(result: PipelineResult, options: PipelineOptions) -> PipelineResult | Launched:
    """Wait for a remote job as Beam's flags say; the result if it ended done."""
    if getattr(options.view_as(StandardOptions), "no_wait_until_finish", False):
        return Launched(
            (f"not waiting for the job (--no_wait_until_finish); {_report_later(options)}",)
        )
    duration = options.view_as(TestOptions).wait_until_finish_duration
    if is_dataflow(options):
        from apache_beam.runners.dataflow.dataflow_runner import DataflowRuntimeException

        try:
            result.wait_until_finish(duration)
        except DataflowRuntimeException as exc:
            raise _failed_dataflow_job(result, exc) from None
    else:
        result.wait_until_finish(duration)
    state = result.state
    if state == PipelineState.DONE:
        return result
    if not PipelineState.is_terminal(state):
        waited = f"{duration / 1000:g} s (--wait_until_finish_duration)" if duration else "a wait"
        return Launched((f"the job is still {state} after {waited}; {_report_later(options)}",))
    raise JobFailed(f"the job ended {state}")


def run_watched(
    pipeline: beam.Pipeline,
    options: PipelineOptions,
    stages: list[str],
    live: LiveMetrics | None,
    input_pattern: str,
) -> PipelineResult | Launched:
    """Run ``pipeline`` to the end, showing progress or the remote job's id.

    Returns the runner's result once the job is done, or :class:`Launched` when it
    did not end here (see the module doc); raises :class:`JobFailed` for a remote
    job that ended in another state.
    """
    with _run_context(options):
        if live is not None:
            with StageProgress(live, stages, expected_records(input_pattern)):
                result = pipeline.run()
                result.wait_until_finish()
            return result
        result = pipeline.run()
        if options.view_as(StandardOptions).runner is None:  # the local runner
            result.wait_until_finish()
            return result
        if builds_only(options):
            return _built_here(options, result)
        job_file = options.view_as(DebugOptions).dataflow_job_file
        if job_file and is_dataflow(options):
            print(f"Dataflow job file written to {job_file}", flush=True)
        print(where_to_watch(options, result), flush=True)
        return _wait(result, options)


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
