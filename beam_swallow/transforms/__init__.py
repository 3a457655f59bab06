"""The stages: one module and one class per stage, each a PTransform returning a StageResult.

:data:`STAGES` is the one list of them, in the paper's order; each class's
``stage`` is the name ``--stages``, the outputs' ``stage`` field and the
counters use. Helper modules beside them: ``llm`` (the LLM stage plumbing),
``rewriting`` (what the rewriting stages share), ``parse`` and ``repetition``,
and the cached variants (``lint_cache``, ``llm_cache``, ``fetch_cache``).
"""

from beam_swallow.transforms.decontaminate import Decontaminate
from beam_swallow.transforms.exact_dedup import ExactDedup
from beam_swallow.transforms.fetch import Fetch
from beam_swallow.transforms.lint import Lint
from beam_swallow.transforms.math_rewrite import MathRewrite
from beam_swallow.transforms.near_dedup import NearDedup
from beam_swallow.transforms.scor import Scor
from beam_swallow.transforms.sgcr import Sgcr
from beam_swallow.transforms.syntax import Syntax

__all__ = [
    "STAGES",
    "Decontaminate",
    "ExactDedup",
    "Fetch",
    "Lint",
    "MathRewrite",
    "NearDedup",
    "Scor",
    "Sgcr",
    "Syntax",
]

STAGES = (Fetch, Syntax, Lint, ExactDedup, NearDedup, Decontaminate, Sgcr, Scor, MathRewrite)
