"""The standalone dedup pipeline: read, then the ``--stages`` of DEDUP_STAGES.

Without ``--input`` it runs on standard-library files with planted exact and
near copies (:func:`~beam_swallow.testing.planted.plant_copies`), so a bare
``beam-swallow dedup`` shows each stage at work.
"""

from __future__ import annotations

from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.options import DEFAULT_DEDUP_STAGES, SwallowOptions
from beam_swallow.pipelines.registry import DEDUP_STAGES
from beam_swallow.pipelines.runner import run_pipeline
from beam_swallow.records import Record
from beam_swallow.reporting.session import Launched
from beam_swallow.samples import code_sample_records
from beam_swallow.testing.planted import plant_copies

__all__ = ["run_dedup"]


def _planted_sample(opts: SwallowOptions) -> list[Record]:
    return plant_copies(code_sample_records(opts.sample_size))


def run_dedup(options: PipelineOptions) -> dict[str, Any] | Launched:
    """Run the dedup pipeline; returns the report (also in ``DIR/report.json``),
    or what was launched when the job does not end here."""
    return run_pipeline(
        options, DEDUP_STAGES, DEFAULT_DEDUP_STAGES, _planted_sample, "stdlib-planted.jsonl"
    )
