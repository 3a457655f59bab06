"""What the process may use of its machine: CPUs, the CPUs other work keeps busy, memory."""

from __future__ import annotations

import subprocess
import sys

import pytest

from beam_swallow.machine import busy_elsewhere


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/loadavg")
def test_a_process_that_never_sleeps_counts_as_busy():
    """A busy loop is runnable at every instant, so every one of the samples sees it,
    however loaded the machine is otherwise."""
    code = "print('looping', flush=True)\nwhile True: pass"
    loop = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert loop.stdout.readline() == "looping\n"  # past start-up, which may wait on disk
        assert busy_elsewhere() >= 1
    finally:
        loop.kill()
        loop.wait()


def test_without_the_kernels_count_there_is_no_answer(monkeypatch):
    monkeypatch.setattr("beam_swallow.machine._LOADAVG", "/nonexistent/loadavg")
    assert busy_elsewhere() is None
