"""The vllm engine for real: vLLM's CPU build serving SmolLM2-135M converted from the GGUF.

One server per machine and configuration, shared by every SDK process and
thread: these tests call it from one process, from several threads, from two
SDK worker processes, kill it mid-run, and check that a finished job leaves no
engine behind. Answers are greedy (temperature 0), so every run must give each
record the same answer text and prompt token count as the one-process run.

Skipped where vllm is not importable (the main test environment); ``make
test-vllm`` builds the vLLM environment and the checkpoint and runs these.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("vllm")

import apache_beam as beam  # noqa: E402
import httpx  # noqa: E402
from apache_beam.metrics.metric import MetricsFilter  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from apache_beam.runners.portability.fn_api_runner import FnApiRunner  # noqa: E402
from apache_beam.testing.util import assert_that, equal_to  # noqa: E402

from beam_swallow.inference.base import Message, SamplingParams  # noqa: E402
from beam_swallow.inference.config import EngineConfig  # noqa: E402
from beam_swallow.inference.handler import STAGE_NAMESPACE  # noqa: E402
from beam_swallow.inference.speculative import SpeculativeConfig  # noqa: E402
from beam_swallow.inference.supervisor import PID_NAME, alive  # noqa: E402
from beam_swallow.inference.vllm_server import MachineServer, state_dir  # noqa: E402
from beam_swallow.prompts import load_prompt  # noqa: E402
from beam_swallow.records import Reason  # noqa: E402
from beam_swallow.testing.speculation import NgramReplay, read_pairs  # noqa: E402
from beam_swallow.transforms.layouts import SGCR_GRAMMAR  # noqa: E402
from beam_swallow.transforms.llm import LLMStage  # noqa: E402
from beam_swallow.transforms.parse import parse_sgcr  # noqa: E402

pytestmark = pytest.mark.vllm

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")

MODEL = os.environ.get("VLLM_TEST_MODEL", ".cache/smollm2-hf")
STAGE = "ask"
ENGINE = EngineConfig(
    engine="vllm",
    model=MODEL,
    dtype="float32",
    max_model_len=2048,
    sampling=SamplingParams(temperature=0.0, max_tokens=32, seed=5),
    engine_kwargs={"enforce_eager": True},
    batch_size=4,
    retries=4,
)
SUBJECTS = ["France", "Japan", "Kenya", "Peru", "Norway", "Egypt", "Chile", "India"]
QUESTIONS = [
    f"{what} {subject}? Answer in one short sentence."
    for subject in SUBJECTS
    for what in ("What is the capital of", "What language is spoken in")
]
RECORDS = [{"id": f"q{i:02d}", "text": q} for i, q in enumerate(QUESTIONS)]
# A wait that only ends early: a job that hangs fails here instead of never.
HANG_S = 900


@pytest.fixture(scope="module", autouse=True)
def checkpoint():
    if not (Path(MODEL) / "config.json").exists():
        pytest.fail(f"no checkpoint at {MODEL}: run `make vllm-cpu` first")


def build(record):
    messages = (Message("system", "You are a helpful assistant."), Message("user", record["text"]))
    return ENGINE.request(record["id"], messages)


def judge(record, result):
    return {**record, "answer": result.text}


def answer_of(record):
    return record["id"], record["answer"], record["generation"][STAGE]["prompt_tokens"]


def _pipeline(mode: str = "in_memory", workers: int = 1) -> beam.Pipeline:
    options = PipelineOptions(direct_running_mode=mode, direct_num_workers=workers)
    return beam.Pipeline(runner=FnApiRunner(), options=options)


def _conservation(out, total: int) -> None:
    counted = (
        [out.kept, out.rejected, out.dead_letter]
        | "AllExits" >> beam.Flatten()
        | beam.combiners.Count.Globally()
    )
    assert_that(counted, equal_to([total]), label="conservation")


def _finish(pipeline: beam.Pipeline) -> tuple[object, float]:
    """Run ``pipeline`` in a thread; fail if it has not finished after HANG_S."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            result = pipeline.run()
            result.wait_until_finish()
            outcome["result"] = result
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_S)
    assert not worker.is_alive(), f"the job did not finish in {HANG_S} s (hung)"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"], time.monotonic() - started


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Every record's (id, answer, prompt tokens) from one process calling the engine."""
    MachineServer(ENGINE).attach()  # this process is a user: the server lives for the module
    folder = tmp_path_factory.mktemp("reference")
    pipeline = _pipeline()
    out = pipeline | beam.Create(RECORDS) | LLMStage(STAGE, ENGINE, build, judge)
    _ = (
        out.kept
        | beam.Map(lambda r: json.dumps(answer_of(r)))
        | beam.io.WriteToText(str(folder / "answers"))
    )
    _finish(pipeline)
    answers = [
        tuple(json.loads(line))
        for path in folder.glob("answers*")
        for line in path.read_text().splitlines()
    ]
    assert len(answers) == len(RECORDS)
    return sorted(answers)


