"""The language catalog, and the external-tool plumbing every language home shares."""

from __future__ import annotations

import multiprocessing
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from beam_swallow.languages import LANGUAGES, by_extension, by_label, names
from beam_swallow.languages.tools import (
    ToolError,
    ToolMissing,
    Worker,
    find_tool,
    run_tool,
    tool_version,
)

# A worker program for the tests: answers {"text": T} with {"upper": T.upper(), "pid": pid};
# {"sleep": S} sleeps S seconds first; {"exit": 1} dies without answering.
_ECHO = """
import json, os, sys, time
for line in sys.stdin:
    request = json.loads(line)
    if request.get("exit"):
        print("going away", file=sys.stderr, flush=True)
        sys.exit(3)
    time.sleep(request.get("sleep", 0))
    print(json.dumps({"upper": request["text"].upper(), "pid": os.getpid()}), flush=True)
"""
_ECHO_ARGS = [sys.executable, "-c", _ECHO]
# Long enough that a loaded machine answers well inside it; only a hang reaches it.
_PATIENT_S = 120.0


def test_labels_match_linguist_names_in_any_case():
    assert by_label("cuda").name == "Cuda"
    assert by_label("C++").name == "C++"
    assert by_label(" tsx ").name == "TSX"
    assert by_label("Haskell") is None
    assert names()[0] == "Python"
    assert len(set(names())) == len(LANGUAGES) == 16


def test_extensions_name_one_language_each():
    assert by_extension(".RS").name == "Rust"
    assert by_extension(".h").name == "C"  # linguist's fallback for an unlabelled header
    assert by_extension(".hs") is None
    every = [ext for language in LANGUAGES for ext in language.extensions]
    assert len(every) == len(set(every))


def test_a_missing_tool_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ToolMissing, match="no-such-formatter is not installed: make tools"):
        find_tool("no-such-formatter", "make tools")
    monkeypatch.setenv("BEAM_SWALLOW_NO_SUCH_FORMATTER", "/nonexistent/bin/fmt")
    with pytest.raises(ToolMissing, match="BEAM_SWALLOW_NO_SUCH_FORMATTER"):
        find_tool("no-such-formatter", "make tools")


def test_the_environment_variable_names_the_program(monkeypatch):
    monkeypatch.setenv("BEAM_SWALLOW_MY_PY", sys.executable)
    assert find_tool("my-py", "-") == sys.executable


def test_run_tool_kills_a_program_past_its_timeout():
    done = run_tool(
        [sys.executable, "-c", "import sys; print(sys.stdin.read()[::-1])"],
        stdin="abc",
        timeout_s=_PATIENT_S,
    )
    assert done.stdout == "cba\n"
    with pytest.raises(ToolError, match="took over 0.5 s"):
        run_tool([sys.executable, "-c", "import time; time.sleep(60)"], timeout_s=0.5)
    with pytest.raises(ToolError, match="could not start"):
        run_tool(["/nonexistent/program"], timeout_s=_PATIENT_S)


def test_tool_version_is_the_first_line_printed():
    assert tool_version((sys.executable, "--version")).startswith("Python 3.")


def test_a_worker_answers_in_order_and_stays_up():
    worker = Worker(_ECHO_ARGS)
    try:
        first = worker.request({"text": "ab"}, _PATIENT_S)
        second = worker.request({"text": "cd"}, _PATIENT_S)
        assert (first["upper"], second["upper"]) == ("AB", "CD")
        assert first["pid"] == second["pid"]
    finally:
        worker.close()


def test_a_worker_past_its_timeout_is_killed_and_the_next_request_gets_a_new_one():
    worker = Worker(_ECHO_ARGS)
    try:
        before = worker.request({"text": "x"}, _PATIENT_S)["pid"]
        with pytest.raises(ToolError, match="took over 0.5 s on one request"):
            worker.request({"text": "slow", "sleep": 60}, 0.5)
        after = worker.request({"text": "y"}, _PATIENT_S)
        assert after["upper"] == "Y" and after["pid"] != before
    finally:
        worker.close()


def test_a_worker_that_dies_quotes_its_stderr_and_is_replaced():
    worker = Worker(_ECHO_ARGS)
    try:
        with pytest.raises(ToolError, match="exited: going away"):
            worker.request({"exit": 1}, _PATIENT_S)
        assert worker.request({"text": "z"}, _PATIENT_S)["upper"] == "Z"
    finally:
        worker.close()


def test_threads_sharing_a_worker_each_get_their_own_answer():
    worker = Worker(_ECHO_ARGS)
    texts = [f"text {n}" for n in range(64)]
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda t: worker.request({"text": t}, _PATIENT_S), texts))
        assert [a["upper"] for a in answers] == [t.upper() for t in texts]
    finally:
        worker.close()


def _in_child(worker: Worker, queue) -> None:
    queue.put(worker.request({"text": "child"}, _PATIENT_S))
    worker.close()


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_a_process_never_uses_a_worker_its_parent_started(start_method):
    worker = Worker(_ECHO_ARGS)
    context = multiprocessing.get_context(start_method)
    try:
        parent = worker.request({"text": "parent"}, _PATIENT_S)["pid"]
        queue = context.Queue()
        children = [context.Process(target=_in_child, args=(worker, queue)) for _ in range(2)]
        for child in children:
            child.start()
        answers = [queue.get(timeout=_PATIENT_S) for _ in children]
        for child in children:
            child.join(_PATIENT_S)
            assert child.exitcode == 0
        assert all(a["upper"] == "CHILD" for a in answers)
        assert parent not in {a["pid"] for a in answers}
        assert worker.request({"text": "again"}, _PATIENT_S)["pid"] == parent
    finally:
        worker.close()


def test_threads_of_a_child_and_its_parent_at_once():
    worker = Worker(_ECHO_ARGS)
    errors: list[BaseException] = []

    def ask(n: int) -> None:
        try:
            assert worker.request({"text": f"t{n}"}, _PATIENT_S)["upper"] == f"T{n}"
        except BaseException as exc:  # reported below
            errors.append(exc)

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(worker, queue))
    try:
        child.start()
        threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(_PATIENT_S)
        assert queue.get(timeout=_PATIENT_S)["upper"] == "CHILD"
        child.join(_PATIENT_S)
        assert not errors and child.exitcode == 0
    finally:
        worker.close()
