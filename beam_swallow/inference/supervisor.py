"""The parent of a machine's vLLM server: stops it when no worker process uses it.

Run as ``python -m beam_swallow.inference.supervisor USERS_LOCK -- COMMAND...``
by :class:`~beam_swallow.inference.vllm_server.MachineServer`. Every worker
process that uses the server holds a shared ``flock`` on ``USERS_LOCK`` for as
long as it lives; the kernel drops it when the process ends, however it ends
(SIGKILL included). This process starts ``COMMAND`` in a session of its own,
writes its pid to ``server.pid`` beside the lock, and then:

- once it can take the lock exclusively (no user left), stops the server and
  exits 0, holding the lock until the server is gone, so a new user waits and
  then starts a fresh one;
- if the server exits by itself (a crash, a kill), exits with its status, so the
  next user that finds the server silent starts a new one;
- on SIGTERM or SIGINT, stops the server and exits 0.

Stopping sends SIGTERM to the server's process group (vLLM's API server and its
engine-core processes) and SIGKILL after :data:`GRACE_S`.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["GRACE_S", "PID_NAME", "alive", "main", "stop_group"]

# Seconds a server has to exit after SIGTERM before its group is killed.
GRACE_S = 30.0
# How often the users' lock is tried; only bounds how long an unused server lingers.
POLL_S = 1.0
PID_NAME = "server.pid"


def stop_group(pgid: int, grace_s: float = GRACE_S) -> None:
    """SIGTERM process group ``pgid``, then SIGKILL it if its leader outlives ``grace_s``."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while alive(pgid):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    else:
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has ended; only its parent's wait is missing
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def main(argv: list[str]) -> int:
    users_lock, command = argv[0], argv[argv.index("--") + 1 :]
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = subprocess.Popen(command, start_new_session=True)
    Path(users_lock).with_name(PID_NAME).write_text(str(server.pid))
    fd = os.open(users_lock, os.O_RDWR | os.O_CREAT, 0o600)
    while not stop.is_set():
        status = server.poll()
        if status is not None:
            return status or 1
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break  # no user left
        except BlockingIOError:
            stop.wait(POLL_S)
    stop_group(server.pid)
    server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
