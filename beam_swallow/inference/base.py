"""The contract between rewriting stages and the engines that answer them.

A stage turns each record into a :class:`ChatRequest` (record id, chat
messages, sampling settings); an engine answers each request with a
:class:`ChatResult`: the text, why generation stopped, token counts, or a
per-request error. One failing request never fails the others of its batch.

``finish_reason`` values:

- ``"stop"``: the model finished its answer.
- ``"length"``: generation hit ``max_tokens`` (the stage rejects it ``truncated``).
- ``"too_long"``: the prompt does not fit the model's context; it was never sent
  (the stage rejects it ``too_long``).
- ``None`` with ``error`` set: the request failed (the stage dead-letters it).

Structured generation: a request may carry ``grammar``, a GBNF grammar (the
notation of llama.cpp, which vLLM's and SGLang's grammar backends read too)
that the answer must match; the engine enforces it while decoding, so a
finished answer always has the layout the stage's parser reads. The result's
``structured`` says whether the constraint was applied (an OpenAI-compatible
server may refuse it; the request is then answered unconstrained).

Speculative decoding (:mod:`.speculative`): a server that reports it per
request (vLLM with ``--per-request-spec-decode-metrics``) gives each answer its
``spec_drafts`` (steps that verified a proposal), ``spec_draft_tokens``
(tokens proposed) and ``spec_accepted_tokens`` (proposed tokens kept); all 0
when it does not. Each engine step emits one token of its own plus the
accepted ones, so the engine took ``completion_tokens - spec_accepted_tokens``
steps for the answer. ``token_ids`` and ``prompt_token_ids`` are the answer's
and prompt's tokens where the server returned them (``--record_pairs`` on the
vllm engine), else None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Message",
    "SamplingParams",
    "ChatRequest",
    "ChatResult",
    "FINISH_LENGTH",
    "FINISH_TOO_LONG",
]

FINISH_LENGTH = "length"
FINISH_TOO_LONG = "too_long"


@dataclass(frozen=True)
class Message:
    """One chat turn."""

    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings; defaults are the paper's (Llama-3.3-70B on vLLM)."""

    temperature: float = 0.2
    top_p: float = 0.7
    max_tokens: int = 8192
    seed: int | None = None
    # 1.0 = no penalty, as in the paper; values > 1 discourage repeating tokens.
    repetition_penalty: float = 1.0


@dataclass(frozen=True)
class ChatRequest:
    """What a stage asks: one conversation for one record."""

    id: str
    messages: tuple[Message, ...]
    sampling: SamplingParams = field(default_factory=SamplingParams)
    grammar: str | None = None  # GBNF the answer must match; None: unconstrained


@dataclass(frozen=True)
class ChatResult:
    """What an engine answers for one request."""

    id: str
    text: str | None
    finish_reason: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error_type: str | None = None
    error: str | None = None
    structured: bool = False  # the request's grammar was enforced while decoding
    spec_drafts: int = 0
    spec_draft_tokens: int = 0
    spec_accepted_tokens: int = 0
    token_ids: tuple[int, ...] | None = None
    prompt_token_ids: tuple[int, ...] | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def speculated(self) -> bool:
        """The server reported speculation for this answer (it proposed at least once)."""
        return self.spec_drafts > 0
