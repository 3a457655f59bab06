"""The vllm engine's machine server, the parts that need no vLLM: its command line,
its state folder, the supervisor that stops it when no user is left, and the
per-request max_tokens cap.

The supervisor is run for real as its own process around a real server
(Python's ``http.server``), with the users' lock held by this test process and
by a second process, then released: the server must outlive neither. The
server with vLLM in it is tested in test_inference_vllm.py (``make test-vllm``).
"""

from __future__ import annotations

import fcntl
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from beam_swallow.inference.base import Message, SamplingParams
from beam_swallow.inference.config import MAX_TOKENS_FLOOR, EngineConfig
from beam_swallow.inference.supervisor import PID_NAME, alive
from beam_swallow.inference.vllm_server import server_command, state_dir
from beam_swallow.testing import free_port, wait_for_port

# A wait that only ends early: how long a server may take to notice its last user left.
LEAVE_WAIT_S = 120

VLLM = EngineConfig(engine="vllm", model="/ckpt", dtype="float32", max_model_len=2048)


def test_server_command_carries_the_engine_flags():
    config = EngineConfig(
        **{
            **VLLM.__dict__,
            "engine_kwargs": {
                "enforce_eager": True,
                "enable_prefix_caching": False,
                "max_num_seqs": 64,
                "hf_overrides": {"rope_scaling": None},
            },
        }
    )
    command = server_command(config)
    assert command[:3] == [sys.executable, "-m", "vllm.entrypoints.openai.api_server"]
    flags = " ".join(command[3:])
    assert "--model /ckpt --host 127.0.0.1 --dtype float32" in flags
    assert "--max-model-len 2048" in flags and "--enforce-eager" in flags
    assert "--no-enable-prefix-caching" in flags and "--max-num-seqs 64" in flags
    assert '--hf-overrides {"rope_scaling": null}' in flags
    assert "--max-num-seqs 256" in " ".join(server_command(VLLM))  # the slots, always given


def test_one_state_folder_per_server_configuration():
    same = EngineConfig(**{**VLLM.__dict__, "sampling": SamplingParams(max_tokens=9)})
    other = EngineConfig(**{**VLLM.__dict__, "max_model_len": 4096})
    assert state_dir(VLLM) == state_dir(same)  # sampling is per request, not the server's
    assert state_dir(VLLM) != state_dir(other)


def test_max_tokens_ratio_caps_each_request_by_its_source():
    config = EngineConfig(sampling=SamplingParams(max_tokens=1024), max_tokens_ratio=2.0)
    short, long = "x = 1\n", "def f(a):\n    return a\n" * 400
    capped = config.request("a", (Message("user", short),), source=short)
    assert MAX_TOKENS_FLOOR < capped.sampling.max_tokens < MAX_TOKENS_FLOOR + 2 * len(short)
    assert config.request("b", (Message("user", long),), source=long).sampling.max_tokens == 1024
    plain = EngineConfig(sampling=SamplingParams(max_tokens=1024))
    assert plain.request("c", (Message("user", short),), source=short).sampling.max_tokens == 1024
    with pytest.raises(ValueError, match="max_tokens_ratio"):
        EngineConfig(max_tokens_ratio=0)
    assert math.isclose(config.max_tokens_ratio, 2.0)


def _hold(lock: Path) -> int:
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def _supervise(folder: Path) -> tuple[subprocess.Popen, int, int]:
    """The supervisor around ``python -m http.server``; returns it, the server's pid, the port."""
    port = free_port()
    supervisor = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "beam_swallow.inference.supervisor",
            str(folder / "users.lock"),
            "--",
            sys.executable,
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            str(port),
        ],
        cwd=folder,
    )
    wait_for_port(port, supervisor, "the supervised server")
    return supervisor, int((folder / PID_NAME).read_text()), port


def _gone_within(pid: int, limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def test_server_stops_when_its_last_user_leaves(tmp_path):
    mine = _hold(tmp_path / "users.lock")
    other = subprocess.Popen(  # a second user: another process holding the lock
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
            "fcntl.flock(fd, fcntl.LOCK_SH); print('held', flush=True); sys.stdin.read()",
            str(tmp_path / "users.lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdout.readline().strip() == "held"
    supervisor, server, _ = _supervise(tmp_path)
    os.close(mine)  # one user left: the server stays
    assert supervisor.poll() is None and alive(server)
    other.kill()  # the last user dies without a word: the kernel drops its lock
    other.wait()
    assert _gone_within(server, LEAVE_WAIT_S), "the server outlived its last user"
    assert supervisor.wait(timeout=LEAVE_WAIT_S) == 0


def test_supervisor_exits_when_its_server_dies(tmp_path):
    mine = _hold(tmp_path / "users.lock")
    try:
        supervisor, server, _ = _supervise(tmp_path)
        os.killpg(server, signal.SIGKILL)  # the engine crashes
        assert supervisor.wait(timeout=LEAVE_WAIT_S) != 0  # so the next user starts a new one
    finally:
        os.close(mine)
