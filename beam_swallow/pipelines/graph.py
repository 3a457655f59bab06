"""What batch and streaming runs share: the runner a pipeline gets, and the stage chain."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.io import READ_STAGE, ReadResult
from beam_swallow.reporting.live import LiveFnApiRunner, LiveMetrics
from beam_swallow.stage import StageResult

__all__ = ["apply_stages", "is_local", "make_pipeline"]

_LOCAL_RUNNER_NAMES = {None, "local", "fnapirunner"}


def is_local(options: PipelineOptions) -> bool:
    """Whether the options name no runner, or the local FnApiRunner."""
    runner = options.view_as(StandardOptions).runner
    return runner is None or str(runner).lower() in _LOCAL_RUNNER_NAMES


def make_pipeline(options: PipelineOptions, live: LiveMetrics | None = None) -> beam.Pipeline:
    """A Pipeline on the runner the options name, or a local one.

    Locally, a batch run gets the FnApiRunner: Beam's DirectRunner (the default
    when no runner is named) first tries to fetch a Prism binary; the
    FnApiRunner runs in-process and downloads nothing. It honours
    ``--direct_running_mode`` (in_memory, multi_threading, multi_processing)
    and ``--direct_num_workers``. With ``live`` it publishes its counters there
    while it runs (for the progress display). A ``--streaming`` run gets the
    BundleBasedDirectRunner, the one local runner that reads Pub/Sub.
    """
    if not is_local(options):
        return beam.Pipeline(options=options)
    options.view_as(StandardOptions).runner = None
    if options.view_as(StandardOptions).streaming:
        return beam.Pipeline(runner=BundleBasedDirectRunner(), options=options)
    runner = FnApiRunner() if live is None else LiveFnApiRunner(live)
    return beam.Pipeline(runner=runner, options=options)


def apply_stages(
    read: ReadResult, stages: dict[str, beam.PTransform]
) -> dict[str, StageResult | ReadResult]:
    """Chain stages: each takes the previous one's kept records."""
    results = {READ_STAGE: read}
    kept = read.kept
    for name, stage in stages.items():
        result = kept | name >> stage
        results[name] = result
        kept = result.kept
    return results
