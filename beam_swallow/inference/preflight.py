"""Checks that stop a run which cannot succeed before it reads a record.

A failure every request would share (no server at ``--endpoint``, a refused API
key, a model the server does not serve, a ``--max_tokens`` that the model's
context cannot hold) would otherwise turn the whole corpus into dead letters,
slowly. :func:`preflight` runs once in the launching process, before any input
is read or output cleared, and raises :class:`PreflightError` with one line
that names the flag or the server to change; the CLI prints it and exits 2.
Workers check again when they load the engine (:func:`check_server`, from the
openai handler's ``load_model``), so a worker that cannot reach the server
fails its bundle and the runner's own retries and job failure apply.

What each engine checks:

- ``openai``: ``GET {endpoint}/models``, with a short retry budget of its own
  (:data:`REACH_BUDGET_S`, not the per-request ``--retries``): reachable, the
  key accepted, ``--model`` among the models served, and ``--max_tokens``
  below the context where the server reports one (vLLM's ``max_model_len`` in
  that list; llama.cpp's server's ``n_ctx`` on ``/props``).
- ``vllm``: ``--max_tokens`` below ``--max_model_len`` when that is given; the
  engine's server is started on the workers, which check what it reports
  (:mod:`.vllm`).
- ``embedded``: ``--max_tokens`` below the GGUF's context (``--max_model_len``
  or the model's own, read from the file's header without loading weights).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beam_swallow.inference.config import EngineConfig

__all__ = ["REACH_BUDGET_S", "PreflightError", "ServerFacts", "check_server", "preflight"]

# Seconds the first contact with a server may keep failing (connection refused, 5xx)
# before the run is refused: long enough for a server that is just coming up.
REACH_BUDGET_S = 15.0


class PreflightError(ValueError):
    """A run that cannot succeed; the message is one line naming what to change."""


@dataclass(frozen=True)
class ServerFacts:
    """What a server said about itself: the model ids it serves, and its context in
    tokens where it reports one (else None)."""

    models: tuple[str, ...]
    context: int | None


def check_context(max_tokens: int, context: int | None, where: str, fix: str) -> None:
    """Refuse a ``max_tokens`` that leaves no room for a prompt in ``context`` tokens."""
    if context is not None and max_tokens >= context:
        raise PreflightError(
            f"--max_tokens {max_tokens} does not fit {where}: its context is {context} "
            f"tokens; lower --max_tokens below {context}, or {fix}"
        )


def check_server(config: EngineConfig, budget_s: float = REACH_BUDGET_S) -> ServerFacts:
    """Ask an OpenAI-compatible server what it serves; PreflightError if the run cannot work."""
    import httpx
    import tenacity

    endpoint = (config.endpoint or "").rstrip("/")
    try:
        headers = config.auth_headers()
    except RuntimeError as exc:
        raise PreflightError(f"{exc}: set it, or drop --api_key_env") from None
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception(_unreachable),
        stop=tenacity.stop_after_delay(budget_s),
        wait=tenacity.wait_exponential(multiplier=0.25, max=2.0),
        reraise=True,
    )
    try:
        response = retrying(_get, f"{endpoint}/models", headers)
    except httpx.TransportError as exc:
        raise PreflightError(
            f"cannot reach the server at {endpoint} (--endpoint): {type(exc).__name__}: {exc}"
        ) from None
    except httpx.HTTPStatusError as exc:
        response = exc.response
    status = response.status_code
    if status in (401, 403):
        sent = f"the key in ${config.api_key_env}" if config.api_key_env else "no key"
        raise PreflightError(
            f"the server at {endpoint} refused the API key (HTTP {status}; sent {sent}, "
            "see --api_key_env)"
        )
    if status != 200:
        raise PreflightError(
            f"the server at {endpoint} (--endpoint) answered GET /models with HTTP {status}: "
            f"{response.text[:200]}"
        )
    facts = _facts(response.json(), config.model or "")
    if facts.models and config.model not in facts.models:
        raise PreflightError(
            f"the server at {endpoint} serves {', '.join(facts.models)}, not --model {config.model}"
        )
    context = facts.context or _llama_cpp_context(endpoint, headers)
    check_context(
        config.sampling.max_tokens,
        context,
        f"the model served at {endpoint}",
        "serve the model with a longer context (vLLM: --max-model-len)",
    )
    return ServerFacts(facts.models, context)


def preflight(config: EngineConfig) -> None:
    """The launcher's checks for ``config.engine`` (see the module doc)."""
    if config.engine == "openai":
        check_server(config)
    elif config.engine == "vllm":
        check_context(
            config.sampling.max_tokens,
            config.max_model_len,
            f"--max_model_len {config.max_model_len}",
            "raise --max_model_len",
        )
    elif config.engine == "embedded":
        from beam_swallow.inference.gguf import gguf_context

        check_context(
            config.sampling.max_tokens,
            config.max_model_len or gguf_context(config.model),
            f"the embedded model {config.model_label}",
            "set a longer --max_model_len",
        )


def _unreachable(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code >= 500


def _get(url: str, headers: dict[str, str]) -> Any:
    import httpx

    response = httpx.get(url, headers=headers, timeout=10.0)
    if response.status_code >= 500:
        response.raise_for_status()
    return response


def _facts(payload: Any, model: str) -> ServerFacts:
    """Model ids and, for ``model`` (or the only model), vLLM's ``max_model_len``."""
    entries = [e for e in (payload or {}).get("data") or [] if isinstance(e, dict)]
    ids = tuple(str(e.get("id")) for e in entries)
    chosen = [e for e in entries if e.get("id") == model] or entries[:1]
    context = chosen[0].get("max_model_len") if chosen else None
    return ServerFacts(ids, int(context) if context else None)


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
