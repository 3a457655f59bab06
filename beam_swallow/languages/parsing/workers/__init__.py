"""The exact parsers that live in a long-lived process: Node (JavaScript, TypeScript, TSX),
a JVM (Java), PHP and Ruby.

Starting these runtimes costs more than parsing a file (a JVM about 0.5-1 s,
Node about 0.1 s, Ruby and PHP tens of milliseconds), so each is started once per
Python process as a :class:`~beam_swallow.languages.tools.Worker` running one
small program of ours shipped beside this module (package data, no build step):

- ``node_parse.cjs``: esbuild (JavaScript, JSX allowed) and the TypeScript
  compiler's parser (TypeScript, TSX), both from the npm packages ``make tools``
  installs under ``tools_home()/node``.
- ``JavaParse.java``: javac's parser (``JavacTask.parse``), run as a single-file
  source program (``java JavaParse.java``).
- ``php_parse.php``: PHP's parser (``token_get_all(..., TOKEN_PARSE)``, the parse of ``php -l``).
- ``ruby_parse.rb``: Ruby's compiler without running anything
  (``RubyVM::InstructionSequence.compile``, what ``ruby -c`` does).

Each takes a batch of files per request and answers one verdict per file; the
request has the call's timeout (the worker is killed when it runs out, and the
next request starts a new one). Several threads share a worker, taking turns.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from beam_swallow.languages.parsing.config import ParseVerdict
from beam_swallow.languages.tools import ToolError, ToolMissing, Worker, find_tool, tools_home

__all__ = ["WORKERS", "WorkerSpec", "check_worker"]

_HERE = Path(__file__).parent
_MAKE_TOOLS = "make tools"


@dataclass(frozen=True)
class WorkerSpec:
    """One worker program: the runtime that runs it, its file, and how to install both."""

    program: str
    install: str
    script: str
    node_packages: tuple[str, ...] = ()

    def args(self) -> list[str]:
        """The worker's command line; raises ToolMissing when a part is not installed."""
        runtime = find_tool(self.program, self.install)
        script = str(_HERE / self.script)
        if not self.node_packages:
            return [runtime, script]
        modules = tools_home() / "node" / "node_modules"
        for package in self.node_packages:
            if not (modules / package / "package.json").is_file():
                raise ToolMissing(
                    f"the npm package {package} is not installed in {modules}: {_MAKE_TOOLS}"
                )
        return [runtime, script, str(modules)]


_NODE = WorkerSpec(
    "node", "install Node.js 18 or later", "node_parse.cjs", ("esbuild", "typescript")
)
_JAVA = WorkerSpec(
    "java", "install a JDK 11 or later (apt-get install openjdk-17-jdk-headless)", "JavaParse.java"
)
_PHP = WorkerSpec("php", f"{_MAKE_TOOLS} (apt-get install php8.2-cli)", "php_parse.php")
_RUBY = WorkerSpec("ruby", f"{_MAKE_TOOLS} (apt-get install ruby)", "ruby_parse.rb")

# language -> the worker that parses it.
WORKERS: dict[str, WorkerSpec] = {
    "JavaScript": _NODE,
    "TypeScript": _NODE,
    "TSX": _NODE,
    "Java": _JAVA,
    "PHP": _PHP,
    "Ruby": _RUBY,
}

_started: dict[WorkerSpec, Worker] = {}
_started_lock = threading.Lock()


def _worker(spec: WorkerSpec) -> Worker:
    with _started_lock:
        worker = _started.get(spec)
        if worker is None:
            worker = _started[spec] = Worker(spec.args())
        return worker


def check_worker(language: str, sources: list[str], timeout_s: float) -> list[ParseVerdict]:
    """One verdict per source, from ``language``'s worker in one request of ``timeout_s``
    seconds; raises ToolError when the worker fails the request, ToolMissing when it is not
    installed."""
    answer = _worker(WORKERS[language]).request(
        {"language": language, "sources": sources}, timeout_s
    )
    checker, verdicts = answer.get("checker"), answer.get("verdicts")
    if (
        not isinstance(checker, str)
        or not isinstance(verdicts, list)
        or len(verdicts) != len(sources)
    ):
        raise ToolError(f"{language}'s parse worker answered {str(answer)[:200]}")
    return [
        ParseVerdict(True, checker)
        if ok
        else ParseVerdict.rejected(checker, str(message), line, column)
        for ok, line, column, message in verdicts
    ]
