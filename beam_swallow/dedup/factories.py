"""Build the dedup stages from options: the registry's factories.

The only place that reads dedup flags: stages get frozen configs. Any
pipeline may list these factories under the stage names it wants.
"""

from __future__ import annotations

import apache_beam as beam

from beam_swallow.dedup.minhash import MinhashConfig
from beam_swallow.options import SwallowOptions
from beam_swallow.transforms.decontaminate import DecontamConfig, Decontaminate
from beam_swallow.transforms.exact_dedup import ExactDedup
from beam_swallow.transforms.near_dedup import NearDedup

__all__ = [
    "DEDUP_FACTORIES",
    "decontaminate_stage",
    "exact_dedup_stage",
    "minhash_config",
    "near_dedup_stage",
]


def minhash_config(opts: SwallowOptions) -> MinhashConfig:
    """The one MinHash configuration near_dedup and decontaminate share."""
    return MinhashConfig(
        shingle_size=opts.shingle_size,
        num_perm=opts.num_perm,
        bands=opts.bands,
        rows=opts.rows,
        threshold=opts.near_dedup_threshold,
        verify=opts.near_dedup_verify,
        cc_rounds=opts.cc_rounds,
    )


def exact_dedup_stage(opts: SwallowOptions) -> beam.PTransform:
    return ExactDedup(normalize=opts.exact_dedup_normalize, keep=opts.dedup_keep)


def near_dedup_stage(opts: SwallowOptions) -> beam.PTransform:
    return NearDedup(minhash_config(opts), keep=opts.dedup_keep)


def decontaminate_stage(opts: SwallowOptions) -> beam.PTransform:
    files = tuple(p.strip() for p in (opts.decontam_file or "").split(",") if p.strip())
    return Decontaminate(
        DecontamConfig(
            files=files,
            humaneval=not opts.decontam_skip_humaneval,
            threshold=opts.decontam_threshold,
            min_chars=opts.decontam_min_chars,
            solution_min_chars=opts.decontam_solution_min_chars,
            minhash=minhash_config(opts),
        )
    )


DEDUP_FACTORIES = {
    "exact_dedup": exact_dedup_stage,
    "near_dedup": near_dedup_stage,
    "decontaminate": decontaminate_stage,
}
