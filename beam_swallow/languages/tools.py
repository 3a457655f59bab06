"""The external programs the language homes call: found, versioned, bounded, kept warm.

Every parser and formatter outside Python's own (``gofmt``, ``rustfmt``,
``clang-format``, Node and JVM programs, ...) is reached through this module,
so each call has a timeout, each tool's absence is one clear error that says
how to install it, and each tool's version can be stamped on the records it
changed. Two shapes of call, for two costs of starting a program:

- :func:`run_tool`: one process per call (one file on stdin, or a batch of
  files in a folder), killed when it outlives its timeout.
- :class:`Worker`: one long-lived process per Python process that answers
  JSON Lines requests on stdin with one JSON line each on stdout, for tools
  whose start costs more than their work (a JVM: ~0.5-0.8 s; Node: ~0.1 s).
  Calls from several threads take turns; a worker that outlives a request's
  timeout is killed and the next request starts a new one; a worker that
  dies answers its pending request with :class:`ToolError`.

Where tools are found (:func:`find_tool`): a variable ``BEAM_SWALLOW_<NAME>``
naming the program (``BEAM_SWALLOW_CLANG_FORMAT=/opt/llvm/bin/clang-format``),
then the folders of :func:`tool_dirs` (the Python environment's own scripts,
where PyPI's ``clang-format`` puts its binary, and the Node packages the
Makefile installs under :func:`tools_home`), then ``PATH``.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "ToolError",
    "ToolMissing",
    "Worker",
    "find_tool",
    "run_tool",
    "tool_dirs",
    "tool_version",
    "tools_home",
]


class ToolError(RuntimeError):
    """A tool did not answer: it crashed, outlived its timeout, or wrote what cannot be read.

    Not a verdict on the input: a stage makes the records of the failed call
    dead letters (``tool_error``).
    """


class ToolMissing(ToolError):
    """A tool is not installed; the message names it and how to install it."""


def tools_home() -> Path:
    """Where the Makefile installs the tools no system package provides (Node packages,
    jars): ``$BEAM_SWALLOW_TOOLS``, else ``share/beam-swallow`` under the Python
    environment (``sys.prefix``), so each virtual environment holds its own."""
    configured = os.environ.get("BEAM_SWALLOW_TOOLS")
    return Path(configured) if configured else Path(sys.prefix) / "share" / "beam-swallow"


def tool_dirs() -> list[Path]:
    """Folders searched before ``PATH``: the environment's scripts, then the Node
    packages' ``.bin`` under :func:`tools_home`."""
    return [Path(sys.executable).parent, tools_home() / "node" / "node_modules" / ".bin"]


def _variable(name: str) -> str:
    return "BEAM_SWALLOW_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def find_tool(name: str, install: str) -> str:
    """The path of program ``name`` (see the module docstring for where it is looked for).

    ``install`` says how to install it, for the :class:`ToolMissing` raised when
    it is nowhere (``"make tools"``, ``"apt-get install shfmt"``).
    """
    configured = os.environ.get(_variable(name))
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise ToolMissing(f"{_variable(name)}={configured} is not an executable file")
        return configured
    for folder in tool_dirs():
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ToolMissing(f"{name} is not installed: {install}")
    return found


@cache
def tool_version(command: tuple[str, ...], timeout_s: float = 30.0) -> str:
    """The first non-empty line a version command prints (stdout, else stderr), e.g.
    ``tool_version(("shfmt", "--version"))`` is ``"v3.6.0"``; cached per command for
    the life of the process. Raises ToolError when it fails."""
    done = run_tool(list(command), timeout_s=timeout_s)
    if done.returncode != 0:
        raise ToolError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[:500]}")
    for line in (done.stdout + "\n" + done.stderr).splitlines():
        if line.strip():
            return line.strip()
    raise ToolError(f"{' '.join(command)} printed no version")


def run_tool(
    args: Sequence[str],
    *,
    timeout_s: float,
    stdin: str | None = None,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` once, text in and out (UTF-8, undecodable bytes replaced).

    Returns the finished process whatever its exit status (a parser's non-zero
    exit is its verdict); raises ToolError when the program cannot start or
    outlives ``timeout_s`` seconds (the process is killed first).
    """
    try:
        return subprocess.run(
            list(args),
            input=stdin,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"{args[0]} took over {timeout_s:g} s") from exc
    except OSError as exc:
        raise ToolError(f"{args[0]} could not start: {exc}") from exc


class Worker:
    """One long-lived process answering JSON Lines requests: one line in, one line out.

    ``Worker(args)`` starts nothing; the first :meth:`request` does, in the
    calling process (a worker is never shared across a fork: a process that
    finds one started by its parent starts its own). Requests from several
    threads take turns on one lock. The program must answer each request line
    with exactly one line of JSON on stdout, flushed, and write diagnostics to
    stderr only (kept in a temporary file; its tail is quoted when it dies).
    """

    _STDERR_TAIL = 2000

    def __init__(self, args: Sequence[str], env: dict[str, str] | None = None) -> None:
        self._args = list(args)
        self._env = env
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._pid = 0
        self._buffer = b""

    def __getstate__(self) -> dict[str, Any]:
        return {"args": self._args, "env": self._env}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["args"], state["env"])

    def request(self, payload: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Send ``payload`` (a JSON object) and return the worker's answer.

        Raises ToolError when the worker cannot start, dies, writes a line that
        is not a JSON object, or does not answer within ``timeout_s`` seconds (it
        is then killed; the next request starts a new one).
        """
        line = json.dumps(payload, ensure_ascii=False).encode("utf-8") + b"\n"
        with self._lock:
            proc = self._started()
            try:
                assert proc.stdin is not None
                proc.stdin.write(line)
                proc.stdin.flush()
            except OSError as exc:
                raise self._died(f"could not be written to ({exc})") from None
            answer = self._read_line(proc, timeout_s)
        try:
            value = json.loads(answer)
        except ValueError:
            raise ToolError(f"{self._args[0]} answered with no JSON: {answer[:200]!r}") from None
        if not isinstance(value, dict):
            raise ToolError(f"{self._args[0]} answered {type(value).__name__}, not an object")
        return value

    def close(self) -> None:
        """Stop the process (if this process started one)."""
        with self._lock:
            self._stop()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._pid == os.getpid() and self._proc.poll() is None:
            return self._proc
        self._stop()  # a dead worker, or one a parent process started: never reused
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                self._args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=self._env,
            )
        except OSError as exc:
            raise ToolError(f"{self._args[0]} could not start: {exc}") from exc
        self._pid = os.getpid()
        self._buffer = b""
        return self._proc

    def _read_line(self, proc: subprocess.Popen[bytes], timeout_s: float) -> bytes:
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        fd = proc.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self._stop()
                    raise ToolError(f"{self._args[0]} took over {timeout_s:g} s on one request")
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise self._died("exited")
                self._buffer += chunk
        answer, _, self._buffer = self._buffer.partition(b"\n")
        return answer

    def _died(self, what: str) -> ToolError:
        tail = b""
        if self._stderr is not None:
            self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, self._stderr.tell() - self._STDERR_TAIL))
            tail = self._stderr.read()
        self._stop()
        return ToolError(f"{self._args[0]} {what}: {tail.decode('utf-8', 'replace').strip()}")

    def _stop(self) -> None:
        if self._proc is not None and self._pid == os.getpid():
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    stream.close()
        if self._stderr is not None:
            self._stderr.close()
        self._proc = None
        self._stderr = None
        self._buffer = b""
