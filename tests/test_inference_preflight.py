"""A run that cannot succeed is refused before it reads a record: one line, exit 2;
a run the server answers goes on, whatever the server lists.

Against real servers on 127.0.0.1: llama-cpp-python's (which answers any model
name, and lists its alias or, without one, the GGUF's path), one with an API
key, and a port nothing listens on; the command is run in-process through
``cli.main``. Each refusal checks that no output was written. llama.cpp's own
``llama-server`` is in test_preflight_llama_server.py, vLLM's server in
test_inference_vllm.py.
"""

from __future__ import annotations

import pytest

from beam_swallow.cli import main
from beam_swallow.inference.base import SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.preflight import (
    PreflightError,
    check_server,
    preflight,
    server_notes,
)
from beam_swallow.testing import free_port
from beam_swallow.testing.llama_server import ALIAS, LlamaServer
from tests.preflight_cases import run_unlisted_name

pytest.importorskip("llama_cpp.server.app")

KEY = "sesame"


@pytest.fixture(scope="module")
def keyed_server():
    running = LlamaServer(context=1024, api_key=KEY)
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def unnamed_server():
    """llama-cpp-python's server without an alias: /v1/models lists the GGUF's path."""
    running = LlamaServer(context=1024, alias=None)
    running.start()
    yield running
    running.stop()


def _refused(capsys, out, *flags: str) -> str:
    """Run ``code --stages sgcr`` with ``flags``; assert exit 2 and nothing written."""
    status = main(["code", "--stages", "sgcr", "--output", str(out), *flags])
    err = capsys.readouterr().err
    assert status == 2, err
    assert not out.exists(), "nothing may be read or written before the check"
    lines = [line for line in err.splitlines() if line.startswith("beam-swallow code: error:")]
    assert len(lines) == 1, err
    return lines[0]


def test_nothing_listening_at_the_endpoint(capsys, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    line = _refused(
        capsys, tmp_path / "out", "--engine", "openai", "--endpoint", url, "--model", "m"
    )
    assert f"cannot reach the server at {url} (--endpoint)" in line


def test_a_name_the_server_does_not_list_runs_naming_the_model_that_answered(
    capsys, caplog, tmp_path, unnamed_server
):
    """The issue's command: llama-cpp-python's server of the GGUF, ``--model smollm2``."""
    lines = run_unlisted_name(capsys, caplog, tmp_path, unnamed_server.url)
    # one line: which model answered (llama-cpp-python's answer repeats the name asked for)
    assert lines == [
        f"the server at {unnamed_server.url} does not list --model {ALIAS} "
        f"(it lists {unnamed_server.gguf}) and answered it as model '{ALIAS}'"
    ]


def test_an_endpoint_without_the_api_is_named(unnamed_server):
    """Without /v1 the server answers 404 in words that do not name the model: the
    endpoint is wrong, not the model."""
    root = unnamed_server.url.removesuffix("/v1")
    config = EngineConfig(engine="openai", endpoint=root, model=ALIAS)
    with pytest.raises(PreflightError) as refused:
        check_server(config)
    assert str(refused.value) == (
        f"the server at {root} has no {root}/chat/completions (HTTP 404: Not Found): check "
        "--endpoint (most servers serve the OpenAI API under /v1)"
    )


def test_max_tokens_beyond_the_context_of_a_server_that_reports_none():
    """llama-cpp-python's server reports no context and takes any max_tokens (it stops
    an answer where its context ends): nothing to refuse."""
    server = LlamaServer(context=512)
    server.start()
    try:
        config = EngineConfig(
            engine="openai",
            endpoint=server.url,
            model=ALIAS,
            sampling=SamplingParams(max_tokens=8192),
        )
        facts = check_server(config)
    finally:
        server.stop()
    assert facts.models == (ALIAS,) and facts.context is None
    assert facts.probed_max_tokens == 1 and facts.answered == ALIAS


@pytest.mark.parametrize(("key", "said"), [(None, "no key"), ("wrong", "the key in $KEY_VAR")])
def test_a_refused_api_key_is_named(capsys, tmp_path, keyed_server, monkeypatch, key, said):
    flags = ["--engine", "openai", "--endpoint", keyed_server.url, "--model", ALIAS]
    if key:
        monkeypatch.setenv("KEY_VAR", key)
        flags += ["--api_key_env", "KEY_VAR"]
    line = _refused(capsys, tmp_path / "out", *flags)
    # the server's own words, from its answer to the probe
    assert (
        f"the server at {keyed_server.url} refused the API key (HTTP 401: Invalid API key; "
        f"sent {said}, see --api_key_env)"
    ) in line


def test_the_right_key_and_a_listed_name_run_without_a_line(keyed_server, monkeypatch):
    monkeypatch.setenv("KEY_VAR", KEY)
    config = EngineConfig(
        engine="openai", endpoint=keyed_server.url, model=ALIAS, api_key_env="KEY_VAR"
    )
    facts = check_server(config)
    assert facts.models == (ALIAS,) and facts.answered == ALIAS
    assert server_notes(config, facts) == []


def test_an_unset_key_variable_is_named(capsys, tmp_path, keyed_server, monkeypatch):
    monkeypatch.delenv("KEY_VAR", raising=False)
    line = _refused(
        capsys,
        tmp_path / "out",
        *("--engine", "openai", "--endpoint", keyed_server.url, "--model", ALIAS),
        *("--api_key_env", "KEY_VAR"),
    )
    assert "environment variable KEY_VAR (the API key) is unset" in line


def test_embedded_max_tokens_beyond_the_models_context(capsys, tmp_path):
    line = _refused(capsys, tmp_path / "out", "--max_tokens", "9000")
    # SmolLM2-135M was trained with an 8,192-token context (its GGUF header)
    assert "--max_tokens 9000 does not fit the embedded model" in line and "8192 tokens" in line


def test_vllm_max_tokens_beyond_max_model_len(capsys, tmp_path):
    line = _refused(
        capsys,
        tmp_path / "out",
        *("--engine", "vllm", "--model", "any-checkpoint", "--max_model_len", "2048"),
    )
    assert "--max_tokens 8192 does not fit --max_model_len 2048" in line


def test_vllm_max_tokens_equal_to_max_model_len_is_not_refused():
    # vLLM's server refuses a max_tokens above its context only (test_inference_vllm.py)
    config = EngineConfig(
        engine="vllm", model="m", max_model_len=2048, sampling=SamplingParams(max_tokens=2048)
    )
    preflight(config)
