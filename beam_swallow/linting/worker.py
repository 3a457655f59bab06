"""The lint worker process: a warm linter serving one file at a time over a pipe.

Run as ``python -c <bootstrap>`` by :class:`~beam_swallow.linting.pool.LintPool`
with its private, empty working directory as cwd. Requests and replies are
frames on stdin / stdout: a 4-byte big-endian length, then a JSON object.

- request: ``{"id": int, "text": str}``
- reply: ``{"id": int, "result": {LintResult fields}, "rss_kb": int}`` (the
  worker's resident memory after the file); the
  first frame the worker sends, before any request, is ``{"ready": true}``.

The worker exits when stdin closes; if that is because the pool's process
died, it first removes its own directory (the pool cannot any more). It never times itself out: the pool kills
it when a file takes too long (a thread or an alarm cannot stop astroid
reliably, a killed process can).

``sys.path`` is made what the ``pylint`` CLI has when run from an empty
directory on a file in it: the interpreter's path without the current
directory, plus the file's directory in front. File descriptor 1 is pointed at
stderr so nothing pylint prints can corrupt the frames.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import struct
import sys
import threading
import time
from typing import Any, BinaryIO, NoReturn

from beam_swallow.linting.checker import LinterCrash, Unparsable, WarmLinter
from beam_swallow.linting.score import LintResult, Status, comment_ratio, penalized

__all__ = ["lint_source", "main", "read_frame", "write_frame"]

_HEADER = struct.Struct(">I")


def write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    """Send one JSON object as a length-prefixed frame."""
    body = json.dumps(message).encode("ascii")
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> dict[str, Any] | None:
    """Read one frame; None when the other side has gone (EOF, even mid-frame)."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    body = _read_exactly(stream, _HEADER.unpack(header)[0])
    return None if body is None else json.loads(body)


def lint_source(linter: WarmLinter, source: str) -> LintResult:
    """Score one file: pylint's note, the comment ratio, the penalized score."""
    try:
        note = linter.note(source)
    except Unparsable as exc:
        return LintResult(Status.UNPARSABLE, error=str(exc)[:2000])
    except LinterCrash as exc:
        return LintResult(Status.ERROR, error=str(exc)[:2000])
    except Exception as exc:  # e.g. text that cannot be written as UTF-8: broken, not judged
        return LintResult(Status.ERROR, error=f"{type(exc).__name__}: {exc}"[:2000])
    if note is None:
        return LintResult(Status.NO_STATEMENTS)
    ratio = comment_ratio(source)
    return LintResult(Status.OK, note, ratio, penalized(note, ratio))


def _rss_kb() -> int:
    """Resident memory now (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _isolate_path(workdir: str) -> None:
    """sys.path as the CLI has it for a file in ``workdir``: no cwd, the file's dir first."""
    here = os.path.realpath(workdir)
    sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != here]
    sys.path.insert(0, workdir)


def _clean_up_after_parent(workdir: str) -> None:
    """The pool's process is gone: remove this worker's directory, and the root if empty."""
    shutil.rmtree(workdir, ignore_errors=True)
    try:
        os.rmdir(os.path.dirname(workdir))
    except OSError:
        pass  # other workers' directories are still there


def _exit_with_parent(workdir: str) -> int:
    """Exit when the pool's process is gone, even in the middle of a long file."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        _clean_up_after_parent(workdir)
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    return parent


def main() -> NoReturn:
    """Serve requests until stdin closes, then exit at once (status 0)."""
    workdir = os.getcwd()
    parent = _exit_with_parent(workdir)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    _isolate_path(workdir)
    linter = WarmLinter(workdir)
    write_frame(replies, {"ready": True})
    while (request := read_frame(requests)) is not None:
        result = lint_source(linter, request["text"])
        write_frame(
            replies,
            {"id": request["id"], "result": dataclasses.asdict(result), "rss_kb": _rss_kb()},
        )
    if os.getppid() != parent:
        _clean_up_after_parent(workdir)
    replies.flush()
    # Skip the interpreter's teardown: freeing a warm astroid heap object by
    # object took 3-6 s per worker, time a pipeline's teardown waited for.
    # Every reply is flushed and nothing else is buffered.
    os._exit(0)
