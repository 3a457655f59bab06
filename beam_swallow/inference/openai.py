"""Engine ``openai``: any OpenAI-compatible chat server (vLLM, SGLang, TGI, llama.cpp).

Requests go to ``POST {endpoint}/chat/completions``, at most
``max_concurrency`` in flight per worker process, each with a timeout.
Connection errors, timeouts, HTTP 429 and 5xx are retried with exponential
backoff and jitter (tenacity), ``retries`` times; other 4xx are not retried.
When retries run out, or a 4xx comes back, the request's result carries the
error and the stage dead-letters that record only.

Too long prompts: the server measures the prompt with its own tokenizer before
generating and refuses it with HTTP 400 (OpenAI's ``context_length_exceeded``;
vLLM and llama.cpp's server say "maximum context length"); that answer becomes
finish_reason ``too_long``, so the stage rejects the record instead of
dead-lettering it. An API key, when needed, is read from the environment
variable that ``api_key_env`` names, never from a flag.

Structured generation: a request's grammar is sent in the fields each server
reads, all at once, since a server ignores the fields it does not know:
``grammar`` (llama.cpp's server, and llama-cpp-python's), ``structured_outputs:
{"grammar": ...}`` (vLLM >= 0.11) and ``ebnf`` (SGLang). A server that refuses
them (HTTP 400 or 422 to a request with a grammar, e.g. OpenAI's own API, which
rejects unknown fields) is asked again without them, and from then on this
client sends no grammar: those answers are generated unconstrained and the
stage's parser reads them as the paper's did (``structured`` false in their
provenance).

Extra counters (see handler.py for the rest): ``retries``, and
``structured_refused``: requests with a grammar answered without it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from apache_beam.metrics import Metrics

from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.handler import Answer, ChatModelHandler, error_result, too_long_result

__all__ = ["OpenAIClient", "OpenAIHandler", "grammar_fields", "is_context_overflow"]

_OVERFLOW = re.compile(r"context_length_exceeded|maximum context length|context window", re.I)
_PROMPT_TOKENS = re.compile(r"(\d+) in the messages")


def is_context_overflow(status: int, body: str) -> bool:
    """Whether an error answer means the prompt does not fit the model's context."""
    return status == 400 and bool(_OVERFLOW.search(body))


def _retryable(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, httpx.TransportError):  # connect, read, write, timeout, protocol
        return True
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return status == 429 or status >= 500
    return False


_REFUSED_FIELDS = (400, 422)


def grammar_fields(grammar: str) -> dict[str, Any]:
    """The request fields that carry a GBNF grammar to llama.cpp, vLLM and SGLang servers."""
    return {"grammar": grammar, "structured_outputs": {"grammar": grammar}, "ebnf": grammar}


@dataclass
class OpenAIClient:
    """An HTTP client and a bounded pool of request threads.

    ``structured`` turns False, for good, once the server refuses grammar fields.
    """

    config: EngineConfig
    http: Any  # httpx.Client
    pool: ThreadPoolExecutor
    structured: bool = True

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post("chat/completions", json=body)
        response.raise_for_status()
        return response.json()

    def body(self, request: ChatRequest, structured: bool) -> dict[str, Any]:
        """The JSON body for ``request``, with its grammar fields when ``structured``."""
        sampling = request.sampling
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
        }
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        if sampling.repetition_penalty != 1.0:
            # not an OpenAI field: vLLM and SGLang servers read it as an extra parameter
            body["repetition_penalty"] = sampling.repetition_penalty
        if structured and request.grammar:
            body.update(grammar_fields(request.grammar))
        body.update(self.config.engine_kwargs)
        return body

    def _send(self, request: ChatRequest, retrying: Any) -> ChatResult:
        """Post with retries; ask again without the grammar if the server refuses it."""
        import httpx

        structured = self.structured and request.grammar is not None
        try:
            payload = retrying(self._post, self.body(request, structured))
        except httpx.HTTPStatusError as exc:
            status, text = exc.response.status_code, exc.response.text
            if not structured or status not in _REFUSED_FIELDS or is_context_overflow(status, text):
                raise
            self.structured = structured = False
            payload = retrying(self._post, self.body(request, structured))
        return _parse(request, payload, structured)

    def chat(self, request: ChatRequest) -> tuple[ChatResult, float, int]:
        """Send one request with retries: (result, latency_ms, retries); never raises."""
        import httpx
        import tenacity

        start = time.perf_counter()
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_retryable),
            stop=tenacity.stop_after_attempt(self.config.retries + 1),
            wait=tenacity.wait_random_exponential(multiplier=0.5, max=self.config.retry_max_wait),
            reraise=True,
        )
        try:
            result = self._send(request, retrying)
        except httpx.HTTPStatusError as exc:
            status, text = exc.response.status_code, exc.response.text
            if is_context_overflow(status, text):
                found = _PROMPT_TOKENS.search(text)
                result = too_long_result(request, int(found.group(1)) if found else 0)
            else:
                result = error_result(request, f"HTTP {status}: {text[:1000]}", "HTTPStatusError")
        except Exception as exc:  # retries ran out, or the answer was malformed
            result = error_result(request, exc)
        retries = retrying.statistics.get("attempt_number", 1) - 1
        return result, (time.perf_counter() - start) * 1000.0, retries


def _parse(request: ChatRequest, payload: dict[str, Any], structured: bool) -> ChatResult:
    choice = payload["choices"][0]
    usage = payload.get("usage") or {}
    return ChatResult(
        id=request.id,
        text=choice["message"].get("content") or "",
        finish_reason=choice.get("finish_reason") or "stop",
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        structured=structured,
    )


def load_client(config: EngineConfig) -> OpenAIClient:
    import httpx

    headers = {}
    if config.api_key_env:
        key = os.environ.get(config.api_key_env)
        if not key:
            raise RuntimeError(f"environment variable {config.api_key_env} (the API key) is unset")
        headers["Authorization"] = f"Bearer {key}"
    http = httpx.Client(
        base_url=config.endpoint.rstrip("/") + "/",
        headers=headers,
        timeout=config.request_timeout,
        limits=httpx.Limits(max_connections=config.max_concurrency),
    )
    pool = ThreadPoolExecutor(config.max_concurrency, thread_name_prefix="openai")
    return OpenAIClient(config=config, http=http, pool=pool)


class OpenAIHandler(ChatModelHandler[OpenAIClient]):
    """RunInference handler for an OpenAI-compatible server: one client per process."""

    def load_model(self) -> OpenAIClient:
        return load_client(self.config)

    def answer(self, batch: Sequence[ChatRequest], model: OpenAIClient) -> list[Answer]:
        sent = list(model.pool.map(model.chat, batch))
        namespace = self.get_metrics_namespace()
        Metrics.counter(namespace, "retries").inc(sum(r for *_, r in sent))
        Metrics.counter(namespace, "structured_refused").inc(
            sum(
                bool(request.grammar) and not result.failed and not result.structured
                for request, (result, *_) in zip(batch, sent, strict=True)
            )
        )
        return [(result, latency) for result, latency, _ in sent]
