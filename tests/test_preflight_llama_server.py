"""The preflight against llama.cpp's own ``llama-server``, with and without ``--alias``.

A single-model ``llama-server`` answers any model name: it lists the GGUF's
path (or its alias) under ``/v1/models`` and names that in its answers; with
``--api-key`` it refuses keyless requests (HTTP 401); it reports its context on
``/props`` and takes a ``max_tokens`` beyond it (an answer ends where the
context does). Each case checks what the preflight does with that: runs, with
one line where the name is not the one served; refuses a key in the server's
words. The binary is built by ``make llama-server`` (``make test`` builds it);
without it these tests are skipped, unless ``$LLAMA_SERVER`` names it.
"""

from __future__ import annotations

import os

import pytest

from beam_swallow.inference.base import SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.preflight import PreflightError, check_server, server_notes
from beam_swallow.testing.llama_server import ALIAS, LlamaServer, llama_server_binary
from tests.preflight_cases import run_unlisted_name

KEY = "sesame"
CONTEXT = 1024


def _binary() -> str:
    binary = llama_server_binary()
    if binary is None:
        if os.environ.get("LLAMA_SERVER"):
            pytest.fail(f"no llama-server binary at $LLAMA_SERVER={os.environ['LLAMA_SERVER']}")
        pytest.skip("llama.cpp's llama-server is not built: make llama-server")
    return binary


@pytest.fixture(scope="module")
def plain():
    """llama-server without --alias: /v1/models lists the GGUF's path."""
    running = LlamaServer(context=CONTEXT, alias=None, binary=_binary())
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def aliased(monkeypatch_module):
    """llama-server --alias smollm2 --api-key, the key in $KEY_VAR."""
    monkeypatch_module.setenv("KEY_VAR", KEY)
    running = LlamaServer(context=CONTEXT, api_key=KEY, alias=ALIAS, binary=_binary())
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _config(server: LlamaServer, model: str, max_tokens: int = 16, **fields) -> EngineConfig:
    sampling = SamplingParams(max_tokens=max_tokens)
    return EngineConfig(
        engine="openai", endpoint=server.url, model=model, sampling=sampling, **fields
    )


def test_a_name_it_does_not_list_runs_naming_the_model_that_answered(
    capsys, caplog, tmp_path, plain
):
    lines = run_unlisted_name(capsys, caplog, tmp_path, plain.url)
    # llama-server's answer names the file it serves, whatever the request asked for
    assert lines == [
        f"the server at {plain.url} does not list --model {ALIAS} (it lists {plain.gguf}) "
        f"and answered it as model '{plain.gguf}'"
    ]


def test_the_alias_runs_without_a_line(aliased):
    config = _config(aliased, ALIAS, api_key_env="KEY_VAR")
    facts = check_server(config)
    assert facts.models == (ALIAS,) and facts.answered == ALIAS
    assert server_notes(config, facts) == []


def test_another_name_is_answered_by_the_alias(aliased):
    config = _config(aliased, "llama-70b", api_key_env="KEY_VAR")
    facts = check_server(config)
    assert facts.answered == ALIAS
    assert server_notes(config, facts) == [
        f"the server at {aliased.url} does not list --model llama-70b (it lists {ALIAS}) "
        f"and answered it as model '{ALIAS}'"
    ]


def test_a_keyless_request_is_refused_in_the_servers_words(aliased):
    with pytest.raises(PreflightError) as refused:
        check_server(_config(aliased, ALIAS))
    assert str(refused.value) == (
        f"the server at {aliased.url} refused the API key (HTTP 401: Invalid API Key; "
        "sent no key, see --api_key_env)"
    )


def test_max_tokens_beyond_the_reported_context_is_taken(plain):
    """/props reports 1,024 tokens: the probe asks for --max_tokens 8192 itself, streamed
    and closed at the first event, and llama-server takes it."""
    config = _config(plain, ALIAS, max_tokens=8192)
    facts = check_server(config)
    assert facts.context == CONTEXT and facts.probed_max_tokens == 8192
    assert facts.answered == plain.gguf
    assert server_notes(config, facts)[1] == (
        f"the server at {plain.url} took --max_tokens 8192 with a context of {CONTEXT} tokens: "
        "an answer ends where the context does (rejected truncated)"
    )
