"""The SwallowCode pipeline: read, then the ``--stages`` of CODE_STAGES in order."""

from __future__ import annotations

from typing import Any

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.options import DEFAULT_CODE_STAGES, SwallowOptions
from beam_swallow.pipelines.registry import CODE_STAGES, resolve_stages
from beam_swallow.pipelines.runner import run_stages
from beam_swallow.samples import code_sample_records, write_sample

__all__ = ["run_code", "SAMPLE_MAX_BYTES"]

# Sample files small enough that a rewrite fits the embedded model's 8k-token
# context and its default max_tokens (1,024): larger ones would mostly truncate.
SAMPLE_MAX_BYTES = 4_000


def run_code(options: PipelineOptions) -> dict[str, Any]:
    """Run the code pipeline; returns the report (also in ``DIR/report.json``)."""
    FileSystems.set_options(options)  # gs:// credentials etc. before the sample is written
    opts = options.view_as(SwallowOptions)
    names = resolve_stages(opts.stages or DEFAULT_CODE_STAGES, CODE_STAGES)
    pattern = opts.input or write_sample(
        code_sample_records(opts.sample_size, max_bytes=SAMPLE_MAX_BYTES),
        FileSystems.join(opts.output, "sample", "stdlib.jsonl"),
    )
    return run_stages(options, pattern, names, CODE_STAGES)
