"""One frozen value that says which engine answers the LLM stages, and how.

Built once from the options (by :mod:`beam_swallow.pipelines.registry`) and
handed to the LLM stages; DoFns and model handlers never read options. Sampling
defaults are the paper's (temperature 0.2, top_p 0.7, max_tokens 8192; see
:meth:`EngineConfig.default_sampling`), except that the embedded engine's
``max_tokens`` defaults to
:data:`EMBEDDED_MAX_TOKENS`: its model is tiny and runs on CPU, and its 8,192
token context could not hold an 8,192 token answer next to any prompt, and its
``repetition_penalty`` defaults to :data:`EMBEDDED_REPETITION_PENALTY` (the
paper uses none).

``max_tokens_ratio`` (off by default, a departure from the paper when set) caps
each request's ``max_tokens`` in proportion to its input: ``ratio`` tokens of
answer per token of the text being rewritten, plus :data:`MAX_TOKENS_FLOOR`
for the score and suggestions around the code, never above ``max_tokens``. The
paper's rewrites average ~0.66x (SGCR) and ~1.5x (SCOR) of their input, so a
ratio of 2-3 truncates few answers while a runaway one stops early instead of
holding an engine slot for the full 8,192 tokens. Input tokens are counted with
the report's tokenizer (:mod:`.tokens`) where installed, else estimated as one
per :data:`CHARS_PER_TOKEN` characters.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from typing import Any

from beam_swallow.inference.base import ChatRequest, Message, SamplingParams
from beam_swallow.inference.speculative import SpeculativeConfig, suffix_unavailable

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_BATCH_SIZE",
    "EMBEDDED_MAX_TOKENS",
    "MAX_TOKENS_FLOOR",
    "ENGINES",
    "EngineConfig",
    "parse_engine_kwargs",
]

ENGINES = ("embedded", "openai", "vllm")

# A rewrite is about as long as the code it rewrites (SPEC: ~550-835 tokens per file).
EMBEDDED_MAX_TOKENS = 1024

# SmolLM2-135M loops on code until max_tokens at the paper's 1.0 (7 of 10 SGCR
# answers on the stdlib sample); 1.1 let 4 of 4 probed answers finish.
EMBEDDED_REPETITION_PENALTY = 1.1

# Requests per batch when --batch_size is unset. llama.cpp answers one prompt at a
# time, so small RunInference batches keep results flowing. The server engines are fed
# request by request (feed.py): their batch is only how many requests are ordered
# longest-first before they are sent, and what is in flight is bounded by
# --max_concurrency, not by the batch.
DEFAULT_BATCH_SIZE = {"embedded": 8, "openai": 64, "vllm": 256}

# --max_tokens_ratio: answer tokens always allowed on top of ratio x input tokens
# (an SGCR answer's score and suggestions come before its code).
MAX_TOKENS_FLOOR = 256
# Characters per token where no tokenizer is installed (code, Llama-3-like vocabularies).
CHARS_PER_TOKEN = 3.5


def parse_engine_kwargs(text: str | None) -> dict[str, Any]:
    """Parse ``--engine_kwargs``: a JSON object, or nothing."""
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(f"--engine_kwargs must be a JSON object, got {text!r}")
    return value


@dataclass(frozen=True)
class EngineConfig:
    """Which engine, which model, and how to call it.

    ``engine_kwargs`` go to the engine as they are: ``llama_cpp.Llama(...)`` for
    embedded, ``vllm.LLM(...)`` for vllm, and the JSON body of each request for
    openai (e.g. ``{"seed": 1}``). ``model_copies``: how many worker processes
    on one machine load their own embedded model, which share its cores out.
    ``speculative``: the vllm engine's server speculates (:mod:`.speculative`);
    the other engines refuse it (an openai server is started by its owner, with
    the flags docs/engines.md gives). ``return_token_ids``: ask the server for
    the prompt's and answer's token ids (vLLM's ``return_token_ids``), which
    ``--record_pairs`` keeps; the vllm engine only, since other servers may
    refuse the field.
    """

    engine: str = "embedded"
    model: str | None = None
    endpoint: str | None = None
    api_key_env: str | None = None
    max_concurrency: int | None = None
    request_timeout: float = 600.0
    retries: int = 6
    retry_max_wait: float = 30.0
    sampling: SamplingParams = field(
        default_factory=lambda: EngineConfig.default_sampling("embedded")
    )
    batch_size: int | None = None
    max_model_len: int | None = None
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    dtype: str = "auto"
    engine_kwargs: dict[str, Any] = field(default_factory=dict)
    model_copies: int = 1
    max_tokens_ratio: float | None = None
    start_timeout: float = 1800.0
    speculative: SpeculativeConfig = field(default_factory=SpeculativeConfig)
    return_token_ids: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; known: {', '.join(ENGINES)}")
        if self.engine == "openai" and not self.endpoint:
            raise ValueError("the openai engine needs --endpoint (e.g. http://127.0.0.1:8000/v1)")
        if self.engine in ("openai", "vllm") and not self.model:
            raise ValueError(f"the {self.engine} engine needs --model")
        if (self.max_concurrency or 1) < 1 or self.retries < 0 or self.request_timeout <= 0:
            raise ValueError("max_concurrency >= 1, retries >= 0 and request_timeout > 0 please")
        if self.max_tokens_ratio is not None and self.max_tokens_ratio <= 0:
            raise ValueError("--max_tokens_ratio must be positive")
        if self.model_copies < 1:
            raise ValueError("model_copies must be positive")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError("batch_size must be positive")
        if self.speculative.enabled:
            self._check_speculative()

    def _check_speculative(self) -> None:
        if self.engine != "vllm":
            raise ValueError(
                f"--speculative is the vllm engine's server setting; the {self.engine} engine "
                "cannot set it (an openai server speculates with its own flags: docs, LLM engines)"
            )
        if "speculative_config" in self.engine_kwargs:
            raise ValueError("speculation set twice: --speculative and --engine_kwargs")
        if self.speculative.method == "suffix" and (reason := suffix_unavailable()):
            raise ValueError(reason)

    @property
    def max_batch_size(self) -> int:
        """Prompts per RunInference batch: ``batch_size`` or the engine's default."""
        return self.batch_size or DEFAULT_BATCH_SIZE[self.engine]

    @property
    def model_label(self) -> str:
        """The model as stamped on records: the flag's value or the embedded default."""
        return self.model or "SmolLM2-135M-Instruct.Q4_1.gguf"

    @property
    def request_kwargs(self) -> dict[str, Any]:
        """Fields added to each request's JSON body: ``engine_kwargs`` for ``openai``
        (the vllm engine's kwargs configure its server instead), and vLLM's
        ``return_token_ids`` when asked for."""
        if self.engine == "openai":
            return self.engine_kwargs
        return {"return_token_ids": True} if self.return_token_ids else {}

    @property
    def server_kwargs(self) -> dict[str, Any]:
        """The vllm engine's server flags beyond the named ones: ``engine_kwargs`` and
        the speculation setting."""
        return {**self.engine_kwargs, **self.speculative.server_kwargs()}

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header for ``api_key_env``; RuntimeError if that variable is unset."""
        if not self.api_key_env:
            return {}
        key = os.environ.get(self.api_key_env)
        if not key:
            raise RuntimeError(f"environment variable {self.api_key_env} (the API key) is unset")
        return {"Authorization": f"Bearer {key}"}

    def request(
        self,
        record_id: str,
        messages: list[Message] | tuple[Message, ...],
        grammar: str | None = None,
        source: str | None = None,
    ) -> ChatRequest:
        """A request for one record with this engine's sampling settings, constrained
        to ``grammar`` (GBNF) when one is given; ``source`` is the text being
        rewritten, whose length caps ``max_tokens`` under ``max_tokens_ratio``."""
        sampling = self.sampling
        if self.max_tokens_ratio is not None and source is not None:
            cap = MAX_TOKENS_FLOOR + math.ceil(self.max_tokens_ratio * _count_tokens(source))
            sampling = replace(sampling, max_tokens=min(sampling.max_tokens, cap))
        return ChatRequest(
            id=record_id, messages=tuple(messages), sampling=sampling, grammar=grammar
        )

    @staticmethod
    def default_sampling(engine: str) -> SamplingParams:
        """The sampling an engine gets when no flag says otherwise: the paper's,
        with the embedded engine's own ``max_tokens`` and ``repetition_penalty``."""
        if engine == "embedded":
            return SamplingParams(
                max_tokens=EMBEDDED_MAX_TOKENS, repetition_penalty=EMBEDDED_REPETITION_PENALTY
            )
        return SamplingParams()


def _count_tokens(text: str) -> int:
    """Tokens in ``text`` by the report's tokenizer, or estimated from its length."""
    from beam_swallow.inference.tokens import load_tokenizer, tokenizer_available

    if tokenizer_available():
        return load_tokenizer().count(text)
    return math.ceil(len(text) / CHARS_PER_TOKEN)
