"""Build and run one pipeline: read, stages in order, the three sinks, the report.

The pipelines in this package differ only in their stage lists and their
sample data; this module is the wiring they share.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.inference.preflight import preflight
from beam_swallow.inference.tokens import load_tokenizer, tokenizer_available
from beam_swallow.io import (
    READ_STAGE,
    SINKS,
    ReaderConfig,
    ReadRecords,
    WriteOutputs,
    check_inputs,
    clear_outputs,
    split_patterns,
)
from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.dataflow import check_dataflow, preflight_on_launcher
from beam_swallow.pipelines.graph import apply_stages, is_local, make_pipeline
from beam_swallow.pipelines.memory import check_local_memory
from beam_swallow.pipelines.registry import (
    StageFactory,
    breaker_config,
    build_stages,
    input_parser,
    reader_config,
    s3_settings,
    stage_names,
    stream_config,
)
from beam_swallow.pipelines.streaming import run_streaming
from beam_swallow.records import Record
from beam_swallow.report import COUNTS_DIR, REPORT_NAME
from beam_swallow.reporting.html import FILES_DIR, HTML_NAME
from beam_swallow.reporting.live import LiveMetrics
from beam_swallow.reporting.session import (
    Launched,
    builds_only,
    finish_report,
    is_dataflow,
    run_watched,
    show_progress,
)
from beam_swallow.reporting.stats import CountExits
from beam_swallow.samples import write_sample
from beam_swallow.sources.s3 import check_s3_paths
from beam_swallow.stage import merge_exits

__all__ = ["preflight_tools", "run_pipeline", "run_stages"]


def run_stages(
    options: PipelineOptions,
    input_pattern: str,
    reader: ReaderConfig,
    stages: dict[str, beam.PTransform],
) -> dict[str, Any] | Launched:
    """Run read + ``stages`` + sinks to completion; write and return the report.

    Everything that can fail on a flag is built before this is called: the only
    things checked here, before the outputs are cleared, are that the input exists
    and, on the local runner, that the run should fit in memory
    (:func:`~beam_swallow.pipelines.memory.check_local_memory`).
    Besides the three sinks the run writes report.json and report.html (see
    :mod:`beam_swallow.reporting`); local runs on a terminal show progress.
    A job that does not end here (a Dataflow template, a dry run, a job left
    running) returns :class:`~beam_swallow.reporting.session.Launched` instead, and a
    run that only builds its job clears nothing.
    """
    opts = options.view_as(SwallowOptions)
    check_inputs(input_pattern)
    if is_local(options):
        check_local_memory(input_pattern, list(stages), opts.memory_check)
    cleared = [*SINKS, COUNTS_DIR, REPORT_NAME, HTML_NAME, FILES_DIR]
    _check_input_survives(input_pattern, opts.output, cleared)
    if not builds_only(options):
        clear_outputs(opts.output, cleared)
    names = [READ_STAGE, *stages]
    count_tokens = tokenizer_available() and not opts.no_token_counts
    live = LiveMetrics() if show_progress(options, is_local(options)) else None
    pipeline = make_pipeline(options, live)
    read = pipeline | "Read" >> ReadRecords(input_pattern, reader, input_parser(opts, reader))
    results = apply_stages(read, stages, breaker_config(opts))
    merge_exits(results) | "Write" >> WriteOutputs(
        opts.output, opts.text_field, opts.output_format, opts.output_compression
    )
    results | "Count" >> CountExits(opts.output, count_tokens, reader.routing is not None)
    started = time.monotonic()
    result = run_watched(pipeline, options, names, live, input_pattern)
    if isinstance(result, Launched):
        return result
    labels = {"Read": READ_STAGE, **{name: name for name in stages}}
    tokenizer = load_tokenizer().name if count_tokens else None
    return finish_report(
        opts.output, names, labels, options, result, started, tokenizer, input_pattern
    )


def _absolute(path: str) -> str:
    return path if "://" in path else os.path.abspath(path)


def _check_input_survives(input_pattern: str, output: str, cleared: list[str]) -> None:
    """Raise ValueError when the input lies where this run clears its outputs first
    (``--input OUT/dead_letter/*`` with ``--output OUT``: a replay must write elsewhere)."""
    for pattern in map(_absolute, split_patterns(input_pattern)):
        for name in cleared:
            place = _absolute(FileSystems.join(output, name)).rstrip("/")
            if pattern == place or pattern.startswith(place + "/"):
                raise ValueError(
                    f"--input {pattern} is under {place}, which this run clears before it "
                    "reads: give another --output"
                )


def preflight_tools(stages: Mapping[str, beam.PTransform], languages: Collection[str]) -> None:
    """Ask each stage that calls external tools whether those ``languages`` need are
    installed (its ``tools_preflight(languages)``); the first missing one raises
    :class:`~beam_swallow.languages.tools.ToolMissing`, naming the tool, the
    language that needs it and how to install it."""
    for stage in stages.values():
        check = getattr(stage, "tools_preflight", None)
        if check is not None:
            check(languages)


def run_pipeline(
    options: PipelineOptions,
    factories: dict[str, StageFactory],
    default_stages: str,
    sample: Callable[[SwallowOptions], list[Record]],
    sample_name: str,
    by_language: bool = False,
) -> dict[str, Any] | Launched:
    """Run one of the pipelines: ``--stages`` (or ``default_stages``) of ``factories``.

    Without ``--input`` the records ``sample`` builds are written to
    ``OUT/sample/<sample_name>`` and read from there like any input. With
    ``--streaming`` records come from Pub/Sub instead (see
    :mod:`beam_swallow.pipelines.streaming`) and the run goes on until stopped.
    ``by_language`` (the code pipeline): each record's language is decided at
    read and the run's languages from its stages and flags
    (:func:`~beam_swallow.pipelines.registry.run_languages`), and the stages'
    external tools for those languages are checked (:func:`preflight_tools`,
    ToolMissing). A run with an LLM stage then checks its engine
    (:func:`~beam_swallow.inference.preflight.preflight`): PreflightError, a
    ValueError. On Dataflow, flags its workers cannot use are refused first, and only
    the checks that need nothing of the workers' world run here
    (:mod:`beam_swallow.pipelines.dataflow`). All of it before anything is read or
    written.
    """
    FileSystems.set_options(options)  # gs:// credentials etc. before the sample is written
    opts = options.view_as(SwallowOptions)
    if not opts.output:
        raise ValueError("--output must not be empty")
    stream = stream_config(opts)
    names = stage_names(opts, default_stages, factories)
    stages = build_stages(opts, names, factories)
    reader = reader_config(opts, stages if by_language else None)
    if reader.routing is not None and not is_dataflow(options):  # the tools are the workers'
        preflight_tools(stages, reader.routing.languages)
    # stages that ask an LLM engine say which (LLMStage.engine, and the wrappers of one)
    engines = [e for s in stages.values() if (e := getattr(s, "engine", None)) is not None]
    worker_paths = {
        "--input": opts.input,
        "--output": opts.output,
        "--cache_dir": opts.cache_dir,
        "--decontam_file": opts.decontam_file,
    }
    check_dataflow(options, worker_paths, engines[0] if engines else None)
    check_s3_paths([opts.input, opts.output, opts.cache_dir], s3_settings(options))
    if engines and preflight_on_launcher(options, engines[0]):
        preflight(engines[0])  # a run every record of which would fail stops here
    if stream is not None:
        return run_streaming(options, stream, reader, stages)
    pattern = opts.input or write_sample(
        sample(opts), FileSystems.join(opts.output, "sample", sample_name)
    )
    return run_stages(options, pattern, reader, stages)
