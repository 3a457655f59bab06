"""Stage ``math_extract`` (SwallowMath-v2): the mathematics of a page, copied out by the model.

The authors' second math recipe first has the model copy the mathematical
text out of each page (prompt ``math_extract``: problems, definitions,
derivations and solutions, in the page's own words; everything else left
out); stage ``math_styles`` then rewrites it.

- kept: ``text`` is the extracted mathematics; the provenance of
  :mod:`~beam_swallow.transforms.rewriting`.
- rejected: ``no_math`` (the model answered ``NO MATH``), ``too_short``
  (<= ``--too_short_chars``), ``too_long`` (the prompt is longer than
  ``--max_prompt_chars`` and is never sent, or does not fit the context),
  ``truncated``.
- dead letter: engine errors, and anything that raises.

Counters: ``math_extract.kept``, ``math_extract.<reason>``, ``math_extract.dead_letter``.
"""

from __future__ import annotations

from beam_swallow.inference.base import ChatResult
from beam_swallow.records import Reason, Record, Reject
from beam_swallow.transforms.math_rewrite import build_math_request
from beam_swallow.transforms.rewriting import RewriteConfig, RewriteStage, refused, rewritten

__all__ = ["STAGE", "MathExtract", "judge_extract"]

STAGE = "math_extract"
_NO_MATH = "NO MATH"


def judge_extract(record: Record, result: ChatResult, cfg: RewriteConfig) -> Record | Reject:
    """The extracted mathematics as the new text; ``no_math`` or ``too_short`` otherwise."""
    answer = (result.text or "").strip()
    if answer.upper().rstrip(".").startswith(_NO_MATH) and len(answer) <= len(_NO_MATH) + 10:
        return Reject(Reason.NO_MATH, refused(result.text))
    if len(answer) <= cfg.short_chars:
        return Reject(Reason.TOO_SHORT, refused(result.text))
    return rewritten(record, STAGE, cfg, answer)


class MathExtract(RewriteStage):
    """The math_extract stage: ``MathExtract(engine, cfg)`` returns a StageResult."""

    stage = STAGE
    judge = staticmethod(judge_extract)
    build = staticmethod(build_math_request)
