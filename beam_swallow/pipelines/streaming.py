"""Run one pipeline in streaming mode: Pub/Sub in, windows out, until stopped.

The graph is the batch one with two changes: records come from
:class:`~beam_swallow.streaming.ReadMessages` instead of files, and
:class:`~beam_swallow.streaming.WriteWindows` writes each window's sinks and
report instead of one set for the run. Locally it runs on Beam's
BundleBasedDirectRunner (the one local runner that reads Pub/Sub); any other
``--runner`` (Dataflow) gets the same graph.

The run goes on until the runner stops it or the process gets SIGINT or
SIGTERM, which cancel the job. Windows whose report is on disk are complete;
on the local runner, records of windows still open are lost with the process,
because it acknowledges messages as it pulls them. On return, ``DIR/report.json``
is the sum of every window report under ``DIR/reports/``.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.inference.tokens import tokenizer_available
from beam_swallow.io import READ_STAGE, ReaderConfig
from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.graph import apply_stages, make_pipeline
from beam_swallow.report import INPUT, TOKENS, build_report, save_report
from beam_swallow.stage import DEAD_LETTER, KEPT, REJECTED
from beam_swallow.streaming import (
    REPORTS_DIR,
    ReadMessages,
    StreamConfig,
    WriteWindows,
    check_source,
)

__all__ = ["run_streaming", "sum_window_reports"]

_LOG = logging.getLogger("beam_swallow.streaming")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _rows(report: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """A window report back into the ``(stage, exit, reason, n)`` rows it was built from."""
    rows = []
    for stage, entry in report["stages"].items():
        if stage == READ_STAGE:
            rows.append((stage, INPUT, "", entry["input"]))
        rows.append((stage, KEPT, "", entry[KEPT]))
        if "kept_tokens" in entry:
            rows.append((stage, TOKENS, "", entry["kept_tokens"]))
        rows.append((stage, DEAD_LETTER, "", entry[DEAD_LETTER]))
        rows += [(stage, REJECTED, reason, n) for reason, n in entry[REJECTED].items()]
    return rows


def sum_window_reports(output_dir: str, stages: list[str]) -> dict[str, Any]:
    """One report for every window under ``DIR/reports/``, plus ``windows`` (how many)."""
    pattern = FileSystems.join(output_dir, REPORTS_DIR, "*.json")
    rows: list[tuple[str, str, str, int]] = []
    windows = 0
    for match in FileSystems.match([pattern]):
        for meta in match.metadata_list:
            with FileSystems.open(meta.path) as handle:
                rows += _rows(json.loads(handle.read()))
            windows += 1
    report = build_report(rows, stages)
    report["windows"] = windows
    return report


def _run_until_stopped(pipeline: beam.Pipeline) -> None:
    """Run ``pipeline``; return when it ends, or cancel it on SIGINT / SIGTERM."""
    result = pipeline.run()
    stop = threading.Event()
    failure: list[BaseException] = []

    def wait() -> None:
        try:
            result.wait_until_finish()
        except BaseException as exc:  # re-raised on the main thread below
            failure.append(exc)
        finally:
            stop.set()

    threading.Thread(target=wait, name="wait-for-job", daemon=True).start()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failure:
        raise failure[0]
    _LOG.info("stopping: cancelling the job")
    result.cancel()


def run_streaming(
    options: PipelineOptions,
    stream: StreamConfig,
    reader: ReaderConfig,
    stages: dict[str, beam.PTransform],
) -> dict[str, Any]:
    """Run read + ``stages`` + windowed sinks until stopped; return the summed report.

    Nothing earlier runs wrote is cleared: windows are named by time, so a
    restarted stream writes beside the windows it wrote before.
    """
    opts = options.view_as(SwallowOptions)
    check_source(stream)
    _LOG.setLevel(logging.INFO)
    names = [READ_STAGE, *stages]
    count_tokens = tokenizer_available() and not opts.no_token_counts
    pipeline = make_pipeline(options)
    read = pipeline | "Read" >> ReadMessages(stream, reader)
    results = apply_stages(read, stages)
    results | "Windows" >> WriteWindows(
        opts.output, names, opts.text_field, count_tokens, opts.output_compression
    )
    _LOG.info(
        "streaming from %s into %s, windows of %gs; SIGINT or SIGTERM stops it",
        stream.subscription or stream.topic,
        opts.output,
        stream.window_s,
    )
    _run_until_stopped(pipeline)
    report = sum_window_reports(opts.output, names)
    save_report(opts.output, report)
    return report
