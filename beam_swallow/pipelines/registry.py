"""Which stages each pipeline knows, by name, and how to build them from options.

A factory takes the parsed :class:`SwallowOptions` and returns a PTransform whose
``expand`` returns a :class:`StageResult`. ``--stages`` picks and orders them.
"""

from __future__ import annotations

from collections.abc import Callable

import apache_beam as beam

from beam_swallow.options import SwallowOptions
from beam_swallow.transforms.syntax import Syntax

__all__ = [
    "CODE_STAGES",
    "DEDUP_STAGES",
    "MATH_STAGES",
    "StageFactory",
    "resolve_stages",
]

StageFactory = Callable[[SwallowOptions], beam.PTransform]

CODE_STAGES: dict[str, StageFactory] = {
    "syntax": lambda opts: Syntax(),
}

MATH_STAGES: dict[str, StageFactory] = {}

DEDUP_STAGES: dict[str, StageFactory] = {}


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