def _state() -> dict:
    return json.loads((state_dir(ENGINE) / "server.json").read_text())


def test_llm_stage_on_vllm():
    records = [*RECORDS[:3], {"id": "huge", "text": "banana " * 3000}]  # > 2048 tokens
    pipeline = _pipeline()
    out = pipeline | beam.Create(records) | LLMStage(STAGE, ENGINE, build, judge)
    assert_that(
        out.kept | "KeptIds" >> beam.Map(lambda r: r["id"]),
        equal_to(["q00", "q01", "q02"]),
        label="kept",
    )
    assert_that(
        out.rejected | beam.Map(lambda r: (r["id"], r["reason"])),
        equal_to([("huge", Reason.TOO_LONG)]),
        label="rejected",
    )
    assert_that(out.dead_letter, equal_to([]), label="dead")

    def stamped(kept):
        for record in kept:
            stamp = record["generation"][STAGE]
            assert record["answer"].strip()
            assert stamp["engine"] == "vllm" and stamp["model"] == MODEL
            assert stamp["prompt_tokens"] > 10 and 0 < stamp["completion_tokens"] <= 32

    assert_that(out.kept, stamped, label="stamps")
    _conservation(out, len(records))
    run, _ = _finish(pipeline)
    query = run.metrics().query(MetricsFilter().with_namespace("inference.vllm"))
    counters = {c.key.metric.name: c.committed for c in query["counters"]}
    assert counters["requests"] == 4 and counters["too_long"] == 1
    assert counters["completion_tokens"] > 0 and counters["errors"] == 0


@pytest.mark.parametrize(
    ("mode", "workers"),
    [("multi_threading", 4), ("multi_processing", 2)],
    ids=["threads", "processes"],
)
def test_many_callers_get_their_own_answers(reference, mode, workers):
    """Several threads, then two SDK processes, call one engine at once: each record
    gets the one-process run's answer, none is lost, none hangs."""
    pipeline = _pipeline(mode, workers)
    records = pipeline | beam.Create(RECORDS) | beam.Reshuffle()
    out = records | LLMStage(STAGE, ENGINE, build, judge)
    assert_that(out.kept | beam.Map(answer_of), equal_to(reference), label="answers")
    assert_that(out.rejected, equal_to([]), label="rejected")
    assert_that(out.dead_letter, equal_to([]), label="dead")
    _conservation(out, len(RECORDS))
    _finish(pipeline)


def _answered(url: str) -> float:
    """Requests the server has finished since it started (its Prometheus counter)."""
    metrics = httpx.get(f"{url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("vllm:request_success_total")
    )


