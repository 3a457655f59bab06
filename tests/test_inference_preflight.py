"""A run that cannot succeed is refused before it reads a record: one line, exit 2.

Against real servers on 127.0.0.1 (llama-cpp-python's, one with an API key)
and a port nothing listens on; the command is run in-process through
``cli.main``. Each case checks that no output was written.
"""

from __future__ import annotations

import pytest

from beam_swallow.cli import main
from beam_swallow.testing import free_port
from beam_swallow.testing.llama_server import ALIAS, LlamaServer

pytest.importorskip("llama_cpp.server.app")

KEY = "sesame"


@pytest.fixture(scope="module")
def keyed_server():
    running = LlamaServer(context=1024, api_key=KEY)
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


def test_a_model_the_server_does_not_serve(capsys, tmp_path, keyed_server, monkeypatch):
    monkeypatch.setenv("KEY_VAR", KEY)
    line = _refused(
        capsys,
        tmp_path / "out",
        *("--engine", "openai", "--endpoint", keyed_server.url, "--api_key_env", "KEY_VAR"),
        *("--model", "llama-70b"),
    )
    assert f"serves {ALIAS}, not --model llama-70b" in line


@pytest.mark.parametrize(("key", "said"), [(None, "no key"), ("wrong", "the key in $KEY_VAR")])
def test_a_refused_api_key_is_named(capsys, tmp_path, keyed_server, monkeypatch, key, said):
    flags = ["--engine", "openai", "--endpoint", keyed_server.url, "--model", ALIAS]
    if key:
        monkeypatch.setenv("KEY_VAR", key)
        flags += ["--api_key_env", "KEY_VAR"]
    line = _refused(capsys, tmp_path / "out", *flags)
    assert f"the server at {keyed_server.url} refused the API key (HTTP 401; sent {said}" in line


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
