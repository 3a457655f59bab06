"""Which stages each pipeline knows, by name, and how to build them from options.

A factory takes the parsed :class:`SwallowOptions` and returns a PTransform whose
``expand`` returns a :class:`StageResult`. ``--stages`` picks and orders them.
"""

from __future__ import annotations

from collections.abc import Callable

import apache_beam as beam

from beam_swallow.dedup.factories import DEDUP_FACTORIES, exact_dedup_stage, near_dedup_stage
from beam_swallow.inference.config import EngineConfig
from beam_swallow.options import SwallowOptions
from beam_swallow.transforms.lint import Lint, LintConfig
from beam_swallow.transforms.math_rewrite import math_stage
from beam_swallow.transforms.rewrite import RewriteConfig
from beam_swallow.transforms.scor import scor_stage
from beam_swallow.transforms.sgcr import sgcr_stage
from beam_swallow.transforms.syntax import Syntax

__all__ = [
    "CODE_STAGES",
    "DEDUP_STAGES",
    "MATH_STAGES",
    "StageFactory",
    "resolve_stages",
]

StageFactory = Callable[[SwallowOptions], beam.PTransform]


def _llm_stage(
    build: Callable[[EngineConfig, RewriteConfig], beam.PTransform], prompt: str
) -> StageFactory:
    """A factory for a rewriting stage: engine and prompt configs from the options."""
    return lambda opts: build(
        EngineConfig.from_options(opts), RewriteConfig.from_options(opts, prompt)
    )


CODE_STAGES: dict[str, StageFactory] = {
    "syntax": lambda opts: Syntax(),
    "lint": lambda opts: Lint(
        LintConfig(
            min_quality=opts.min_quality,
            timeout_s=opts.lint_timeout,
            workers=opts.lint_workers,
            recycle_after=opts.lint_recycle_after,
        )
    ),
    "sgcr": _llm_stage(sgcr_stage, "sgcr"),
    "scor": _llm_stage(scor_stage, "scor"),
    **DEDUP_FACTORIES,
}

MATH_STAGES: dict[str, StageFactory] = {
    "exact_dedup": exact_dedup_stage,
    "near_dedup": near_dedup_stage,
    "rewrite": _llm_stage(math_stage, "math"),
}

DEDUP_STAGES: dict[str, StageFactory] = dict(DEDUP_FACTORIES)


def resolve_stages(spec: str, known: dict[str, StageFactory]) -> list[str]:
    """Parse a ``--stages`` value; raise ValueError naming unknown or repeated stages."""
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown stage(s) {', '.join(unknown)}; this pipeline knows: {', '.join(known)}"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"stage(s) listed twice: {', '.join(repeated)}")
    return names
