"""Stage ``math_rewrite`` of the math pipeline: the SwallowMath one-shot rewrite.

The prompt (``math_rewrite``) casts the model as a tutor who strips a scraped page of
its residue (dates, cookie notices, navigation, chatter), keeps the question
and answer, restores lost context and writes a concise step-by-step solution;
one example page and its rewrite follow, then the record's page. The answer is
kept whole as the new text, as in the paper.

- kept: ``text`` is the answer; the provenance of
  :mod:`~beam_swallow.transforms.rewriting`.
- rejected: ``too_long``: the prompt (every turn, page included) is longer
  than ``--max_prompt_chars`` (paper 102,688) and is never sent, or does not
  fit the model's context; ``too_short``: an answer of at most
  ``--too_short_chars`` (paper 50) characters, stripped; ``truncated``.
- dead letter: engine errors, and anything that raises.

Counters: ``math_rewrite.kept``, ``math_rewrite.<reason>``,
``math_rewrite.dead_letter``.
"""

from __future__ import annotations

from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.transforms.rewriting import (
    RewriteConfig,
    RewriteStage,
    build_request,
    refused,
    rewritten,
)

__all__ = ["STAGE", "MathRewrite", "build_math_request", "judge_math"]

STAGE = "math_rewrite"


def build_math_request(
    record: Record, engine: EngineConfig, cfg: RewriteConfig
) -> ChatRequest | Reject:
    """The one-shot request, or ``too_long`` when the whole prompt exceeds the limit."""
    prompt_chars = cfg.prompt.chars + len(record[TEXT])
    if cfg.max_prompt_chars is not None and prompt_chars > cfg.max_prompt_chars:
        return Reject(Reason.TOO_LONG, {"prompt_chars": prompt_chars})
    return build_request(record, engine, cfg)


def judge_math(record: Record, result: ChatResult, cfg: RewriteConfig) -> Record | Reject:
    """Keep the whole answer as the new text unless it is too short to be one."""
    answer = result.text or ""
    if len(answer.strip()) <= cfg.short_chars:
        return Reject(Reason.TOO_SHORT, refused(answer))
    return rewritten(record, STAGE, cfg, answer)


class MathRewrite(RewriteStage):
    """The math_rewrite stage: ``MathRewrite(engine, cfg)`` is a PTransform returning a
    StageResult."""

    stage = STAGE
    judge = staticmethod(judge_math)
    build = staticmethod(build_math_request)
