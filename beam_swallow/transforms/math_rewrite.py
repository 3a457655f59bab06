"""Stage ``rewrite`` of the math pipeline: the SwallowMath one-shot rewrite.

The prompt (``math``) casts the model as a tutor who strips a scraped page of
its residue (dates, cookie notices, navigation, chatter), keeps the question
and answer, restores lost context and writes a concise step-by-step solution;
one example page and its rewrite follow, then the record's page. The answer is
kept whole as the new text, as in the paper.

- kept: ``text`` is the answer; the provenance of
  :mod:`~beam_swallow.transforms.rewrite`.
- rejected: ``too_long``: the prompt (every turn, page included) is longer
  than ``--max_prompt_chars`` (paper 102,688) and is never sent, or does not
  fit the model's context; ``too_short``: an answer of at most
  ``--too_short_chars`` (paper 50) characters, stripped; ``truncated``.
- dead letter: engine errors, and anything that raises.

Counters: ``rewrite.kept``, ``rewrite.<reason>``, ``rewrite.dead_letter``.
"""

from __future__ import annotations

from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.stage import LLMStage
from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.transforms.rewrite import (
    RewriteConfig,
    build_request,
    refused,
    rewrite_stage,
    rewritten,
    with_prompt_sha,
)

__all__ = ["STAGE", "build_math_request", "judge_math", "math_stage"]

STAGE = "rewrite"


def build_math_request(
    record: Record, engine: EngineConfig, cfg: RewriteConfig
) -> ChatRequest | Reject:
    """The one-shot request, or ``too_long`` when the whole prompt exceeds the limit."""
    prompt_chars = cfg.prompt.chars + len(record[TEXT])
    if cfg.max_prompt_chars is not None and prompt_chars > cfg.max_prompt_chars:
        return Reject(
            Reason.TOO_LONG,
            {"prompt_chars": prompt_chars, "generation": with_prompt_sha(record, STAGE, cfg)},
        )
    return build_request(record, engine, cfg)


def judge_math(record: Record, result: ChatResult, cfg: RewriteConfig) -> Record | Reject:
    """Keep the whole answer as the new text unless it is too short to be one."""
    answer = result.text or ""
    if len(answer.strip()) <= cfg.short_chars:
        return Reject(Reason.TOO_SHORT, refused(record, STAGE, cfg, answer))
    return rewritten(record, STAGE, cfg, answer)


def math_stage(engine: EngineConfig, cfg: RewriteConfig) -> LLMStage:
    """The math rewrite stage as a PTransform returning a StageResult."""
    return rewrite_stage(STAGE, engine, cfg, judge_math, build=build_math_request)