def test_engine_killed_mid_run_is_restarted_and_loses_nothing(reference):
    before = _state()
    killed = threading.Event()
    url = before["url"].removesuffix("/v1")
    baseline = _answered(url)

    def kill_after_two_answers() -> None:
        deadline = time.monotonic() + HANG_S
        while time.monotonic() < deadline:
            if _answered(url) >= baseline + 2:
                os.killpg(int((state_dir(ENGINE) / PID_NAME).read_text()), signal.SIGKILL)
                killed.set()
                return
            time.sleep(0.1)

    # two in flight at a time, so that most of the run is still to come at the kill
    engine = replace(ENGINE, batch_size=2, max_concurrency=2)
    records = [{**r, "id": f"k{r['id']}"} for r in RECORDS]
    chaos = threading.Thread(target=kill_after_two_answers, daemon=True)
    chaos.start()
    pipeline = _pipeline()
    out = pipeline | beam.Create(records) | LLMStage(STAGE, engine, build, judge)
    expected = [(f"k{i}", a, t) for i, a, t in reference]
    assert_that(out.kept | beam.Map(answer_of), equal_to(expected), label="answers")
    assert_that(out.dead_letter, equal_to([]), label="dead")
    _conservation(out, len(records))
    run, _ = _finish(pipeline)
    assert killed.is_set(), "the run ended before the engine could be killed"
    after = _state()
    assert after["pid"] != before["pid"] and alive(after["pid"])
    query = run.metrics().query(MetricsFilter().with_namespace("inference.vllm"))
    counters = {c.key.metric.name: c.committed for c in query["counters"]}
    assert counters["retries"] > 0 and counters["errors"] == 0


def _engine_flags(engine: EngineConfig) -> list[str]:
    """The command-line flags of a vllm ``engine`` like :data:`ENGINE` (model, dtype,
    engine kwargs, context)."""
    return [
        *("--engine", "vllm", "--model", str(engine.model), "--dtype", str(engine.dtype)),
        *("--engine_kwargs", json.dumps(engine.engine_kwargs)),
        *("--max_model_len", str(engine.max_model_len)),
    ]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "beam_swallow.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=HANG_S,
    )


