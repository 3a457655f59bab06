"""The SwallowMath pipeline: read, then the ``--stages`` of the ``--recipe`` in order."""

from __future__ import annotations

from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.recipes import MATH_RECIPES
from beam_swallow.pipelines.runner import run_pipeline
from beam_swallow.records import Record
from beam_swallow.reporting.session import Launched
from beam_swallow.samples import math_sample_records

__all__ = ["run_math"]


def _math_sample(opts: SwallowOptions) -> list[Record]:
    return math_sample_records(opts.sample_size)


def run_math(options: PipelineOptions) -> dict[str, Any] | Launched:
    """Run the math pipeline; returns the report (also in ``DIR/report.json``),
    or what was launched when the job does not end here.

    Without ``--input`` it runs on the bundled sample of scraped math pages.
    ``--recipe`` picks the stages (see :mod:`~beam_swallow.pipelines.recipes`).
    """
    stages, default = MATH_RECIPES[options.view_as(SwallowOptions).recipe]
    return run_pipeline(options, stages, default, _math_sample, "math_pages.jsonl")
