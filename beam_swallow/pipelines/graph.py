"""The stage chain batch and streaming runs share."""

from __future__ import annotations

import apache_beam as beam

from beam_swallow.io import READ_STAGE, ReadResult
from beam_swallow.stage import StageResult

__all__ = ["apply_stages"]


def apply_stages(
    read: ReadResult, stages: dict[str, beam.PTransform]
) -> dict[str, StageResult | ReadResult]:
    """Chain stages: each takes the previous one's kept records."""
    results = {READ_STAGE: read}
    kept = read.kept
    for name, stage in stages.items():
        result = kept | name >> stage
        results[name] = result
        kept = result.kept
    return results
