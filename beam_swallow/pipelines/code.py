"""The SwallowCode pipeline: read, then the ``--stages`` of the ``--recipe`` in order."""

from __future__ import annotations

from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.recipes import CODE_RECIPES
from beam_swallow.pipelines.runner import run_pipeline
from beam_swallow.records import Record
from beam_swallow.reporting.session import Launched
from beam_swallow.samples import code_sample_records

__all__ = ["run_code", "SAMPLE_MAX_BYTES"]

# Sample files small enough that a whole rewrite (about as many tokens as the file,
# plus a score and suggestions under structured generation) fits the embedded
# model's default max_tokens (1,024): larger ones would mostly truncate.
SAMPLE_MAX_BYTES = 2_000


def _stdlib_sample(opts: SwallowOptions) -> list[Record]:
    return code_sample_records(opts.sample_size, max_bytes=SAMPLE_MAX_BYTES)


def run_code(options: PipelineOptions) -> dict[str, Any] | Launched:
    """Run the code pipeline; returns the report (also in ``DIR/report.json``),
    or what was launched when the job does not end here.

    Without ``--input`` it runs on small files of this Python's standard library.
    ``--recipe`` picks the stages (see :mod:`~beam_swallow.pipelines.recipes`);
    each record's language is decided as it is read (``--languages``, docs: Inputs).
    """
    stages, default = CODE_RECIPES[options.view_as(SwallowOptions).recipe]
    return run_pipeline(options, stages, default, _stdlib_sample, "stdlib.jsonl", by_language=True)
