"""What the three rewriting stages (sgcr, scor, math_rewrite) share.

Each stage is a :class:`RewriteStage`: an :class:`~beam_swallow.transforms.llm.LLMStage`
given two plain functions, one turning a record into a chat request (the
prompt's turns, then the record's text as the user turn), one judging the
answer. This module holds their common parts: the stage config, the request
builder (which fills the prompt's ``{language}`` and ``{fence}`` with the
record's language, :func:`prompt_fields`), :func:`refused` (what a rejected
answer keeps) and :func:`rewritten`, which puts a rewrite in place of the text
while keeping the way back to the original.

Provenance on every record a rewriting stage lets out (stamped by LLMStage):
``generation[<stage>]`` with engine, model, sampling settings, token counts and
``prompt_sha``, the SHA-256 of the prompt file. Kept records also carry
``original_sha1``, the SHA-1 of the text before the first rewrite (the same
hash as a record id derived from text), set once and never overwritten, and
``original_text``, that text itself, with ``--keep_original``; with it too,
``text_before[<stage>]``: the text each later rewriting stage was given (scor's
is sgcr's rewrite), so every rewrite can be shown as a diff (``beam-swallow
inspect``).

The record's ``id`` never changes, so outputs join back to inputs by id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.handler import ChatModelHandler
from beam_swallow.languages import Language
from beam_swallow.languages.routing import record_language
from beam_swallow.prompts import Prompt
from beam_swallow.records import ID, TEXT, Record, Reject, text_id
from beam_swallow.transforms.llm import LLMStage

__all__ = [
    "ANSWER_CLIP",
    "MAX_PROMPT_CHARS",
    "SHORT_CHARS",
    "RewriteConfig",
    "RewriteStage",
    "build_request",
    "prompt_fields",
    "refused",
    "rewritten",
]

SHORT_CHARS = 50  # paper: rewrites of <= 50 characters are dropped
MAX_PROMPT_CHARS = 102_688  # paper: longer math prompts are skipped
ANSWER_CLIP = 20_000  # characters of a refused answer kept on its rejected record


@dataclass(frozen=True)
class RewriteConfig:
    """A rewriting stage's settings besides the engine.

    ``short_chars``: answers (scor code, math text) of at most this many
    characters, stripped, are rejected ``too_short`` (paper: 50).
    ``max_prompt_chars``: math prompts longer than this, all turns included,
    are rejected ``too_long`` unsent (paper: :data:`MAX_PROMPT_CHARS`); ``None``
    for no limit (the code stages send any prompt the model's context holds).
    ``grammar``: the GBNF grammar each answer is decoded under (the stage's
    layout from :mod:`~beam_swallow.transforms.layouts`, with ``--structured
    on``); ``None`` generates unconstrained, as the paper did.
    ``record_pairs``: a folder for the stage's (prompt, answer) lines
    (``--record_pairs``, :mod:`~beam_swallow.transforms.pairs`); ``None``: none.
    """

    prompt: Prompt
    keep_original: bool = False
    keep_uncompilable: bool = False
    short_chars: int = SHORT_CHARS
    max_prompt_chars: int | None = None
    grammar: str | None = None
    record_pairs: str | None = None

    def __post_init__(self) -> None:
        if self.short_chars < 0:
            raise ValueError(f"too_short_chars must be >= 0, got {self.short_chars}")
        if self.max_prompt_chars is not None and self.max_prompt_chars < 1:
            raise ValueError(f"max_prompt_chars must be positive, got {self.max_prompt_chars}")


def prompt_fields(language: Language) -> dict[str, str]:
    """What a prompt's placeholders stand for: ``{language}`` the language's name,
    ``{fence}`` the first of its code-fence tags (``C++`` -> ``cpp``)."""
    return {"language": language.name, "fence": language.fences[0]}


def build_request(record: Record, engine: EngineConfig, cfg: RewriteConfig) -> ChatRequest:
    """The prompt's turns (naming the record's language where they say ``{language}``),
    then the record's text as the user turn, under the stage's grammar when it has
    one (the text also sizes ``max_tokens`` under ``--max_tokens_ratio``)."""
    text = record[TEXT]
    fields = prompt_fields(record_language(record)) if cfg.prompt.names_language else None
    messages = cfg.prompt.messages(text, fields)
    return engine.request(record[ID], messages, cfg.grammar, source=text)


def refused(answer: str | None) -> dict[str, Any]:
    """What a rejected answer's record keeps: the answer (clipped), for inspection."""
    return {"answer": (answer or "")[:ANSWER_CLIP]}


def rewritten(record: Record, stage: str, cfg: RewriteConfig, text: str) -> Record:
    """A copy of ``record`` whose text is ``text``, with the way back to the original."""
    out = dict(record)
    if cfg.keep_original:
        out.setdefault("original_text", record[TEXT])
        if "original_sha1" in record:  # rewritten before: keep what this stage was given
            out["text_before"] = {**record.get("text_before", {}), stage: record[TEXT]}
    out.setdefault("original_sha1", text_id(record[TEXT]))
    out[TEXT] = text
    return out


class RewriteStage(LLMStage):
    """A rewriting stage: a subclass names its ``stage`` and its ``judge``.

    ``judge(record, result, cfg)`` keeps or rejects each answer;
    ``build(record, engine, cfg)`` makes each request (default
    :func:`build_request`); ``grammar`` is the answer layout that structured
    generation enforces (None: free text).
    """

    stage: ClassVar[str]
    grammar: ClassVar[str | None] = None
    languages: ClassVar[frozenset[str] | None] = None  # None: every language
    judge: ClassVar[Callable[[Record, ChatResult, RewriteConfig], Record | Reject]]
    build: ClassVar[Callable[[Record, EngineConfig, RewriteConfig], ChatRequest | Reject]] = (
        staticmethod(build_request)
    )

    def __init__(
        self, engine: EngineConfig, cfg: RewriteConfig, *, handler: ChatModelHandler | None = None
    ):
        super().__init__(
            self.stage,
            engine,
            partial(type(self).build, engine=engine, cfg=cfg),
            partial(type(self).judge, cfg=cfg),
            provenance={"prompt_sha": cfg.prompt.sha},
            handler=handler,
            record_pairs=cfg.record_pairs,
        )
