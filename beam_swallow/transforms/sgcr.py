"""Stage ``sgcr``: style-guided code rewriting (SwallowCode stage 3).

The model rates the file against ten style criteria, suggests improvements and
rewrites it (prompt ``sgcr``; the user turn is the code). The answer is read by
:func:`~beam_swallow.transforms.parse.parse_sgcr`.

- kept: ``text`` is the improved code; ``sgcr_score`` (-1.0 when the score
  does not parse), ``suggestions``, ``sgcr_compiles`` (whether the rewrite
  compiles; the paper found 0.73% do not and never checked; they are kept here
  since SCOR rewrites them again), plus the provenance of
  :mod:`~beam_swallow.transforms.rewriting`.
- rejected: ``no_code_block`` (no closed python block), ``repetition`` (code of
  1,000+ characters with a 100+ character chunk repeated back to back),
  ``truncated`` and ``too_long`` (from LLMStage). The refused ``answer`` is kept.
- dead letter: engine errors, and anything that raises.

Counters: ``sgcr.kept``, ``sgcr.<reason>``, ``sgcr.dead_letter``.
"""

from __future__ import annotations

from beam_swallow.inference.base import ChatResult
from beam_swallow.languages import PYTHON
from beam_swallow.languages.parsing import compile_verdict
from beam_swallow.records import Reason, Record, Reject
from beam_swallow.transforms.layouts import SGCR_GRAMMAR
from beam_swallow.transforms.parse import parse_sgcr
from beam_swallow.transforms.repetition import has_long_repeat
from beam_swallow.transforms.rewriting import RewriteConfig, RewriteStage, refused, rewritten

__all__ = ["STAGE", "Sgcr", "judge_sgcr"]

STAGE = "sgcr"


def judge_sgcr(record: Record, result: ChatResult, cfg: RewriteConfig) -> Record | Reject:
    """Keep the improved code as the new text, or reject the answer with a reason."""
    answer = parse_sgcr(result.text or "")
    if answer.code is None or has_long_repeat(answer.code):
        reason = Reason.NO_CODE_BLOCK if answer.code is None else Reason.REPETITION
        return Reject(reason, {"sgcr_score": answer.score, **refused(result.text)})
    out = rewritten(record, STAGE, cfg, answer.code)
    out["sgcr_score"] = answer.score
    out["suggestions"] = answer.suggestions
    out["sgcr_compiles"] = compile_verdict(answer.code)[0] is None
    return out


class Sgcr(RewriteStage):
    """The sgcr stage: ``Sgcr(engine, cfg)`` is a PTransform returning a StageResult."""

    stage = STAGE
    grammar = SGCR_GRAMMAR
    languages = frozenset({PYTHON.name})  # the paper's prompt and rules are Python's
    judge = staticmethod(judge_sgcr)
