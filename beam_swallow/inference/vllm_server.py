"""One vLLM server per machine, started by whichever worker process needs it first.

Why a server and not ``vllm.LLM`` in the worker: a machine runs many SDK
processes (Dataflow: one per vCPU) and each runs several bundles at once, but
``LLM.generate`` is not made for concurrent callers: its engine loop hands each
finished request to whichever caller is looping, so two callers behind Beam's
shared-model proxy hang or get each other's answers (vLLM issues 1285, 3248).
vLLM's OpenAI-compatible server is the engine's own concurrent front: every
request is routed back by its HTTP exchange, and its scheduler merges the
requests of every caller into one continuous batch. Beam's vLLM handlers,
datatrove and NeMo Curator run it the same way.

:class:`MachineServer` keeps one server per machine and configuration, in a
state folder under the temporary directory whose name hashes the server's
command (another model or setting gets another server):

- ``start.lock``: held (``flock``) while a process checks or (re)starts the
  server, so exactly one process starts it and the others wait for it;
- ``users.lock``: every process that uses the server holds it shared for as
  long as it lives; the server's :mod:`supervisor <.supervisor>` stops the
  server once no process holds it, so a finished or killed job leaves no
  engine behind;
- ``users/<pid>``: one file per live user, locked by it, counted to share the
  machine's in-flight bound (:meth:`MachineServer.share`);
- ``server.json`` (the supervisor's pid, port and URL), ``server.pid`` (the
  server's own, for operators), ``server.log`` (its output, appended).

A server that dies or stops answering is found by the first request that fails
to reach it: the client calls :meth:`MachineServer.recover`, which (under the
start lock, once for all) stops what is left and starts a new one on the same
port when it is free, then the request is retried. A server that cannot start
raises :class:`EngineStartError` with the end of its log.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.supervisor import GRACE_S, PID_NAME, alive, stop_group
from beam_swallow.machine import free_port

__all__ = [
    "IN_FLIGHT_FACTOR",
    "VLLM_MAX_NUM_SEQS",
    "EngineStartError",
    "MachineServer",
    "server_command",
    "state_dir",
]

# Sequences vLLM runs at once when engine_kwargs set no max_num_seqs (vLLM's long-standing
# default); passed explicitly so the client knows how many slots it shares.
VLLM_MAX_NUM_SEQS = 256
# Requests in flight per engine slot, over all processes of the machine: the extra half
# waits in the server's queue, so a slot that frees is refilled at once, not after a
# round trip; more would only wait longer in that queue (and against --request_timeout).
IN_FLIGHT_FACTOR = 1.5
# Seconds between two counts of the machine's users.
_RECOUNT_S = 2.0

# Processes this process started (the supervisors), so that their exit is reaped.
_STARTED: dict[int, subprocess.Popen] = {}
# This process's hold on each state folder it uses: (users.lock fd, users/<pid> fd).
_JOINED: dict[Path, tuple[int, int]] = {}


class EngineStartError(RuntimeError):
    """The machine's vLLM server exited or hung while starting."""


def _flag(key: str, value: Any) -> list[str]:
    """One ``engine_kwargs`` entry as the server's command-line flag."""
    name = "--" + key.replace("_", "-")
    if value is True:
        return [name]
    if value is False:
        return ["--no-" + key.replace("_", "-")]
    if isinstance(value, (dict, list)):
        return [name, json.dumps(value)]
    return [name, str(value)]


def server_command(config: EngineConfig) -> list[str]:
    """The server's command line, without ``--port``.

    ``engine_kwargs`` and the speculation setting (:attr:`EngineConfig.server_kwargs`)
    become flags: ``{"enforce_eager": true}`` -> ``--enforce-eager``, ``false`` ->
    ``--no-...``, objects as JSON (``--speculative-config {...}``), anything else
    as its text.
    """
    kwargs = {"max_num_seqs": VLLM_MAX_NUM_SEQS, **config.server_kwargs}
    command = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(config.model),
        "--host",
        "127.0.0.1",
        "--dtype",
        config.dtype,
        "--tensor-parallel-size",
        str(config.tensor_parallel_size),
        "--gpu-memory-utilization",
        str(config.gpu_memory_utilization),
    ]
    if config.max_model_len:
        command += ["--max-model-len", str(config.max_model_len)]
    for key, value in sorted(kwargs.items()):
        command += _flag(key, value)
    return command


def slots(config: EngineConfig) -> int:
    """Sequences the server runs at once (``max_num_seqs``)."""
    return int(config.engine_kwargs.get("max_num_seqs", VLLM_MAX_NUM_SEQS))


