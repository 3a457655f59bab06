"""Feeding a vLLM server: in synchronous calls (the old path) against continuously.

Both feeds send the same requests to one vLLM server (the vllm engine's own,
:class:`~beam_swallow.inference.vllm_server.MachineServer`, on vLLM's CPU
build), through the same client (:class:`~beam_swallow.inference.openai.OpenAIClient`):

- **calls**: ``--call_size`` requests at once, the next call only when the last
  answer of this one is in; the old path (RunInference handing ``vllm.LLM`` one
  batch per call: the paper's 2,048 prompts for 256 engine slots);
- **continuous**: every request submitted as soon as fewer than
  ``IN_FLIGHT_FACTOR`` x the server's slots are in flight (the stage's feed).

Answers have a spread of lengths like real rewrites: each request's
``max_tokens`` is drawn from the engine model's log-normal with a runaway share
(:func:`~beam_swallow.reporting.engine_sim.answer_lengths`), and the server is
told to ignore end-of-sequence (vLLM's ``ignore_eos``), so each answer has
exactly that many tokens in both feeds. Rounds alternate the two feeds; the
table gives output tokens/s per round and the ratio.

Run with vLLM's environment (``make bench-feed``).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from dataclasses import replace

import numpy as np

from beam_swallow.inference.base import Message, SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.openai import OpenAIClient
from beam_swallow.inference.vllm_server import IN_FLIGHT_FACTOR, MachineServer
from beam_swallow.reporting.engine_sim import answer_lengths


def _requests(config: EngineConfig, n: int, mean: int, max_tokens: int, seed: int) -> list:
    lengths = answer_lengths(n, mean, np.random.default_rng(seed), max_tokens)
    return [
        replace(
            config.request(f"r{i}", (Message("user", f"Count from {i} upwards, one per line."),)),
            sampling=SamplingParams(temperature=0.0, max_tokens=int(length)),
        )
        for i, length in enumerate(lengths)
    ]


def _run(client: OpenAIClient, requests: list, call_size: int | None) -> tuple[float, int]:
    """Wall seconds and output tokens for all ``requests``, in calls or continuously."""
    started = time.perf_counter()
    tokens = 0
    calls = (
        [requests]
        if call_size is None
        else [requests[i : i + call_size] for i in range(0, len(requests), call_size)]
    )
    for call in calls:
        futures = [client.submit(request) for request in call]
        for future in futures:
            result, _, _ = future.result()
            if result.failed:
                raise RuntimeError(result.error)
            tokens += result.completion_tokens
    return time.perf_counter() - started, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=".cache/smollm2-hf")
    parser.add_argument("--slots", type=int, default=8, help="the server's max_num_seqs")
    parser.add_argument("--call_size", type=int, default=32, help="requests per synchronous call")
    parser.add_argument("--requests", type=int, default=96)
    parser.add_argument("--mean_tokens", type=int, default=40)
    parser.add_argument("--max_tokens", type=int, default=320)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    engine = EngineConfig(
        engine="vllm",
        model=args.model,
        dtype="float32",
        max_model_len=2048,
        engine_kwargs={"enforce_eager": True, "max_num_seqs": args.slots},
    )
    started = time.perf_counter()
    server = MachineServer(engine)
    url = server.attach()
    print(f"server up in {time.perf_counter() - started:.0f} s at {url}")
    client_config = EngineConfig(
        engine="openai",
        model=args.model,
        endpoint=url,
        engine_kwargs={"ignore_eos": True},
        request_timeout=3600,
        retries=0,
    )
    requests = _requests(client_config, args.requests, args.mean_tokens, args.max_tokens, 0)
    feeds = {
        "calls": (
            OpenAIClient(replace(client_config, max_concurrency=args.call_size), url),
            args.call_size,
        ),
        "continuous": (
            OpenAIClient(
                replace(client_config, max_concurrency=math.ceil(IN_FLIGHT_FACTOR * args.slots)),
                url,
            ),
            None,
        ),
    }
    _run(feeds["continuous"][0], requests[:4], None)  # warm-up: first requests compile paths
    rates: dict[str, list[float]] = {name: [] for name in feeds}
    for round_ in range(args.rounds):
        order = list(feeds) if round_ % 2 == 0 else list(reversed(feeds))
        for name in order:
            client, call_size = feeds[name]
            seconds, tokens = _run(client, requests, call_size)
            rates[name].append(tokens / seconds)
            print(
                f"round {round_ + 1} {name:<10} {tokens} tokens in {seconds:6.1f} s: "
                f"{tokens / seconds:7.1f} output tokens/s"
            )
    best = {name: max(values) for name, values in rates.items()}
    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; vLLM CPU build; "
        f"{args.requests} requests, {args.slots} slots, calls of {args.call_size}, "
        f"answers mean {args.mean_tokens} max {args.max_tokens} tokens"
    )
    print("| feed | output tokens/s (best of rounds) | each round |")
    print("|---|---|---|")
    for name, values in rates.items():
        print(f"| {name} | {best[name]:.1f} | {', '.join(f'{v:.1f}' for v in values)} |")
    print(f"| continuous / calls | {best['continuous'] / best['calls']:.2f} | |")
    for client, _ in feeds.values():
        client.close()


if __name__ == "__main__":
    main()
