"""n-gram speculation on vLLM's CPU build: output tokens/s with it and without, same requests.

Two vLLM servers (the vllm engine's own, :class:`~beam_swallow.inference.vllm_server.MachineServer`)
differ only in ``--speculative ngram``; both get the same requests through the
same client, rounds alternating. The requests are real rewrites: the messages
and ``max_tokens`` of pairs a pipeline run recorded (``--record_pairs``), at
temperature 0, so both servers must give the same answers (checked, and
printed). Per stage: output tokens/s of each server, their ratio, and the
tokens per step the speculating server reported.

This is the CPU build with a 135M model and at most 8 sequences at once: each
engine step costs mostly its fixed work (scheduling, sampling, Python), so
tokens per step turn into speed almost one for one. It says that speculation
runs and keeps the answers, not what it buys on a GPU with hundreds of
sequences running (BENCHMARKS.md, speculative decoding; the GPU side is the
engine model's, bench/gpu_bill.py). The requests go without the stages'
grammars, so the answers are not the recorded ones.

Run with vLLM's environment: python bench/speculative.py --pairs DIR
[--model .cache/smollm2-hf] [--limit 6] [--rounds 2] [--max_tokens 192]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from collections import defaultdict
from dataclasses import replace

from beam_swallow.inference.base import ChatRequest, Message, SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.openai import OpenAIClient
from beam_swallow.inference.speculative import SpeculativeConfig
from beam_swallow.inference.vllm_server import MachineServer
from beam_swallow.testing.speculation import read_pairs

SLOTS = 8


def _requests(folder: str, limit: int, max_tokens: int) -> list[tuple[str, ChatRequest]]:
    """Up to ``limit`` recorded requests per stage, as (stage, request)."""
    taken: dict[str, int] = defaultdict(int)
    out = []
    for pair in read_pairs(folder):
        stage = pair["stage"]
        if taken[stage] >= limit:
            continue
        taken[stage] += 1
        messages = tuple(Message(m["role"], m["content"]) for m in pair["messages"])
        sampling = SamplingParams(temperature=0.0, max_tokens=min(max_tokens, pair["max_tokens"]))
        out.append((stage, ChatRequest(f"{stage}/{pair['id']}", messages, sampling)))
    return out


def _run(client: OpenAIClient, requests: list[tuple[str, ChatRequest]]) -> tuple[float, dict]:
    """Wall seconds for all requests at once, and each request's result."""
    started = time.perf_counter()
    futures = {request.id: client.submit(request) for _, request in requests}
    results = {}
    for key, future in futures.items():
        result, _, _ = future.result()
        if result.failed:
            raise RuntimeError(result.error)
        results[key] = result
    return time.perf_counter() - started, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", required=True)
    parser.add_argument("--model", default=".cache/smollm2-hf")
    parser.add_argument("--limit", type=int, default=6, help="requests per stage")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max_tokens", type=int, default=192)
    args = parser.parse_args()
    requests = _requests(args.pairs, args.limit, args.max_tokens)
    base = EngineConfig(
        engine="vllm",
        model=args.model,
        dtype="float32",
        max_model_len=4096,
        engine_kwargs={"enforce_eager": True, "max_num_seqs": SLOTS},
    )
    configs = {"off": base, "ngram": replace(base, speculative=SpeculativeConfig("ngram"))}
    clients = {}
    for name, config in configs.items():
        started = time.perf_counter()
        url = MachineServer(config).attach()
        print(f"{name} server up in {time.perf_counter() - started:.0f} s")
        client_config = EngineConfig(
            engine="openai",
            model=args.model,
            endpoint=url,
            request_timeout=3600,
            retries=0,
            max_concurrency=int(1.5 * SLOTS),
        )
        clients[name] = OpenAIClient(client_config, url)
    warm = requests[:2]
    for client in clients.values():
        _run(client, warm)
    seconds: dict[str, list[float]] = defaultdict(list)
    answers: dict[str, dict] = {}
    for round_ in range(args.rounds):
        order = list(clients) if round_ % 2 == 0 else list(reversed(clients))
        for name in order:
            spent, results = _run(clients[name], requests)
            seconds[name].append(spent)
            answers[name] = results
            tokens = sum(r.completion_tokens for r in results.values())
            print(f"round {round_ + 1} {name:<6} {tokens} tokens in {spent:6.1f} s")
    same = all(
        (answers["off"][key].text, answers["off"][key].completion_tokens)
        == (answers["ngram"][key].text, answers["ngram"][key].completion_tokens)
        for key in answers["off"]
    )
    tokens = sum(r.completion_tokens for r in answers["off"].values())
    best = {name: min(values) for name, values in seconds.items()}
    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}; {datetime.date.today()}; vLLM CPU build, {args.model}, "
        f"{len(requests)} requests, {SLOTS} slots, temperature 0"
    )
    print(f"answers identical with and without speculation: {same}")
    print("| stage | requests | output tokens | tokens per step (ngram server) |")
    print("|---|---|---|---|")
    for stage in sorted({stage for stage, _ in requests}):
        keys = [r.id for s, r in requests if s == stage]
        done = [answers["ngram"][key] for key in keys]
        out = sum(r.completion_tokens for r in done)
        accepted = sum(r.spec_accepted_tokens for r in done)
        print(f"| {stage} | {len(keys)} | {out} | {out / (out - accepted):.2f} |")
    print("| feed | output tokens/s (best round) | each round |")
    print("|---|---|---|")
    for name, values in seconds.items():
        rates = ", ".join(f"{tokens / v:.1f}" for v in values)
        print(f"| {name} | {tokens / best[name]:.1f} | {rates} |")
    print(f"| ngram / off | {best['off'] / best['ngram']:.2f} | |")
    for client in clients.values():
        client.close()


if __name__ == "__main__":
    main()
