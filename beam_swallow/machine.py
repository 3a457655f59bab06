"""What this process may use of the machine it runs on.

One answer for every part that sizes itself to the CPUs (the lint pool's
workers, the embedded engine's threads, the worker processes a local run
starts): the CPUs this process may run on, which a container, ``taskset`` or a
batch scheduler may set lower than the machine's count. And the memory a run
may still take, for the local runner's check before it starts.
"""

from __future__ import annotations

import os

import psutil

__all__ = ["available_memory", "usable_cpus"]


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
