"""The openai engine against real servers on 127.0.0.1.

A real OpenAI-compatible server (``python -m llama_cpp.server`` serving the
embedded SmolLM2 GGUF), and, for faults, that server killed mid-run and
restarted, plus a small stdlib HTTP server in front of it that answers errors
(500 always, 400 always, or 429 twice before passing the request on).
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time
from collections import Counter

import apache_beam as beam
import httpx
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from beam_swallow.inference.base import ChatResult, Message, SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.records import Reason, Record
from beam_swallow.testing import free_port
from beam_swallow.testing.llama_server import ALIAS, START_WAIT_S, LlamaServer
from beam_swallow.transforms.llm import LLMStage

pytest.importorskip("llama_cpp.server.app")

STAGE = "ask"
CONTEXT = 1024


@pytest.fixture(scope="module")
def server():
    running = LlamaServer(CONTEXT)
    running.start()
    yield running
    running.stop()


class ErrorServer:
    """A real HTTP server that answers errors chosen by the request's first word.

    ``status500 ...`` -> 500 always; ``status400 ...`` -> 400 always;
    ``status429 ...`` -> 429 for the first two attempts, then the request is
    passed on to the real server and its answer returned; ``strict ...`` -> 400
    when the body has a field OpenAI's own API does not know (a grammar), as that
    API answers, else passed on. Attempts are counted per first word.
    """

    def __init__(self, upstream: str) -> None:
        self.attempts: Counter[str] = Counter()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                word = json.loads(body)["messages"][-1]["content"].split()[0]
                outer.attempts[word] += 1
                if word == "status500" or (word == "status429" and outer.attempts[word] <= 2):
                    self._reply(500 if word == "status500" else 429, b'{"error": "busy"}')
                elif word == "status400":
                    self._reply(400, b'{"error": {"message": "bad request"}}')
                elif word == "strict" and "grammar" in json.loads(body):
                    self._reply(400, b'{"error": {"message": "Unrecognized argument: grammar"}}')
                else:
                    answer = httpx.post(
                        f"{upstream}/chat/completions",
                        content=body,
                        timeout=60,
                        headers={"Content-Type": "application/json"},
                    )
                    self._reply(answer.status_code, answer.content)

            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name): /models and the like
                answer = httpx.get(upstream + self.path.removeprefix("/v1"), timeout=60)
                self._reply(answer.status_code, answer.content)

            def _reply(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _engine(url: str, **changes) -> EngineConfig:
    config = EngineConfig(
        engine="openai",
        model=ALIAS,
        endpoint=url,
        max_concurrency=2,
        request_timeout=60,
        retries=8,
        retry_max_wait=2.0,
        sampling=SamplingParams(max_tokens=48, seed=3),
        batch_size=4,
    )
    return dataclasses.replace(config, **changes)


def _request_builder(engine: EngineConfig, grammar: str | None = None):
    def build(record: Record):
        return engine.request(
            record["id"],
            (
                Message("system", "You are a helpful assistant."),
                Message("user", record["text"]),
            ),
            grammar,
        )

    return build


def judge(record: Record, result: ChatResult):
    return {**record, "answer": result.text}


def _run(engine: EngineConfig, records: list[Record], grammar: str | None = None):
    pipeline = beam.Pipeline(runner=FnApiRunner())
    build = _request_builder(engine, grammar)
    out = pipeline | beam.Create(records) | LLMStage(STAGE, engine, build, judge)
    collected = {}
    for name in ("kept", "rejected", "dead_letter"):
        collected[name] = getattr(out, name)
    return pipeline, collected


def _metrics(run, engine: str = "openai") -> dict[str, int]:
    query = run.metrics().query(MetricsFilter().with_namespace(f"inference.{engine}"))
    return {c.key.metric.name: c.committed for c in query["counters"]}


def _ids(pcoll, label: str):
    return pcoll | label >> beam.Map(lambda r: r["id"])


def _conservation(out, total: int) -> None:
    counted = (
        [out["kept"], out["rejected"], out["dead_letter"]]
        | "AllExits" >> beam.Flatten()
        | beam.combiners.Count.Globally()
    )
    assert_that(counted, equal_to([total]), label="conservation")


QUESTIONS = [
    "What is the capital of France? Answer in one short sentence.",
    "Name one colour of the rainbow. Answer in one short sentence.",
    "What is two plus two? Answer in one short sentence.",
    "Which animal says moo? Answer in one short sentence.",
]


def test_answers_and_too_long_through_a_real_server(server):
    engine = _engine(server.url)
    long_text = "Repeat after me: " + " ".join(["banana"] * 3000)
    records = [{"id": f"q{i}", "text": q} for i, q in enumerate(QUESTIONS)]
    records.append({"id": "huge", "text": long_text})
    pipeline, out = _run(engine, records)
    assert_that(_ids(out["kept"], "K"), equal_to([f"q{i}" for i in range(4)]), label="kept")
    assert_that(
        out["rejected"] | beam.Map(lambda r: (r["id"], r["reason"])),
        equal_to([("huge", Reason.TOO_LONG)]),
        label="rejected",
    )
    assert_that(out["dead_letter"], equal_to([]), label="dead")

    def stamped(kept):
        for record in kept:
            stamp = record["generation"][STAGE]
            assert record["answer"].strip()
            assert stamp["engine"] == "openai" and stamp["model"] == "smollm2"
            assert stamp["prompt_tokens"] > 5 and stamp["completion_tokens"] > 0

    assert_that(out["kept"], stamped, label="stamps")
    _conservation(out, len(records))
    run = pipeline.run()
    run.wait_until_finish()
    counters = _metrics(run)
    assert counters["requests"] == 5 and counters["too_long"] == 1
    assert counters["errors"] == 0 and counters["retries"] == 0


def test_server_killed_mid_run_and_restarted_loses_nothing(server):
    # Retries outlast a restart however long it takes here (up to START_WAIT_S).
    engine = _engine(server.url, max_concurrency=2, batch_size=2, retries=START_WAIT_S // 2)
    records = [{"id": f"r{i}", "text": QUESTIONS[i % 4]} for i in range(8)]

    # answers of this run, not of an earlier test, start the kill: the worker's preflight
    # probe and one record's
    before = server.answers

    def kill_and_restart():
        server.wait_for_answers(before + 2, timeout=120)
        server.kill()
        time.sleep(1.0)
        server.start()

    chaos = threading.Thread(target=kill_and_restart, daemon=True)
    chaos.start()
    pipeline, out = _run(engine, records)
    assert_that(_ids(out["kept"], "K"), equal_to([r["id"] for r in records]), label="kept")
    assert_that(out["rejected"], equal_to([]), label="rejected")
    assert_that(out["dead_letter"], equal_to([]), label="dead")
    _conservation(out, len(records))
    run = pipeline.run()
    run.wait_until_finish()
    chaos.join(timeout=120)
    counters = _metrics(run)
    assert counters["retries"] > 0, "the kill should have forced retries"
    assert counters["requests"] == 8 and counters["errors"] == 0


def test_server_answering_errors(server):
    errors = ErrorServer(server.url)
    try:
        engine = _engine(errors.url, retries=3, retry_max_wait=0.2)
        records = [
            {"id": "always_500", "text": "status500 hello"},
            {"id": "always_400", "text": "status400 hello"},
            {"id": "busy_then_fine", "text": "status429 " + QUESTIONS[0]},
            {"id": "fine", "text": QUESTIONS[2]},
        ]
        pipeline, out = _run(engine, records)
        assert_that(_ids(out["kept"], "K"), equal_to(["busy_then_fine", "fine"]), label="kept")
        assert_that(
            out["dead_letter"]
            | beam.Map(lambda r: (r["id"], r["error_type"], r["error"].split(":")[0])),
            equal_to(
                [
                    ("always_500", "http_status_error", "HTTP 500"),
                    ("always_400", "http_status_error", "HTTP 400"),
                ]
            ),
            label="dead",
        )
        assert_that(out["rejected"], equal_to([]), label="rejected")
        _conservation(out, len(records))
        run = pipeline.run()
        run.wait_until_finish()
        # 500 and 429 are retried (3 retries = 4 attempts at most), 400 never
        assert errors.attempts["status500"] == 4
        assert errors.attempts["status400"] == 1
        assert errors.attempts["status429"] == 3
        counters = _metrics(run)
        assert counters["errors"] == 2 and counters["retries"] == 3 + 2
    finally:
        errors.close()


def test_unreachable_server_fails_the_job_naming_it():
    """A worker that cannot reach the server fails its bundle with that one error
    (the runner's retries and job failure apply), instead of dead-lettering every record."""
    url = f"http://127.0.0.1:{free_port()}/v1"
    engine = _engine(url, retries=2, retry_max_wait=0.1)
    pipeline, out = _run(engine, [{"id": "nobody_home", "text": QUESTIONS[0]}])
    with pytest.raises(Exception, match=f"cannot reach the server at {url}"):
        pipeline.run().wait_until_finish()


YES_NO = 'root ::= "yes" | "no"'
YES_NO_QUESTIONS = [q.replace("Answer in one short sentence.", "Say yes or no.") for q in QUESTIONS]


def _structured_answers(kept):
    return [(r["answer"], r["generation"][STAGE]["structured"]) for r in kept]


def test_grammar_is_enforced_by_the_server(server):
    engine = _engine(server.url)
    records = [{"id": f"q{i}", "text": q} for i, q in enumerate(YES_NO_QUESTIONS)]
    pipeline, out = _run(engine, records, YES_NO)

    def yes_or_no(kept):
        answers = _structured_answers(kept)
        assert len(answers) == len(records)
        assert all(answer in ("yes", "no") and structured for answer, structured in answers)

    assert_that(out["kept"], yes_or_no, label="yes_no")
    _conservation(out, len(records))
    run = pipeline.run()
    run.wait_until_finish()
    counters = _metrics(run)
    assert counters["structured"] == len(records) and counters["structured_refused"] == 0


def test_server_refusing_the_grammar_is_asked_again_without_it(server):
    errors = ErrorServer(server.url)
    try:
        engine = _engine(errors.url, batch_size=1, max_concurrency=1)
        records = [{"id": f"q{i}", "text": f"strict {q}"} for i, q in enumerate(QUESTIONS)]
        pipeline, out = _run(engine, records, YES_NO)

        def unconstrained(kept):
            answers = _structured_answers(kept)
            assert len(answers) == len(records)
            assert not any(structured for _, structured in answers)

        assert_that(out["kept"], unconstrained, label="unconstrained")
        assert_that(out["dead_letter"], equal_to([]), label="dead")
        _conservation(out, len(records))
        run = pipeline.run()
        run.wait_until_finish()
        # refused once; every later request of the client goes without the grammar
        assert errors.attempts["strict"] == len(records) + 1
        counters = _metrics(run)
        assert counters["structured_refused"] == len(records) and counters["structured"] == 0
        assert counters["errors"] == 0 and counters["retries"] == 0
    finally:
        errors.close()
