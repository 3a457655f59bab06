"""Checks that stop a run which cannot succeed before it reads a record.

A failure every request would share (no server at ``--endpoint``, a refused API
key, a model the server does not serve, a ``--max_tokens`` that the model's
context cannot hold) would otherwise turn the whole corpus into dead letters,
slowly. :func:`preflight` runs once in the launching process, before any input
is read or output cleared, and raises :class:`PreflightError` with one line
that names the flag or the server to change; the CLI prints it and exits 2.
Workers check again when they load the engine (:func:`check_server`, from the
openai and vllm handlers' ``load_model``), so a worker that cannot reach the
server fails its bundle and the runner's own retries and job failure apply.

Each refusal of a server engine rests on what the server did with a request,
never on what its model list or a header implies: servers differ in what they
list and what they answer. vLLM lists the names it serves and answers 404 to
any other; llama-cpp-python's server and a single-model llama.cpp
``llama-server`` answer any name, and list a file path or an alias. Which
endpoints a key guards is the server's choice, so the key too is judged by the
request the run itself sends. What :func:`check_server` does (``openai``; the
vllm engine's workers, against their machine's server):

- **reachable**: ``GET {endpoint}/models``, retried on connection errors, 429
  and 5xx for :data:`REACH_BUDGET_S` (not the per-request ``--retries``):
  refused when nothing answers. The list it returns, and the context a server
  reports (vLLM's ``max_model_len`` in that list; llama.cpp's ``n_ctx`` on
  ``/props``), are hints only.
- **one probe**: ``POST {endpoint}/chat/completions`` for ``--model`` with one
  token of answer (``max_tokens`` 1) and the ``--engine_kwargs`` fields every
  request carries, retried as above. HTTP 401 or 403: the key is refused; 404,
  or 400/422 in words that name the model: the model is refused; any other 4xx
  or a 5xx that outlasts the budget: refused; each quotes the server's words.
  An answer runs; where ``/models`` does not list ``--model``, or the answer
  names another model, :func:`preflight` writes one line (a logged warning)
  saying which model answered (the answer's ``model`` field).
- **context**: where the server reports a context that ``--max_tokens`` does
  not fit, the probe asks for ``--max_tokens`` tokens instead, streamed and
  closed at its first event (so it costs one token, not a whole answer): a
  server that refuses it (vLLM: HTTP 400, ``max_tokens`` greater than
  ``max_model_len``) stops the run in its own words; one that takes it
  (llama.cpp's servers end an answer where the context ends) runs, with one
  line saying so.

The other engines have no server to ask at launch:

- ``vllm``: ``--max_tokens`` above ``--max_model_len`` (when that is given) is
  refused, as vLLM's server refuses such a request; the workers then probe the
  server they start, as above.
- ``embedded``: ``--max_tokens`` at or above the GGUF's context
  (``--max_model_len`` or the model's own, read from the file's header without
  loading weights) is refused: the engine answers every prompt ``too_long``
  when the answer's room does not fit beside it.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from beam_swallow.inference.config import EngineConfig

__all__ = [
    "REACH_BUDGET_S",
    "PreflightError",
    "ServerFacts",
    "check_server",
    "preflight",
    "server_notes",
]

_LOG = logging.getLogger(__name__)

# Seconds the first contact with a server may keep failing (connection refused, 429, 5xx)
# before the run is refused: long enough for a server that is just coming up.
REACH_BUDGET_S = 15.0
# The probe's question: any answer will do, and only its first token is asked for.
_PROBE_MESSAGES = [{"role": "user", "content": "Reply with one word."}]
# Characters of a server's words quoted in a refusal.
_QUOTED = 300
# Words of a refusal about the answer's length (vLLM: "max_tokens=8192 cannot be greater
# than max_model_len=2048"; TGI: "`inputs` tokens + `max_new_tokens` must be <= ...").
_ABOUT_LENGTH = re.compile(r"max_tokens|max_new_tokens|max_model_len|n_predict|context", re.I)


class PreflightError(ValueError):
    """A run that cannot succeed; the message is one line naming what to change."""


@dataclass(frozen=True)
class ServerFacts:
    """What a server said and did: the model ids ``/models`` lists (empty when it
    lists none), the context in tokens it reports (else None), the ``max_tokens``
    its probe asked for, and the ``model`` field of the probe's answer (None when
    the answer has none)."""

    models: tuple[str, ...]
    context: int | None
    probed_max_tokens: int
    answered: str | None


def check_context(max_tokens: int, context: int | None, where: str, fix: str) -> None:
    """Refuse a ``max_tokens`` that leaves no room for a prompt in ``context`` tokens."""
    if context is not None and max_tokens >= context:
        raise PreflightError(
            f"--max_tokens {max_tokens} does not fit {where}: its context is {context} "
            f"tokens; lower --max_tokens below {context}, or {fix}"
        )


def check_server(config: EngineConfig, budget_s: float = REACH_BUDGET_S) -> ServerFacts:
    """Ask an OpenAI-compatible server (see the module doc); PreflightError if the run
    cannot work, else what it said and did."""
    import httpx

    endpoint = (config.endpoint or "").rstrip("/")
    try:
        headers = config.auth_headers()
    except RuntimeError as exc:
        raise PreflightError(f"{exc}: set it, or drop --api_key_env") from None
    retrying = _retrying(budget_s)
    try:
        listing = retrying(_get, f"{endpoint}/models", headers)
    except httpx.TransportError as exc:
        raise PreflightError(
            f"cannot reach the server at {endpoint} (--endpoint): {type(exc).__name__}: {exc}"
        ) from None
    except httpx.HTTPStatusError as exc:  # a 5xx all along: the probe has the last word
        listing = exc.response
    models, context = _listed(listing, config.model or "")
    context = context or _llama_cpp_context(endpoint, headers)
    max_tokens = config.sampling.max_tokens
    wide = context is not None and max_tokens >= context  # the server must say if it fits
    body = {
        "model": config.model,
        "messages": _PROBE_MESSAGES,
        "max_tokens": max_tokens if wide else 1,
        **config.request_kwargs,
    }
    timeout = httpx.Timeout(config.request_timeout, connect=10.0)
    try:
        status, words, answer = retrying(
            _probe, f"{endpoint}/chat/completions", headers, body, wide, timeout
        )
    except httpx.TransportError as exc:
        raise PreflightError(
            f"cannot reach the server at {endpoint} (--endpoint): {type(exc).__name__}: {exc}"
        ) from None
    except httpx.HTTPStatusError as exc:
        status, words, answer = exc.response.status_code, _words(exc.response.text), None
    if status != 200:
        raise PreflightError(_refusal(config, endpoint, status, words, models, context, wide))
    return ServerFacts(models, context, body["max_tokens"], (answer or {}).get("model"))


def preflight(config: EngineConfig) -> None:
    """The launcher's checks for ``config.engine`` (see the module doc); the lines
    about a server that runs are logged as warnings."""
    if config.engine == "openai":
        for line in server_notes(config, check_server(config)):
            _LOG.warning(line)
    elif config.engine == "vllm":
        if config.max_model_len is not None and config.sampling.max_tokens > config.max_model_len:
            raise PreflightError(
                f"--max_tokens {config.sampling.max_tokens} does not fit --max_model_len "
                f"{config.max_model_len}: vLLM's server refuses a max_tokens above its "
                f"context; lower --max_tokens to {config.max_model_len} or less, or raise "
                "--max_model_len"
            )
    elif config.engine == "embedded":
        from beam_swallow.inference.gguf import gguf_context

        check_context(
            config.sampling.max_tokens,
            config.max_model_len or gguf_context(config.model),
            f"the embedded model {config.model_label}",
            "set a longer --max_model_len",
        )


def server_notes(config: EngineConfig, facts: ServerFacts) -> list[str]:
    """The lines for a server that runs other than as asked: a ``--model`` it does not
    list, or answers as another model; a ``--max_tokens`` beyond the context it reports."""
    endpoint = (config.endpoint or "").rstrip("/")
    notes = []
    answered = repr(facts.answered) if facts.answered else "(unnamed)"
    listed = f"it lists {', '.join(facts.models)}" if facts.models else "it lists none"
    if facts.models and config.model not in facts.models:
        notes.append(
            f"the server at {endpoint} does not list --model {config.model} ({listed}) "
            f"and answered it as model {answered}"
        )
    elif facts.answered is not None and facts.answered != config.model:
        notes.append(
            f"the server at {endpoint} answered --model {config.model} as model {answered} "
            f"({listed})"
        )
    if facts.probed_max_tokens > 1 and facts.context is not None:
        notes.append(
            f"the server at {endpoint} took --max_tokens {facts.probed_max_tokens} with a "
            f"context of {facts.context} tokens: an answer ends where the context does "
            "(rejected truncated)"
        )
    return notes


def _retrying(budget_s: float) -> Any:
    import tenacity

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(_unreachable),
        stop=tenacity.stop_after_delay(budget_s),
        wait=tenacity.wait_exponential(multiplier=0.25, max=2.0),
        reraise=True,
    )


def _unreachable(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, httpx.TransportError):
        return True
    if not isinstance(exc, httpx.HTTPStatusError):
        return False
    status = exc.response.status_code
    return status == 429 or status >= 500


def _get(url: str, headers: dict[str, str]) -> Any:
    import httpx

    response = httpx.get(url, headers=headers, timeout=10.0)
    if response.status_code == 429 or response.status_code >= 500:
        response.raise_for_status()
    return response


def _probe(
    url: str, headers: dict[str, str], body: dict[str, Any], stream: bool, timeout: Any
) -> tuple[int, str, dict[str, Any] | None]:
    """POST ``body``: (status, the server's words, the answer or its first streamed
    event). Streamed, the connection closes after that event: the server stops there.
    HTTPStatusError on 429 and 5xx, for the retries."""
    import httpx

    with httpx.stream(
        "POST", url, json={**body, "stream": stream}, headers=headers, timeout=timeout
    ) as response:
        if response.status_code == 429 or response.status_code >= 500:
            response.read()
            response.raise_for_status()
        if response.status_code != 200:
            return response.status_code, _words(response.read().decode("utf-8", "replace")), None
        if not stream:
            return 200, "", _json(response.read())
        for line in response.iter_lines():
            data = line.removeprefix("data:").strip() if line.startswith("data:") else ""
            if data and data != "[DONE]":
                event = _json(data)
                error = event.get("error") if event else None
                if error:  # refused once the stream had begun
                    status = error.get("code") if isinstance(error, dict) else None
                    return (status if isinstance(status, int) else 400), _words(data), None
                return 200, "", event
    return 200, "", None


def _refusal(
    config: EngineConfig,
    endpoint: str,
    status: int,
    words: str,
    models: tuple[str, ...],
    context: int | None,
    wide: bool,
) -> str:
    """The one line for a probe the server did not answer with 200."""
    said = f"HTTP {status}: {words}"
    if status in (401, 403):
        sent = f"the key in ${config.api_key_env}" if config.api_key_env else "no key"
        return (
            f"the server at {endpoint} refused the API key ({said}; sent {sent}, see --api_key_env)"
        )
    if wide and status in (400, 422) and _ABOUT_LENGTH.search(words):
        return (
            f"--max_tokens {config.sampling.max_tokens} does not fit the model served at "
            f"{endpoint}: it refused a request for that many tokens ({said}); its context "
            f"is {context} tokens: lower --max_tokens below {context}, or serve the model "
            "with a longer context (vLLM: --max-model-len)"
        )
    names_model = bool(config.model) and config.model in words
    if status == 404 and not names_model:
        return (
            f"the server at {endpoint} has no {endpoint}/chat/completions ({said}): check "
            "--endpoint (most servers serve the OpenAI API under /v1)"
        )
    if status == 404 or (status in (400, 422) and names_model):
        listed = f"; it lists {', '.join(models)}" if models else ""
        return f"the server at {endpoint} refused --model {config.model} ({said}){listed}"
    asked = f"{config.sampling.max_tokens} tokens" if wide else "one token"
    return (
        f"the server at {endpoint} refused a request for {asked} of --model {config.model} ({said})"
    )


def _json(text: str | bytes) -> dict[str, Any] | None:
    """A JSON object, or None for anything else."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _words(text: str) -> str:
    """A server's error message, from the JSON error shapes servers use, on one line."""
    found: Any = _json(text)
    for key in ("error", "message", "detail"):
        if isinstance(found, dict) and key in found:
            found = found[key]
            if isinstance(found, dict) and "message" in found:
                found = found["message"]
    words = found if isinstance(found, str) else text
    return " ".join(words.split())[:_QUOTED]


def _listed(response: Any, model: str) -> tuple[tuple[str, ...], int | None]:
    """The ids a 200 answer of ``/models`` lists and, for ``model`` (or the only
    model), vLLM's ``max_model_len``; nothing from any other answer."""
    try:
        payload = response.json() if response.status_code == 200 else None
    except ValueError:
        payload = None
    entries = [e for e in (payload or {}).get("data") or [] if isinstance(e, dict)]
    ids = tuple(str(e.get("id")) for e in entries)
    chosen = [e for e in entries if e.get("id") == model] or entries[:1]
    context = chosen[0].get("max_model_len") if chosen else None
    return ids, int(context) if context else None


def _llama_cpp_context(endpoint: str, headers: dict[str, str]) -> int | None:
    """llama.cpp's server reports its context on ``/props``; other servers have none."""
    import httpx

    root = endpoint[: -len("/v1")] if endpoint.endswith("/v1") else endpoint
    try:
        response = httpx.get(f"{root}/props", headers=headers, timeout=10.0)
        settings = response.json().get("default_generation_settings") or {}
        return int(settings["n_ctx"]) if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no such endpoint, or not llama.cpp's answer
