"""The SwallowMath pipeline: read, then the ``--stages`` of MATH_STAGES in order."""

from __future__ import annotations

from typing import Any

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.math_sample import math_sample_records
from beam_swallow.options import DEFAULT_MATH_STAGES, SwallowOptions
from beam_swallow.pipelines.registry import MATH_STAGES, resolve_stages
from beam_swallow.pipelines.runner import run_stages
from beam_swallow.samples import write_sample

__all__ = ["run_math"]


def run_math(options: PipelineOptions) -> dict[str, Any]:
    """Run the math pipeline; returns the report (also in ``DIR/report.json``).

    Without ``--input`` it runs on the bundled sample of scraped math pages.
    """
    FileSystems.set_options(options)
    opts = options.view_as(SwallowOptions)
    names = resolve_stages(opts.stages or DEFAULT_MATH_STAGES, MATH_STAGES)
    pattern = opts.input or write_sample(
        math_sample_records(opts.sample_size),
        FileSystems.join(opts.output, "sample", "math_pages.jsonl"),
    )
    return run_stages(options, pattern, names, MATH_STAGES)
