"""Starting local servers for tests: a free port, and waiting until one listens."""

from __future__ import annotations

import socket
import subprocess
import time

from beam_swallow.machine import free_port

__all__ = ["free_port", "wait_for_port"]


def wait_for_port(port: int, process: subprocess.Popen, what: str, limit_s: float = 300) -> None:
    """Return once ``port`` accepts connections; raise if ``process`` exits first.

    ``limit_s`` only bounds a server that neither listens nor exits (a hang):
    a slow machine waits as long as the server is alive and starting.
    """
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on port {port} within {limit_s:g} s")
