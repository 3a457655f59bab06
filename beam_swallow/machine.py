"""What this process may use of the machine it runs on.

One answer for every part that sizes itself to the CPUs (the lint pool's
workers, the embedded engine's threads, the worker processes a local run
starts): the CPUs this process may run on, which a container, ``taskset`` or a
batch scheduler may set lower than the machine's count; how many of them
other work is using right now, for the embedded engine's threads; the
memory a run may still take, for the local runner's check before it starts;
and a free loopback port, for the servers a run or a test starts on it.
"""

from __future__ import annotations

import os
import socket
import time

import psutil

__all__ = ["available_memory", "busy_elsewhere", "free_port", "usable_cpus"]

_LOADAVG = "/proc/loadavg"


def usable_cpus() -> int:
    """The number of CPUs this process may run on (its CPU affinity where the
    platform has one, as on Linux; else the machine's count; at least 1)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def available_memory() -> int:
    """Bytes that can be given to a new job now without swapping (the kernel's
    ``MemAvailable`` on Linux: free memory plus caches it can drop)."""
    return psutil.virtual_memory().available


def busy_elsewhere(samples: int = 5, interval_s: float = 0.005) -> int | None:
    """How many CPUs other work keeps busy now: the tasks the kernel has
    runnable, less the caller, as the fewest of ``samples`` reads ``interval_s``
    apart (so a process that runs for a moment is not counted, one that keeps
    a CPU busy is). From the running count in ``/proc/loadavg`` (Linux); None
    where there is no such file. psutil gives load averages only, which trail
    a change by a minute."""
    counts = []
    for number in range(samples):
        if number:
            time.sleep(interval_s)
        try:
            with open(_LOADAVG, encoding="ascii") as loadavg:
                running = int(loadavg.read().split()[3].split("/")[0])
        except (OSError, IndexError, ValueError):
            return None
        counts.append(running - 1)
    return max(0, min(counts))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
