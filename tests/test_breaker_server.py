"""The breaker against a real server: llama.cpp's server killed mid-run.

Killed for good, the job fails with the connection error quoted once, after
the breaker's threshold of dead letters in a row; the answers that finished
are in the result cache; a rerun with the server back asks only for the rest.
Killed and restarted on the same port, under a name the server does not list
(it lists the GGUF's path), the retries carry the run over the gap: it
finishes balanced, without a dead letter.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.llama_server import ALIAS, START_WAIT_S, LlamaServer

pytest.importorskip("llama_cpp.server.app")

RECORDS = 24
THRESHOLD = 5
BEFORE_KILL = 3  # answers committed to the cache before the server goes
_WAIT_S = 600  # only ends early: a loaded machine answers slowly


def _cached_entries(cache: Path) -> int:
    return sum(
        1 for path in cache.rglob("*.jsonl") for line in path.read_text().splitlines() if line
    )


def _kill_after_answers(server: LlamaServer, cache: Path, done: threading.Event) -> None:
    """Kill the server for good once BEFORE_KILL answers are committed (or the run ended)."""
    while not done.wait(0.2):
        if cache.exists() and _cached_entries(cache) >= BEFORE_KILL:
            server.kill()
            return


def _argv(server: LlamaServer, source: Path, out: Path, cache: Path) -> list[str]:
    return [
        *("code", "--stages", "sgcr", "--quiet", "--input", str(source), "--output", str(out)),
        *("--engine", "openai", "--endpoint", server.url, "--model", ALIAS),
        *("--max_tokens", "16", "--structured", "off", "--batch_size", "2"),
        *("--max_concurrency", "2", "--retries", "1", "--retry_max_wait", "0.1"),
        *("--cache_dir", str(cache), "--cache_flush_every", "1"),
        *("--breaker_threshold", str(THRESHOLD)),
    ]


def test_server_gone_for_good_trips_the_breaker_and_the_rerun_redoes_nothing(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": f"f{i}", "text": f"value_{i} = {i} * 2\n"}) for i in range(RECORDS)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cache = tmp_path / "cache"
    server = LlamaServer()
    server.start()
    try:
        done = threading.Event()
        killer = threading.Thread(target=_kill_after_answers, args=(server, cache, done))
        killer.start()
        try:
            status = main(_argv(server, source, tmp_path / "run1", cache))
        finally:
            done.set()
            killer.join(timeout=_WAIT_S)
        assert server.proc.poll() is not None, "the run ended before the server was killed"
        err = capsys.readouterr().err
        assert status == 3
        assert err.count(f"stage sgcr: {THRESHOLD} records in a row failed the same way") == 1
        assert "(connect_error)" in err
        finished = _cached_entries(cache)
        assert BEFORE_KILL <= finished < RECORDS

        server.start()  # back, on the same port
        out = tmp_path / "run2"
        assert main(_argv(server, source, out, cache)) == 0
    finally:
        server.stop()
    report = read_report(out)
    assert_conserved(report, read_outputs(out))
    sgcr = report["stages"]["sgcr"]
    assert sgcr["input"] == RECORDS and sgcr["dead_letter"] == 0
    # nothing that finished before the kill was asked again
    assert sgcr["cache"]["hits"] == finished
    assert sgcr["cache"]["misses"] == RECORDS - finished


def _kill_and_restart(
    server: LlamaServer, cache: Path, done: threading.Event, finished: list[int]
) -> None:
    """Once BEFORE_KILL answers of the run are committed, kill the server and start it
    again on its port; ``finished``: the answers committed at the kill."""
    while not done.wait(0.2):
        if cache.exists() and _cached_entries(cache) >= BEFORE_KILL:
            server.kill()
            finished.append(_cached_entries(cache))
            server.start()  # `answers` counts from 0 again
            return


def test_server_restarted_mid_run_loses_nothing_under_a_name_it_does_not_list(tmp_path):
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": f"r{i}", "text": f"total_{i} = {i} + 1\n"}) for i in range(12)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cache = tmp_path / "cache"
    server = LlamaServer(alias=None)  # /v1/models lists the GGUF's path, not ALIAS
    server.start()
    out = tmp_path / "out"
    try:
        done, finished = threading.Event(), []
        chaos = threading.Thread(target=_kill_and_restart, args=(server, cache, done, finished))
        chaos.start()
        try:
            status = main(
                [
                    *("code", "--stages", "sgcr", "--quiet", "--input", str(source)),
                    *("--output", str(out), "--engine", "openai"),
                    *("--endpoint", server.url, "--model", ALIAS),
                    *("--max_tokens", "16", "--structured", "off", "--batch_size", "2"),
                    # retries outlast a restart however long it takes here (START_WAIT_S)
                    *("--max_concurrency", "2", "--retries", str(START_WAIT_S)),
                    *("--retry_max_wait", "2", "--cache_dir", str(cache)),
                    *("--cache_flush_every", "1"),
                ]
            )
        finally:
            done.set()
            chaos.join(timeout=_WAIT_S)
        assert finished, "the run ended before the server was killed"
        assert finished[0] < len(lines), "every answer was in before the kill"
        assert server.answers > 0, "the restarted server answered nothing of the run"
    finally:
        server.stop()
    assert status == 0
    report = read_report(out)
    assert_conserved(report, read_outputs(out))
    sgcr = report["stages"]["sgcr"]
    assert report["balanced"] and sgcr["input"] == len(lines)
    assert sgcr["dead_letter"] == 0
