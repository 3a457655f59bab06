"""What batch and streaming runs share: the runner a pipeline gets, and the stage chain."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.io import READ_STAGE, ReadResult
from beam_swallow.records import REPLAYED_FROM, Record
from beam_swallow.reporting.live import LiveFnApiRunner, LiveMetrics
from beam_swallow.stage import StageResult
from beam_swallow.transforms.breaker import Breaker, BreakerConfig

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


def _failed_later(record: Record, later: frozenset[str]) -> bool:
    return record.get(REPLAYED_FROM) in later


def apply_stages(
    read: ReadResult,
    stages: dict[str, beam.PTransform],
    breaker: BreakerConfig | None = None,
) -> dict[str, StageResult | ReadResult]:
    """Chain stages: each takes the previous one's kept records.

    A record replayed from a dead letter (``replayed_from``, see
    :func:`~beam_swallow.records.replayed`) goes past every stage listed before
    the one it failed in, as a kept record of each: it had passed them, and its
    text is what they made of it (a dead letter of ``scor`` holds ``sgcr``'s
    rewrite, which ``sgcr`` must not rewrite again). With ``breaker`` each
    stage is armed with a :class:`~beam_swallow.transforms.breaker.Breaker`.
    """
    results = {READ_STAGE: read}
    kept = read.kept
    names = list(stages)
    for index, (name, stage) in enumerate(stages.items()):
        later = frozenset(names[index + 1 :])
        passing = None
        if later:
            kept, passing = kept | f"Replay{name}" >> beam.Partition(
                lambda record, _, later: int(_failed_later(record, later)), 2, later
            )
        result = kept | name >> stage
        if breaker is not None and breaker.on:
            kept | f"Breaker{name}" >> Breaker(name, breaker, result)
        if passing is not None:
            merged = (result.kept, passing) | f"Replayed{name}" >> beam.Flatten()
            result = result._replace(kept=merged)
        results[name] = result
        kept = result.kept
    return results
