"""Engine ``openai``: any OpenAI-compatible chat server (vLLM, SGLang, TGI, llama.cpp).

Requests go to ``POST {endpoint}/chat/completions`` from one event-loop thread
per worker process (:class:`OpenAIClient`), so a process keeps as many requests
in flight as the server can batch without a thread each. :meth:`OpenAIClient.submit`
returns at once with a future, and blocks only while the process already has
its limit in flight (``--max_concurrency``; :data:`DEFAULT_CONCURRENCY` when
unset): the LLM stage feeds the server continuously (see :mod:`.feed`) instead
of waiting for a whole batch to finish before sending the next.

Connection errors, timeouts, HTTP 429 and 5xx are retried with exponential
backoff and jitter (tenacity), ``retries`` times; other 4xx are not retried.
A client may be given a ``recover`` hook, called (in a thread, one caller at a
time) when the server stops answering: the ``vllm`` engine restarts its
machine's server there (see :mod:`.vllm`) and the request is sent again.
When retries run out, or a 4xx comes back, the request's result carries the
error and the stage dead-letters that record only.

Too long prompts: the server measures the prompt with its own tokenizer and
refuses it; :func:`~.overflow.prompt_overflow` reads each server's wording,
and the answer becomes finish_reason ``too_long`` with the prompt's token
count, so the stage rejects the record instead of dead-lettering it. An API
key, when needed, is read from the environment variable that ``api_key_env``
names, never from a flag.

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

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.handler import ConcurrentModelHandler, Sent, error_result
from beam_swallow.inference.overflow import prompt_overflow
from beam_swallow.inference.preflight import check_server

__all__ = ["DEFAULT_CONCURRENCY", "OpenAIClient", "OpenAIHandler", "grammar_fields"]

# Requests in flight per worker process when --max_concurrency is unset: vLLM's server runs
# up to 256 sequences at once (its default max_num_seqs), so four worker processes keep its
# slots full; a server with fewer slots queues the rest, which costs nothing but waiting.
DEFAULT_CONCURRENCY = 64

_REFUSED_FIELDS = (400, 422)

# Recover(url that failed) -> base URL to use from now on; blocking, may take minutes.
Recover = Callable[[str], str]


def _retryable(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, httpx.TransportError):  # connect, read, write, timeout, protocol
        return True
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return status == 429 or status >= 500
    return False


def grammar_fields(grammar: str) -> dict[str, Any]:
    """The request fields that carry a GBNF grammar to llama.cpp, vLLM and SGLang servers."""
    return {"grammar": grammar, "structured_outputs": {"grammar": grammar}, "ebnf": grammar}


class OpenAIClient:
    """One worker process's connection to a server: an event loop thread, a bound on
    requests in flight, retries, and the grammar fallback.

    ``limit()`` is read whenever a request waits for room, so the bound may change
    while the client runs (the vllm engine shares its server's slots among the
    processes that use it). ``structured`` turns False, for good, once the server
    refuses grammar fields.
    """

    def __init__(
        self,
        config: EngineConfig,
        url: str,
        *,
        limit: Callable[[], int] | None = None,
        recover: Recover | None = None,
    ):
        self.config = config
        self.url = url.rstrip("/")
        self.structured = True
        fixed = config.max_concurrency or DEFAULT_CONCURRENCY
        self._limit = limit or (lambda: fixed)
        self._recover = recover
        self._headers = config.auth_headers()
        self._room = threading.Condition()
        self._in_flight = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="openai")
        self._thread.start()
        self._http: Any = None  # httpx.AsyncClient, made on the loop
        self._recovering: asyncio.Lock | None = None

    def submit(self, request: ChatRequest) -> Future[Sent]:
        """Send ``request``; the future gives (result, latency_ms, retries) and never fails
        for the request's own error. Blocks while the process has its limit in flight."""
        with self._room:
            # Woken by each answer; the timeout only re-reads a limit that may have grown.
            while self._in_flight >= max(1, self._limit()):
                self._room.wait(timeout=1.0)
            self._in_flight += 1
        future = asyncio.run_coroutine_threadsafe(self._chat(request), self._loop)
        future.add_done_callback(self._answered)
        return future

    def _answered(self, _: Future) -> None:
        with self._room:
            self._in_flight -= 1
            self._room.notify()

    def close(self) -> None:
        """Close the connections and stop the loop thread."""
        if self._http is not None:
            asyncio.run_coroutine_threadsafe(self._http.aclose(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    async def _client(self) -> Any:
        import httpx

        if self._http is None:
            self._http = httpx.AsyncClient(
                headers=self._headers,
                timeout=self.config.request_timeout,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
            )
            self._recovering = asyncio.Lock()
        return self._http

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        http = await self._client()
        url = self.url
        try:
            response = await http.post(f"{url}/chat/completions", json=body)
        except httpx.TransportError:
            await self._recovered(url)
            raise
        response.raise_for_status()
        return response.json()

    async def _recovered(self, failed: str) -> None:
        """Let ``recover`` bring the server back, once for all requests that saw it fail."""
        if self._recover is None or self._recovering is None:
            return
        async with self._recovering:
            if self.url == failed:  # nobody recovered since this request was sent
                self.url = (await asyncio.to_thread(self._recover, failed)).rstrip("/")

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
        body.update(self.config.request_kwargs)
        return body

    async def _send(self, request: ChatRequest, retrying: Any) -> ChatResult:
        """Post with retries; ask again without the grammar if the server refuses it."""
        import httpx

        structured = self.structured and request.grammar is not None
        try:
            payload = await retrying(self._post, self.body(request, structured))
        except httpx.HTTPStatusError as exc:
            status, text = exc.response.status_code, exc.response.text
            if not structured or status not in _REFUSED_FIELDS or prompt_overflow(status, text):
                raise
            self.structured = structured = False
            payload = await retrying(self._post, self.body(request, structured))
        return _parse(request, payload, structured)

    async def _chat(self, request: ChatRequest) -> Sent:
        import httpx
        import tenacity

        start = time.perf_counter()
        retries = 0

        def count(_: Any) -> None:  # tenacity's statistics are per thread, not per request
            nonlocal retries
            retries += 1

        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception(_retryable),
            stop=tenacity.stop_after_attempt(self.config.retries + 1),
            wait=tenacity.wait_random_exponential(multiplier=0.5, max=self.config.retry_max_wait),
            before_sleep=count,
            reraise=True,
        )
        try:
            result = await self._send(request, retrying)
        except httpx.HTTPStatusError as exc:
            status, text = exc.response.status_code, exc.response.text
            tokens = prompt_overflow(status, text)
            if tokens is not None:
                result = ChatResult(request.id, None, "too_long", prompt_tokens=tokens)
            else:
                result = error_result(request, f"HTTP {status}: {text[:1000]}", "HTTPStatusError")
        except Exception as exc:  # retries ran out, or the answer was malformed
            result = error_result(request, exc)
        return result, (time.perf_counter() - start) * 1000.0, retries


def _token_ids(value: Any) -> tuple[int, ...] | None:
    return tuple(int(t) for t in value) if isinstance(value, list) else None


def _parse(request: ChatRequest, payload: dict[str, Any], structured: bool) -> ChatResult:
    """A server's answer as a ChatResult. vLLM's per-request speculation counts
    (``metrics.speculative_decoding``: ``num_spec_steps``, ``num_draft_tokens``,
    ``num_accepted_draft_tokens``) and token ids (``return_token_ids``) are read
    where present."""
    choice = payload["choices"][0]
    usage = payload.get("usage") or {}
    spec = (payload.get("metrics") or {}).get("speculative_decoding") or {}
    return ChatResult(
        id=request.id,
        text=choice["message"].get("content") or "",
        finish_reason=choice.get("finish_reason") or "stop",
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        structured=structured,
        spec_drafts=int(spec.get("num_spec_steps") or 0),
        spec_draft_tokens=int(spec.get("num_draft_tokens") or 0),
        spec_accepted_tokens=int(spec.get("num_accepted_draft_tokens") or 0),
        token_ids=_token_ids(choice.get("token_ids")),
        prompt_token_ids=_token_ids(payload.get("prompt_token_ids")),
    )


class OpenAIHandler(ConcurrentModelHandler[OpenAIClient]):
    """RunInference handler for an OpenAI-compatible server: one client per process.

    ``load_model`` checks the server first (:func:`~.preflight.check_server`): a
    worker that cannot reach it, or whose ``max_tokens`` the server's context
    cannot hold, fails its bundle with that one error, so the runner's retries
    and job failure apply instead of every record becoming a dead letter.
    """

    def load_model(self) -> OpenAIClient:
        check_server(self.config)
        return OpenAIClient(self.config, self.config.endpoint or "")
