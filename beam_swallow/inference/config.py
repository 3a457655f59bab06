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
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from beam_swallow.inference.base import ChatRequest, Message, SamplingParams

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "EMBEDDED_MAX_TOKENS",
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

# Prompts per RunInference batch when --batch_size is unset. vLLM batches
# internally (the paper sends 2,048 prompts per call); llama.cpp answers one
# prompt at a time, so small batches keep results flowing; a server's
# concurrency is bounded by --max_concurrency, not by the batch.
DEFAULT_BATCH_SIZE = {"embedded": 8, "openai": 64, "vllm": 2048}


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
    """

    engine: str = "embedded"
    model: str | None = None
    endpoint: str | None = None
    api_key_env: str | None = None
    max_concurrency: int = 8
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

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; known: {', '.join(ENGINES)}")
        if self.engine == "openai" and not self.endpoint:
            raise ValueError("the openai engine needs --endpoint (e.g. http://127.0.0.1:8000/v1)")
        if self.engine in ("openai", "vllm") and not self.model:
            raise ValueError(f"the {self.engine} engine needs --model")
        if self.max_concurrency < 1 or self.retries < 0 or self.request_timeout <= 0:
            raise ValueError("max_concurrency >= 1, retries >= 0 and request_timeout > 0 please")
        if self.model_copies < 1:
            raise ValueError("model_copies must be positive")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError("batch_size must be positive")

    @property
    def max_batch_size(self) -> int:
        """Prompts per RunInference batch: ``batch_size`` or the engine's default."""
        return self.batch_size or DEFAULT_BATCH_SIZE[self.engine]

    @property
    def model_label(self) -> str:
        """The model as stamped on records: the flag's value or the embedded default."""
        return self.model or "SmolLM2-135M-Instruct.Q4_1.gguf"

    def request(
        self,
        record_id: str,
        messages: list[Message] | tuple[Message, ...],
        grammar: str | None = None,
    ) -> ChatRequest:
        """A request for one record with this engine's sampling settings, constrained
        to ``grammar`` (GBNF) when one is given."""
        return ChatRequest(
            id=record_id, messages=tuple(messages), sampling=self.sampling, grammar=grammar
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
