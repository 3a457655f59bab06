"""Run one pipeline in streaming mode: Pub/Sub or Kafka in, windows out, until stopped.

The graph is the batch one with two changes: records come from
:class:`~beam_swallow.streaming.ReadMessages` (Pub/Sub) or
:class:`~beam_swallow.streaming.kafka.ReadKafka` instead of files, and
:class:`~beam_swallow.streaming.WriteWindows` writes each window's sinks and
report instead of one set for the run. Locally it runs on Beam's
BundleBasedDirectRunner (the one local runner that reads Pub/Sub); any other
``--runner`` (Flink, Dataflow) gets the same graph.

The run goes on until the runner stops it or the process gets SIGINT or
SIGTERM. On Flink that stops the job with drain (``--on_stop drain``, the
default: every open window fires, see :mod:`beam_swallow.streaming.stop`) and
returns when the job has finished; elsewhere, or with ``--on_stop cancel``, it
cancels the job. Windows whose report is on disk are complete; on the local
runner, records of windows still open are lost with the process, because it
acknowledges messages as it pulls them. On return, ``DIR/report.json`` is the
sum of every window report under ``DIR/reports/``.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import uuid
from typing import Any

import apache_beam as beam
import requests
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (
    DebugOptions,
    FlinkRunnerOptions,
    GoogleCloudOptions,
    PipelineOptions,
    StandardOptions,
)

from beam_swallow.inference.tokens import tokenizer_available
from beam_swallow.io import READ_STAGE, ReaderConfig
from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.graph import apply_stages, is_local, make_pipeline
from beam_swallow.report import INPUT, TOKENS, build_report, language_rows, save_report
from beam_swallow.reporting.session import Launched, build_job, builds_only
from beam_swallow.stage import DEAD_LETTER, KEPT, REJECTED
from beam_swallow.streaming import (
    REPORTS_DIR,
    ReadMessages,
    StreamConfig,
    WriteWindows,
    check_source,
)
from beam_swallow.streaming.config import DEPRECATED_READ
from beam_swallow.streaming.kafka import ReadKafka
from beam_swallow.streaming.stop import StopFailed, drain_job, find_job

__all__ = ["run_streaming", "sum_window_reports"]

_LOG = logging.getLogger("beam_swallow.streaming")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_FLINK_RUNNERS = {"flinkrunner", "flink"}


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
        rows += language_rows(stage, entry.get("languages", {}))
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


def _prepare_kafka(options: PipelineOptions, master: str | None) -> None:
    """Options a Kafka read needs: the unbounded-source read, and on Flink, checkpoints.

    Raises ValueError on the local runner (it cannot run Java transforms), and for a
    Flink run without ``--checkpointing_interval``: its
    offsets and state would live nowhere, and a restart would read again from
    the last offsets committed, writing windows twice.
    """
    if is_local(options):
        raise ValueError(
            "reading Kafka needs a runner that runs Beam's Java Kafka read: "
            "--runner=FlinkRunner (docs, Streaming from Kafka) or DataflowRunner"
        )
    options.view_as(DebugOptions).add_experiment(DEPRECATED_READ)
    given = options.get_all_options(retain_unknown_options=True)
    if master is not None and not given.get("checkpointing_interval"):
        raise ValueError(
            "a Kafka run on Flink needs --checkpointing_interval MS: offsets and dedup "
            "state are recovered from checkpoints (docs, Streaming from Kafka)"
        )


def _flink_master(options: PipelineOptions) -> str | None:
    """The REST address of the Flink cluster a FlinkRunner run submits to; None otherwise."""
    runner = str(options.view_as(StandardOptions).runner or "")
    master = options.view_as(FlinkRunnerOptions).flink_master
    if runner.lower() not in _FLINK_RUNNERS or master.startswith("["):  # [local], [auto]
        return None
    return master


def _drain(master: str, job_name: str) -> bool:
    """Stop the Flink job named ``job_name`` with drain; False (logged) if Flink could not."""
    try:
        job_id = find_job(master, job_name)
        _LOG.info("stopping: draining Flink job %s (every open window fires)", job_id)
        location = drain_job(master, job_id)
    except (StopFailed, requests.RequestException) as exc:
        _LOG.warning("stopping: drain failed (%s); cancelling the job", exc)
        return False
    _LOG.info("stopping: drained; final savepoint %s", location)
    return True


def _run_until_stopped(pipeline: beam.Pipeline, drain: tuple[str, str] | None) -> None:
    """Run ``pipeline``; return when it ends. On SIGINT / SIGTERM: with ``drain``
    (Flink's REST address, the job's name) stop it with drain and return when it has
    finished, else (or if the drain fails, or on a second signal) cancel it."""
    result = pipeline.run()
    stop = threading.Event()
    done = threading.Event()
    failure: list[BaseException] = []

    def wait() -> None:
        try:
            result.wait_until_finish()
        except BaseException as exc:  # re-raised on the main thread below
            failure.append(exc)
        finally:
            done.set()
            stop.set()

    threading.Thread(target=wait, name="wait-for-job", daemon=True).start()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in _STOP_SIGNALS}
    try:
        while not stop.wait(1.0):
            pass
        if not done.is_set() and drain is not None and _drain(*drain):
            stop.clear()
            while not (done.is_set() or stop.wait(1.0)):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if done.is_set():
        if failure:
            raise failure[0]
        return
    _LOG.info("stopping: cancelling the job")
    result.cancel()


def run_streaming(
    options: PipelineOptions,
    stream: StreamConfig,
    reader: ReaderConfig,
    stages: dict[str, beam.PTransform],
) -> dict[str, Any] | Launched:
    """Run read + ``stages`` + windowed sinks until stopped; return the summed report.

    Nothing earlier runs wrote is cleared: windows are named by time, so a
    restarted stream writes beside the windows it wrote before. A Dataflow
    template or dry run builds the job and returns
    :class:`~beam_swallow.reporting.session.Launched`.
    """
    opts = options.view_as(SwallowOptions)
    if stream.kafka is None:
        check_source(stream)
    google = options.view_as(GoogleCloudOptions)
    google.job_name = google.job_name or f"beam-swallow-{uuid.uuid4().hex[:12]}"
    _LOG.setLevel(logging.INFO)
    names = [READ_STAGE, *stages]
    count_tokens = tokenizer_available() and not opts.no_token_counts
    master = _flink_master(options)
    if stream.kafka is not None:
        _prepare_kafka(options, master)
    pipeline = make_pipeline(options)
    if stream.kafka is not None:
        read = pipeline | "Read" >> ReadKafka(stream.kafka, stream.window_s, reader)
    else:
        read = pipeline | "Read" >> ReadMessages(stream, reader)
    results = apply_stages(read, stages)
    results | "Windows" >> WriteWindows(
        opts.output,
        names,
        opts.text_field,
        count_tokens,
        opts.output_compression,
        stream.allowed_lateness_s,
        reader.routing is not None,
    )
    if builds_only(options):  # a Dataflow template or dry run: nothing to stop or sum
        return build_job(pipeline, options)
    _LOG.info(
        "streaming from %s into %s, windows of %gs; SIGINT or SIGTERM %s it",
        f"Kafka topic {stream.kafka.topic}"
        if stream.kafka
        else stream.subscription or stream.topic,
        opts.output,
        stream.window_s,
        "drains" if master and stream.on_stop == "drain" else "cancels",
    )
    job_name = options.view_as(GoogleCloudOptions).job_name
    drain = (master, job_name) if master and stream.on_stop == "drain" else None
    _run_until_stopped(pipeline, drain)
    report = sum_window_reports(opts.output, names)
    save_report(opts.output, report)
    return report
