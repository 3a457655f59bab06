"""The SwallowMath pipeline: read, then the ``--stages`` of MATH_STAGES in order."""

from __future__ import annotations

from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.options import DEFAULT_MATH_STAGES, SwallowOptions
from beam_swallow.pipelines.registry import MATH_STAGES
from beam_swallow.pipelines.runner import run_pipeline
from beam_swallow.records import Record
from beam_swallow.samples import math_sample_records

__all__ = ["run_math"]


def _math_sample(opts: SwallowOptions) -> list[Record]:
    return math_sample_records(opts.sample_size)


def run_math(options: PipelineOptions) -> dict[str, Any]:
    """Run the math pipeline; returns the report (also in ``DIR/report.json``).

    Without ``--input`` it runs on the bundled sample of scraped math pages.
    """
    return run_pipeline(options, MATH_STAGES, DEFAULT_MATH_STAGES, _math_sample, "math_pages.jsonl")
