"""The stages: one module and one class per stage, each a PTransform returning a StageResult.

:data:`STAGES` is the one list of them, in the paper's order; each class's
``stage`` is the name ``--stages``, the outputs' ``stage`` field and the
counters use; the v2 recipes' stages (``--recipe v2``) follow the seed paper's.
Helper modules beside them: ``llm`` (the LLM stage plumbing), ``rewriting``
(what the rewriting stages share), ``tool_stage`` (what the stages that batch
records per language for an external tool share), ``quality`` and ``measured`` (a rewrite's quality before and after),
``recipe_flags`` (the v2 recipes' flags), ``parse`` and ``repetition``, and the
cached variants (``lint_cache``, ``llm_cache``, ``fetch_cache``).
"""

from beam_swallow.transforms.decontaminate import Decontaminate
from beam_swallow.transforms.exact_dedup import ExactDedup
from beam_swallow.transforms.fetch import Fetch
from beam_swallow.transforms.format import Format
from beam_swallow.transforms.length import Length
from beam_swallow.transforms.lint import Lint
from beam_swallow.transforms.lint_errors import LintErrors
from beam_swallow.transforms.math_extract import MathExtract
from beam_swallow.transforms.math_rewrite import MathRewrite
from beam_swallow.transforms.math_styles import MathStyles
from beam_swallow.transforms.near_dedup import NearDedup
from beam_swallow.transforms.reformat import Reformat
from beam_swallow.transforms.rewrite import Rewrite
from beam_swallow.transforms.scor import Scor
from beam_swallow.transforms.score import Score
from beam_swallow.transforms.sgcr import Sgcr
from beam_swallow.transforms.syntax import Syntax

__all__ = [
    "STAGES",
    "Decontaminate",
    "ExactDedup",
    "Fetch",
    "Format",
    "Length",
    "Lint",
    "LintErrors",
    "MathExtract",
    "MathRewrite",
    "MathStyles",
    "NearDedup",
    "Reformat",
    "Rewrite",
    "Scor",
    "Score",
    "Sgcr",
    "Syntax",
]

STAGES = (
    Fetch,
    Syntax,
    Lint,
    ExactDedup,
    NearDedup,
    Decontaminate,
    Sgcr,
    Scor,
    MathRewrite,
    Format,
    Length,
    Score,
    Rewrite,
    Reformat,
    LintErrors,
    MathExtract,
    MathStyles,
)