def state_dir(config: EngineConfig) -> Path:
    """The machine-wide folder of the server for ``config``."""
    digest = hashlib.sha256(json.dumps(server_command(config)).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"beam-swallow-vllm-{os.getuid()}" / digest


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url.removesuffix("/v1") + "/health", timeout=10.0).status_code == 200
    except httpx.HTTPError:
        return False


def _gone(pid: int) -> bool:
    process = _STARTED.get(pid)
    if process is not None and process.poll() is not None:
        _STARTED.pop(pid)
    return not alive(pid)


class MachineServer:
    """This machine's vLLM server for ``config``; see the module doc.

    Cheap to build; :meth:`attach` does the work. Safe to use from any thread.
    """

    def __init__(self, config: EngineConfig):
        self.config = config
        self.dir = state_dir(config)
        self._users = self.dir / "users"
        self._count = (0.0, 1)  # (when, users) of the last count

    def attach(self) -> str:
        """Register this process as a user and return the base URL (``.../v1``) of a
        server that answers, starting one if none does. EngineStartError if it cannot."""
        self._users.mkdir(parents=True, exist_ok=True)
        with _locked(self.dir / "start.lock"):
            self._join()
            return self._ensure()

    def recover(self, failed_url: str) -> str:
        """Called when a request could not reach ``failed_url``: the URL of a server
        that answers, restarting it if it is dead or silent."""
        with _locked(self.dir / "start.lock"):
            return self._ensure()

    def share(self) -> int:
        """Requests this process may have in flight: ``IN_FLIGHT_FACTOR`` x the server's
        slots, split evenly among the processes that use it now."""
        when, users = self._count
        if time.monotonic() - when > _RECOUNT_S:
            users = self._live_users()
            self._count = (time.monotonic(), users)
        return max(1, math.ceil(IN_FLIGHT_FACTOR * slots(self.config) / max(1, users)))

    def _join(self) -> None:
        if self.dir in _JOINED:
            return
        users = os.open(self.dir / "users.lock", os.O_RDWR | os.O_CREAT, 0o600)
        # blocks while a supervisor that found no user is stopping its server
        fcntl.flock(users, fcntl.LOCK_SH)
        mine = os.open(self._users / str(os.getpid()), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(mine, fcntl.LOCK_EX)
        _JOINED[self.dir] = (users, mine)

    def _live_users(self) -> int:
        """Processes holding their ``users/<pid>`` file; files of dead ones are removed."""
        live = 0
        for path in self._users.iterdir():
            if path.name == str(os.getpid()):
                live += 1
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                path.unlink(missing_ok=True)  # its process is gone
            except BlockingIOError:
                live += 1
            finally:
                os.close(fd)
        return live

    def _state(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.dir / "server.json").read_text())
        except (OSError, ValueError):
            return None

    def _ensure(self) -> str:
        state = self._state()
        if state and not _gone(state["pid"]) and _healthy(state["url"]):
            return state["url"]
        if state:
            self._stop(state)
        port = state["port"] if state and _free(state["port"]) else free_port()
        return self._start(port)

    def _stop(self, state: dict[str, Any]) -> None:
        """Stop what is left of a server that does not answer: its supervisor, then it."""
        supervisor = int(state["pid"])  # the leader of its own session: its group is itself
        stop_group(supervisor, 2 * GRACE_S)  # it stops the server first
        _gone(supervisor)  # reaped, if this process started it
        with contextlib.suppress(OSError, ValueError):
            stop_group(int((self.dir / PID_NAME).read_text()))

    def _start(self, port: int) -> str:
        url = f"http://127.0.0.1:{port}/v1"
        command = [
            sys.executable,
            "-m",
            "beam_swallow.inference.supervisor",
            str(self.dir / "users.lock"),
            "--",
            *server_command(self.config),
            "--port",
            str(port),
        ]
        log_path = self.dir / "server.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        _STARTED[process.pid] = process
        deadline = time.monotonic() + self.config.start_timeout
        while not _healthy(url):
            if process.poll() is not None:
                raise EngineStartError(
                    f"the vLLM server exited with {process.returncode} while starting; "
                    f"the end of {log_path}:\n{_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                self._stop({"pid": process.pid})
                raise EngineStartError(
                    f"the vLLM server did not answer within {self.config.start_timeout:g} s "
                    f"(--engine_start_timeout); the end of {log_path}:\n{_tail(log_path)}"
                )
            time.sleep(1.0)
        state = {"pid": process.pid, "port": port, "url": url}
        staging = self.dir / "server.json.tmp"
        staging.write_text(json.dumps(state))
        staging.replace(self.dir / "server.json")
        return url


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
