"""What the three rewriting stages (sgcr, scor, math) share.

Each stage is an :class:`~beam_swallow.inference.stage.LLMStage` given two plain
functions: one turning a record into a chat request (the prompt's turns, then
the record's text as the user turn), one judging the answer. This module holds
their common parts: the stage config, :func:`rewrite_stage` that wires the
two functions into an LLMStage, the request builder, :func:`refused`, what a
rejected answer keeps, and :func:`rewritten`, which puts a rewrite in place of
the text while keeping the way back to the original.

Provenance on every record a rewriting stage keeps:

- ``generation[<stage>]``: engine, model, sampling settings and token counts
  (stamped by LLMStage) plus ``prompt_sha``, the SHA-256 of the prompt file;
- ``original_sha1``: the SHA-1 of the text before the first rewrite (the same
  hash as a record id derived from text), set once and never overwritten;
- ``original_text``: that text itself, with ``--keep_original``;
- ``text_before[<stage>]``: with ``--keep_original``, the text each later
  rewriting stage was given (scor's is sgcr's rewrite), so every rewrite can
  be shown as a diff (``beam-swallow inspect``).

The record's ``id`` never changes, so outputs join back to inputs by id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from beam_swallow.inference.base import ChatRequest
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.stage import LLMStage
from beam_swallow.prompts import Prompt, load_prompt
from beam_swallow.records import ID, TEXT, Record, Reject, text_id

__all__ = [
    "ANSWER_CLIP",
    "MAX_PROMPT_CHARS",
    "SHORT_CHARS",
    "RewriteConfig",
    "build_request",
    "refused",
    "rewrite_stage",
    "rewritten",
    "with_prompt_sha",
]

SHORT_CHARS = 50  # paper: rewrites of <= 50 characters are dropped
MAX_PROMPT_CHARS = 102_688  # paper: longer math prompts are skipped
ANSWER_CLIP = 20_000  # characters of a refused answer kept on its rejected record


@dataclass(frozen=True)
class RewriteConfig:
    """A rewriting stage's settings besides the engine; built once from the options."""

    prompt: Prompt
    keep_original: bool = False
    keep_uncompilable: bool = False
    short_chars: int = SHORT_CHARS
    max_prompt_chars: int | None = None

    @classmethod
    def from_options(cls, opts: Any, prompt_name: str) -> RewriteConfig:
        """The config for the stage using prompt ``prompt_name`` (sgcr, scor or math)."""
        return cls(
            prompt=load_prompt(prompt_name, getattr(opts, f"{prompt_name}_prompt")),
            keep_original=opts.keep_original,
            keep_uncompilable=opts.keep_uncompilable,
            short_chars=opts.too_short_chars,
            max_prompt_chars=opts.max_prompt_chars if prompt_name == "math" else None,
        )


def build_request(record: Record, engine: EngineConfig, cfg: RewriteConfig) -> ChatRequest:
    """The prompt's turns, then the record's text as the user turn."""
    return engine.request(record[ID], cfg.prompt.messages(record[TEXT]))


def with_prompt_sha(record: Record, stage: str, cfg: RewriteConfig) -> dict[str, Any]:
    """The record's ``generation`` dict with ``prompt_sha`` added under ``stage``."""
    generation = dict(record.get("generation") or {})
    generation[stage] = {**generation.get(stage, {}), "prompt_sha": cfg.prompt.sha}
    return generation


def refused(record: Record, stage: str, cfg: RewriteConfig, answer: str | None) -> dict[str, Any]:
    """What a rejected answer's record keeps: the answer (clipped), for inspection,
    and the prompt's provenance."""
    return {
        "answer": (answer or "")[:ANSWER_CLIP],
        "generation": with_prompt_sha(record, stage, cfg),
    }


def rewritten(record: Record, stage: str, cfg: RewriteConfig, text: str) -> Record:
    """A copy of ``record`` whose text is ``text``, with its provenance."""
    out = dict(record)
    if cfg.keep_original:
        out.setdefault("original_text", record[TEXT])
        if "original_sha1" in record:  # rewritten before: keep what this stage was given
            out["text_before"] = {**record.get("text_before", {}), stage: record[TEXT]}
    out.setdefault("original_sha1", text_id(record[TEXT]))
    out[TEXT] = text
    out["generation"] = with_prompt_sha(record, stage, cfg)
    return out


def rewrite_stage(
    stage: str,
    engine: EngineConfig,
    cfg: RewriteConfig,
    judge: Callable[..., Record | Reject],
    build: Callable[..., ChatRequest | Reject] = build_request,
) -> LLMStage:
    """A rewriting stage: ``build(record, engine=, cfg=)`` makes each request,
    ``judge(record, result, cfg=)`` keeps or rejects each answer."""
    return LLMStage(stage, engine, partial(build, engine=engine, cfg=cfg), partial(judge, cfg=cfg))