def test_job_of_two_processes_finishes_and_leaves_no_engine(tmp_path):
    """The issue's run: sgcr on the vllm engine with two SDK processes. It ends,
    balances, and once the command exits its server stops (no user is left)."""
    from beam_swallow.samples import code_sample_records

    files = tmp_path / "in"
    files.mkdir()
    records = code_sample_records(8, max_bytes=600)
    for shard in range(4):
        with open(files / f"part-{shard}.jsonl", "w") as out:
            for record in records[shard::4]:
                out.write(json.dumps(record) + "\n")
    # the config the command builds: a server of its own, not the module's
    own = replace(ENGINE, model=str(Path(MODEL).resolve()), max_model_len=1536)
    result = _cli(
        "code",
        "--stages",
        "sgcr",
        "--input",
        str(files / "*.jsonl"),
        "--output",
        str(tmp_path / "out"),
        *_engine_flags(own),
        "--max_tokens",
        "24",
        "--temperature",
        "0",
        "--batch_size",
        "4",
        "--structured",
        "off",
        "--direct_running_mode",
        "multi_processing",
        "--direct_num_workers",
        "2",
        cwd=Path.cwd(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["balanced"] and report["input"] == len(records)
    assert report["stages"]["sgcr"]["dead_letter"] == 0
    state = json.loads((state_dir(own) / "server.json").read_text())
    server = int((state_dir(own) / PID_NAME).read_text())
    deadline = time.monotonic() + 300
    while (alive(state["pid"]) or alive(server)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not alive(state["pid"]) and not alive(server), "the engine outlived its job"


def test_preflight_refuses_max_tokens_beyond_the_servers_context(reference, tmp_path):
    """vLLM's own server with a 2,048 context and the default --max_tokens 8192: the
    server refuses a request for 8,192 tokens, so the run is refused before the first
    record, naming the flag and quoting the server."""
    started = time.monotonic()
    result = _cli(
        "code",
        "--stages",
        "sgcr",
        "--output",
        str(tmp_path / "out"),
        "--engine",
        "openai",
        "--endpoint",
        _state()["url"],
        "--model",
        MODEL,
        cwd=Path.cwd(),
    )
    assert result.returncode == 2
    url = _state()["url"]
    # the server's own refusal of a request for that many tokens, quoted
    assert (
        f"--max_tokens 8192 does not fit the model served at {url}: it refused a request for "
        "that many tokens (HTTP 400: max_tokens=8192 cannot be greater than max_model_len=2048."
    ) in result.stderr, result.stderr
    assert not (tmp_path / "out").exists(), "nothing may be written before the check"
    assert time.monotonic() - started < HANG_S


def test_preflight_takes_max_tokens_equal_to_the_servers_context(reference):
    """vLLM refuses only a max_tokens above max_model_len: asked for all 2,048 tokens of
    its context, it takes the (streamed, one-token) probe, as the vllm engine's launch
    check expects."""
    from beam_swallow.inference.preflight import check_server

    url = _state()["url"]
    config = EngineConfig(
        engine="openai", endpoint=url, model=MODEL, sampling=SamplingParams(max_tokens=2048)
    )
    facts = check_server(config)
    assert facts.context == 2048 and facts.probed_max_tokens == 2048
    assert facts.models == (MODEL,) and facts.answered == MODEL


def test_preflight_refuses_a_model_the_server_does_not_serve(reference, tmp_path):
    """vLLM's server answers 404 to a name it does not serve: the run is refused before
    the first record, in the server's words (llama.cpp's servers answer any name)."""
    url = _state()["url"]
    result = _cli(
        *("code", "--stages", "sgcr", "--output", str(tmp_path / "out")),
        *("--engine", "openai", "--endpoint", url, "--model", "not-served"),
        *("--max_tokens", "24"),
        cwd=Path.cwd(),
    )
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, result.stderr
    assert (
        f"beam-swallow code: error: the server at {url} refused --model not-served "
        "(HTTP 404: The model `not-served` does not exist."
    ) in errors[0]
    assert errors[0].endswith(f"; it lists {MODEL}"), errors[0]
    assert not (tmp_path / "out").exists(), "nothing may be written before the check"


def test_structured_outputs_give_sgcr_answers_that_parse(reference):
    """vLLM's structured outputs decode under the SGCR grammar: every answer
    that finishes (the judge here keeps them all) holds a score from 1 to 10 and
    a python block."""
    engine = replace(ENGINE, sampling=SamplingParams(max_tokens=384, seed=5))
    prompt = load_prompt("sgcr")
    codes = ["def add(a,b):\n  return a+b\n", "import os\nprint(os.getcwd())\n"]
    records = [{"id": f"c{i}", "text": code} for i, code in enumerate(codes)]

    def build_sgcr(record):
        return engine.request(record["id"], prompt.messages(record["text"]), SGCR_GRAMMAR)

    pipeline = _pipeline()
    out = pipeline | beam.Create(records) | LLMStage("sgcr", engine, build_sgcr, judge)

    def parsed(kept):
        assert kept  # an answer may run to max_tokens (rejected truncated); not all of them
        for record in kept:
            assert record["generation"]["sgcr"]["structured"] is True
            answer = parse_sgcr(record["answer"])
            assert 1.0 <= answer.score <= 10.0 and answer.code, record["answer"]

    assert_that(out.kept, parsed, label="parsed")
    _finish(pipeline)


def test_structured_outputs_give_score_answers_that_parse(reference):
    """The v2 score stage on vLLM: decoded under SCORE_GRAMMAR, every answer that
    finishes has a whole score from 0 to 10 and a one-line reason, and is banded."""
    from beam_swallow.transforms.rewriting import RewriteConfig
    from beam_swallow.transforms.score import SCORE_GRAMMAR, Score, ScoreBands, band_of

    engine = replace(ENGINE, sampling=SamplingParams(max_tokens=96, seed=5))
    cfg = RewriteConfig(prompt=load_prompt("score"), grammar=SCORE_GRAMMAR)
    bands = ScoreBands(0.0, 10.0)  # no low band: every parsed answer is kept
    codes = ["def add(a,b):\n  return a+b\n", "import os\nprint(os.getcwd())\n", "X = 1\n"]
    records = [{"id": f"c{i}", "text": code} for i, code in enumerate(codes)]
    pipeline = _pipeline()
    out = pipeline | beam.Create(records) | Score(engine, cfg, bands)

    def parsed(kept):
        assert kept  # an answer may run to max_tokens (rejected truncated); not all of them
        for record in kept:
            assert record["generation"]["score"]["structured"] is True
            assert float(record["llm_score"]).is_integer() and 0 <= record["llm_score"] <= 10
            assert record["score_reason"] and "\n" not in record["score_reason"]
            assert record["band"] == band_of(record["llm_score"], bands)

    def only_truncated(reasons):
        assert all(reason == Reason.TRUNCATED for reason in reasons), reasons

    assert_that(out.kept, parsed, label="parsed")
    assert_that(out.rejected | beam.Map(lambda r: r["reason"]), only_truncated, label="rej")
    _finish(pipeline)


# n-gram speculation at its defaults (4 tokens per draft, 2- to 4-grams): a second server.
SPEC_ENGINE = replace(ENGINE, speculative=SpeculativeConfig("ngram"))
REWRITE_TOKENS = 96


def _stdlib_functions() -> list[dict]:
    """Three short functions of this Python's standard library, as records to rewrite."""
    import inspect
    import shlex
    import textwrap

    functions = (textwrap.dedent, shlex.quote, textwrap.indent)
    return [{"id": f"f{i}", "text": inspect.getsource(f)} for i, f in enumerate(functions)]


@pytest.fixture(scope="module")
def spec_server():
    """The speculating server, up for the module's speculation tests: its URL."""
    return MachineServer(SPEC_ENGINE).attach()


def _server_counter(url: str, name: str) -> float:
    """A counter of vLLM's own Prometheus metrics, summed over its labels."""
    metrics = httpx.get(url.removesuffix("/v1") + "/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith((name + "{", name + " "))
    )


def test_ngram_speculation_keeps_greedy_answers(reference, spec_server, tmp_path):
    """The same requests with and without n-gram speculation, at temperature 0: the
    same answers, token counts included. On rewrite prompts the server accepts
    proposed tokens; the stage's counts are the ones vLLM's /metrics adds up."""
    sampling = SamplingParams(temperature=0.0, max_tokens=REWRITE_TOKENS, seed=5)
    prompt = load_prompt("scor")
    records = [*RECORDS[:3], *_stdlib_functions()]

    def answers(engine: EngineConfig, folder: Path) -> tuple[list[tuple], object, list]:
        """Each request's raw answer, as the stage's --record_pairs lines hold it (a
        rewrite cut at max_tokens is rejected 'truncated' but was answered all the same)."""
        engine = replace(engine, sampling=sampling)

        def ask(record):
            if record["id"].startswith("f"):
                return engine.request(record["id"], prompt.messages(record["text"]))
            return replace(build(record), sampling=sampling)

        pipeline = _pipeline()
        engine = replace(engine, return_token_ids=True)
        stage = LLMStage("spec", engine, ask, judge, record_pairs=str(folder))
        out = pipeline | beam.Create(records) | stage
        assert_that(out.dead_letter, equal_to([]), label="dead")
        _conservation(out, len(records))
        run, _ = _finish(pipeline)
        pairs = list(read_pairs(folder, "spec"))
        kept = [(p["id"], p["answer"], p["completion_tokens"], p["finish_reason"]) for p in pairs]
        return kept, run, pairs

    before = _server_counter(spec_server, "vllm:spec_decode_num_accepted_tokens_total")
    plain, _, _ = answers(ENGINE, tmp_path / "off")
    speculated, run, pairs = answers(SPEC_ENGINE, tmp_path / "on")
    assert sorted(speculated) == sorted(plain) and len(plain) == len(records)
    query = run.metrics().query(MetricsFilter().with_namespace(STAGE_NAMESPACE + "spec"))
    counts = {c.key.metric.name: c.committed for c in query["counters"]}
    assert counts["spec_accepted_tokens"] > 0 and counts["spec_drafts"] > 0, counts
    after = _server_counter(spec_server, "vllm:spec_decode_num_accepted_tokens_total")
    assert after - before == counts["spec_accepted_tokens"]
    # unconstrained, the replay of vLLM's proposer gives the server's counts exactly
    spec = SPEC_ENGINE.speculative
    longest = max(len(p["prompt_token_ids"]) + len(p["token_ids"]) for p in pairs)
    replay = NgramReplay(spec.num_tokens, spec.ngram_min, spec.ngram_max, longest + 1)
    for pair in pairs:
        predicted = replay.replay(pair["prompt_token_ids"], pair["token_ids"])
        measured = pair["spec"]
        assert (predicted.drafts, predicted.draft_tokens, predicted.accepted) == (
            measured["drafts"],
            measured["draft_tokens"],
            measured["accepted_tokens"],
        ), pair["id"]


def test_report_gives_each_stages_tokens_per_step_and_the_replay_predicts_it(spec_server, tmp_path):
    """A scor run with --speculative ngram on the module's speculating server:
    report.json gives the stage's accepted tokens and tokens per step; the pairs it
    records (--record_pairs), replayed through vLLM's own n-gram proposer, give
    exactly the accepted tokens the server measured for each answer."""
    from beam_swallow.samples import code_sample_records

    files = tmp_path / "in"
    files.mkdir()
    records = code_sample_records(3, max_bytes=600)
    (files / "part-0.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    spec = SPEC_ENGINE.speculative
    result = _cli(
        "code",
        "--stages",
        "scor",
        "--input",
        str(files / "*.jsonl"),
        "--output",
        str(tmp_path / "out"),
        *_engine_flags(ENGINE),
        "--max_tokens",
        str(REWRITE_TOKENS),
        "--temperature",
        "0",
        "--speculative",
        spec.method,
        "--record_pairs",
        str(tmp_path / "pairs"),
        cwd=Path.cwd(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["balanced"] and report["input"] == len(records)
    engine = report["timing"]["stages"]["scor"]["engine"]
    assert engine["answers"] == len(records) and engine["accepted_tokens"] > 0, engine
    assert engine["tokens_per_step"] > 1.0 and engine["output_tokens_per_s"] > 0
    pairs = list(read_pairs(tmp_path / "pairs", "scor"))
    assert len(pairs) == len(records)
    longest = max(len(p["prompt_token_ids"]) + len(p["token_ids"]) for p in pairs)
    replay = NgramReplay(spec.num_tokens, spec.ngram_min, spec.ngram_max, longest + 1)
    for pair in pairs:
        assert len(pair["token_ids"]) == pair["completion_tokens"]
        predicted = replay.replay(pair["prompt_token_ids"], pair["token_ids"])
        measured = pair["spec"]
        # the accepted tokens, and so the steps, exactly; scor decodes under its grammar, and
        # vLLM drops the proposals the grammar forbids before checking them
        assert predicted.accepted == measured["accepted_tokens"], pair["id"]
        assert predicted.drafts >= measured["drafts"], pair["id"]
        assert predicted.draft_tokens >= measured["draft_tokens"], pair["id"]
    assert sum(p["spec"]["accepted_tokens"] for p in pairs) == engine["accepted_tokens"]


def test_suffix_speculation_is_refused_where_arctic_inference_is_missing(tmp_path):
    """vLLM's CPU build has no arctic-inference (it does not build here): --speculative
    suffix stops the run before anything is read, with one line that says why."""
    import importlib.util

    if importlib.util.find_spec("arctic_inference") is not None:
        pytest.skip("arctic-inference is installed here: suffix decoding can run")
    with pytest.raises(ValueError, match="arctic-inference"):
        replace(ENGINE, speculative=SpeculativeConfig("suffix"))
    result = _cli(
        "code",
        "--stages",
        "sgcr",
        "--output",
        str(tmp_path / "out"),
        "--engine",
        "vllm",
        "--model",
        MODEL,
        "--speculative",
        "suffix",
        cwd=Path.cwd(),
    )
    assert result.returncode == 2
    assert "needs Snowflake's arctic-inference package" in result.stderr, result.stderr[-2000:]
    assert not (tmp_path / "out").exists()
