"""Embedded engine throughput: the rewriting path through RunInference vs. the engine alone.

Same prompts, same sampling, same seed, one run. The baseline is the engine's
own API with no beam-swallow code: llama.cpp's ``create_chat_completion`` in a
loop. The pipeline side is ``LLMStage`` on the local FnApiRunner: build
requests, batch, RunInference through our handler, judge, three exits. (The
vllm engine is a server fed continuously: bench/feed.py measures it.) Its tokens/s divides completion tokens by the pipeline's wall time
less the model load time that RunInference itself reports
(``load_model_latency_milli_secs``), since both sides load the model once.

Prompts ask the model to rewrite real standard-library functions (read at run
time), as the SGCR stage does, with a fixed ``--max_tokens``.

Usage: python bench/engines.py [--prompts 16 --max_tokens 128]
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import textwrap
import time

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.inference.base import Message, SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.embedded import load_embedded
from beam_swallow.transforms.llm import LLMStage

SYSTEM = "You are a senior Python engineer. Rewrite the user's code to be clear and idiomatic."


def stdlib_functions(count: int) -> list[str]:
    """Source of ``count`` short standard-library functions."""
    import json
    import posixpath
    import shlex

    found = []
    for module in (textwrap, posixpath, shlex, json.decoder, inspect):
        for _, fn in inspect.getmembers(module, inspect.isfunction):
            try:
                source = textwrap.dedent(inspect.getsource(fn))
            except (OSError, TypeError):
                continue
            if 200 < len(source) < 1500:
                found.append(source)
    return found[:count]


def conversation(code: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": code}]


def baseline_embedded(engine: EngineConfig, codes: list[str]) -> tuple[float, int]:
    llm = load_embedded(engine).llm
    s = engine.sampling
    start = time.perf_counter()
    tokens = 0
    for code in codes:
        out = llm.create_chat_completion(
            messages=conversation(code),
            temperature=s.temperature,
            top_p=s.top_p,
            max_tokens=s.max_tokens,
            seed=s.seed,
        )
        tokens += out["usage"]["completion_tokens"]
    return time.perf_counter() - start, tokens


def pipeline(engine: EngineConfig, codes: list[str]) -> tuple[float, int, float]:
    """(seconds less model load, completion tokens, load seconds) through LLMStage."""

    def build(record):
        messages = tuple(Message(m["role"], m["content"]) for m in conversation(record["text"]))
        return engine.request(record["id"], messages)

    def judge(record, result):
        return record

    p = beam.Pipeline(runner=FnApiRunner())
    records = [{"id": f"f{i}", "text": code} for i, code in enumerate(codes)]
    result = p | beam.Create(records) | LLMStage("bench", engine, build, judge)
    del result
    start = time.perf_counter()
    run = p.run()
    run.wait_until_finish()
    elapsed = time.perf_counter() - start
    query = run.metrics().query(MetricsFilter().with_namespace(f"inference.{engine.engine}"))
    counters = {c.key.metric.name: c.committed for c in query["counters"]}
    loads = [
        d.committed.sum
        for d in query["distributions"]
        if d.key.metric.name.endswith("load_model_latency_milli_secs") and d.committed
    ]
    load_s = sum(loads) / 1000.0
    return elapsed - load_s, counters["completion_tokens"], load_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max_tokens", type=int, default=128)
    args = parser.parse_args()
    sampling = SamplingParams(max_tokens=args.max_tokens, seed=11)
    engine = EngineConfig(sampling=sampling)
    baseline = baseline_embedded
    label = "llama.cpp create_chat_completion loop"
    codes = stdlib_functions(args.prompts)
    base_s, base_tokens = baseline(engine, codes)
    pipe_s, pipe_tokens, load_s = pipeline(engine, codes)
    base_rate, pipe_rate = base_tokens / base_s, pipe_tokens / pipe_s
    print(
        f"engine embedded: {len(codes)} prompts, max_tokens {args.max_tokens}, "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("| method | seconds | completion tokens | tokens/s | ratio |")
    print("|---|---|---|---|---|")
    print(f"| {label} (baseline) | {base_s:.1f} | {base_tokens} | {base_rate:.1f} | 1.00 |")
    print(
        f"| LLMStage via RunInference (load {load_s:.1f} s excluded) | {pipe_s:.1f} | "
        f"{pipe_tokens} | {pipe_rate:.1f} | {pipe_rate / base_rate:.2f} |"
    )


if __name__ == "__main__":
    main()
