"""Build and run one pipeline: read, stages in order, the three sinks, the report.

The pipelines in this package differ only in their stage lists and their
sample data; this module is the wiring they share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.io import (
    READ_STAGE,
    SINKS,
    ReaderConfig,
    ReadRecords,
    WriteOutputs,
    check_inputs,
    clear_outputs,
)
from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.registry import (
    StageFactory,
    build_stages,
    reader_config,
    resolve_stages,
)
from beam_swallow.records import Record
from beam_swallow.report import COUNTS_DIR, REPORT_NAME, CountExits, write_report
from beam_swallow.samples import write_sample
from beam_swallow.stage import StageResult

__all__ = ["apply_stages", "make_pipeline", "merge_exits", "run_pipeline", "run_stages"]

_LOCAL_RUNNER_NAMES = {None, "local", "fnapirunner"}


def make_pipeline(options: PipelineOptions) -> beam.Pipeline:
    """A Pipeline on the runner the options name, or the local FnApiRunner.

    Beam's DirectRunner (the default when no runner is named) first tries to
    fetch a Prism binary; the FnApiRunner runs in-process and downloads nothing.
    It honours ``--direct_running_mode`` (in_memory, multi_threading,
    multi_processing) and ``--direct_num_workers``.
    """
    runner = options.view_as(StandardOptions).runner
    if runner is None or str(runner).lower() in _LOCAL_RUNNER_NAMES:
        options.view_as(StandardOptions).runner = None
        return beam.Pipeline(runner=FnApiRunner(), options=options)
    return beam.Pipeline(options=options)


def apply_stages(read: StageResult, stages: dict[str, beam.PTransform]) -> dict[str, StageResult]:
    """Chain stages: each takes the previous one's kept records."""
    results = {READ_STAGE: read}
    kept = read.kept
    for name, stage in stages.items():
        result = kept | name >> stage
        results[name] = result
        kept = result.kept
    return results


def merge_exits(results: dict[str, StageResult]) -> StageResult:
    """One StageResult for the run: the last kept, all rejected, all dead letters."""
    last = list(results.values())[-1]
    rejected = [r.rejected for r in results.values()] | "AllRejected" >> beam.Flatten()
    dead = [r.dead_letter for r in results.values()] | "AllDead" >> beam.Flatten()
    return StageResult(last.kept, rejected, dead)


def run_stages(
    options: PipelineOptions,
    input_pattern: str,
    reader: ReaderConfig,
    stages: dict[str, beam.PTransform],
) -> dict[str, Any]:
    """Run read + ``stages`` + sinks to completion; write and return the report.

    Everything that can fail on a flag is built before this is called: the only
    thing checked here, before the outputs are cleared, is that the input exists.
    """
    opts = options.view_as(SwallowOptions)
    check_inputs(input_pattern)
    clear_outputs(opts.output, [*SINKS, COUNTS_DIR, REPORT_NAME])
    with make_pipeline(options) as pipeline:
        read = pipeline | "Read" >> ReadRecords(input_pattern, reader)
        results = apply_stages(read, stages)
        merge_exits(results) | "Write" >> WriteOutputs(
            opts.output, opts.text_field, opts.output_format
        )
        results | "Count" >> CountExits(opts.output)
    return write_report(opts.output, [READ_STAGE, *stages])


def run_pipeline(
    options: PipelineOptions,
    factories: dict[str, StageFactory],
    default_stages: str,
    sample: Callable[[SwallowOptions], list[Record]],
    sample_name: str,
) -> dict[str, Any]:
    """Run one of the pipelines: ``--stages`` (or ``default_stages``) of ``factories``.

    Without ``--input`` the records ``sample`` builds are written to
    ``OUT/sample/<sample_name>`` and read from there like any input.
    """
    FileSystems.set_options(options)  # gs:// credentials etc. before the sample is written
    opts = options.view_as(SwallowOptions)
    if not opts.output:
        raise ValueError("--output must not be empty")
    reader = reader_config(opts)
    names = resolve_stages(opts.stages or default_stages, factories)
    stages = build_stages(opts, names, factories)
    pattern = opts.input or write_sample(
        sample(opts), FileSystems.join(opts.output, "sample", sample_name)
    )
    return run_stages(options, pattern, reader, stages)
