"""The embedded engine on a busy machine: tokens/s with and without one competing process.

Side by side, in one run, alternating rounds: llama.cpp as it was loaded before
(``n_threads`` = every core of the machine, the OpenMP runtime's default
spin-waiting) against the engine as it loads today (the cores other work
leaves free, chosen again before each prompt, passive waiting; see
beam_swallow/inference/embedded.py). Each is measured alone and
next to one CPU-bound competitor (a Python busy loop, the shape of a lint
worker or a second SDK process). The OpenMP wait policy is read once per
process, so every measurement runs in a fresh child process.

Usage: python bench/threads.py [--rounds 3 --max_tokens 96 --model PATH.gguf]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time

PROMPTS = [
    "Write a Python function that parses a CSV file into a list of dictionaries.",
    "Explain in three sentences what a hash table is.",
    "Write a Python class for a bank account with deposit and withdraw methods.",
]

# before: what load_embedded did until structured generation came (every core of the
# machine, the OpenMP runtime's default spin-waiting); now: load_embedded as it is
# (the cores other work leaves free, chosen again before each prompt);
# one_thread: load_embedded with --engine_kwargs '{"n_threads": 1}'
SETUPS = ("before", "now", "one_thread")


def child(args: argparse.Namespace) -> None:
    """Load the model as one setup says and print its tokens/s as JSON."""
    from llama_cpp import Llama, llama_n_threads

    from beam_swallow.inference.config import EngineConfig
    from beam_swallow.inference.embedded import load_embedded
    from beam_swallow.inference.gguf import default_gguf

    if args.setup == "before":  # as load_embedded did: every core, the runtime's default waits
        os.environ.pop("OMP_WAIT_POLICY", None)
        gguf = args.model or default_gguf()
        llm = Llama(model_path=gguf, n_ctx=2048, n_threads=os.cpu_count(), verbose=False)
        fit_threads = None
    else:
        kwargs = {"n_threads": 1} if args.setup == "one_thread" else {}
        config = EngineConfig(model=args.model, max_model_len=2048, engine_kwargs=kwargs)
        model = load_embedded(config)
        llm, fit_threads = model.llm, model.fit_threads  # as EmbeddedModel.generate does
    llm.create_completion("Hi", max_tokens=4)
    tokens, start, used = 0, time.perf_counter(), set()
    for prompt in PROMPTS:
        if fit_threads:
            fit_threads()
        used.add(llama_n_threads(llm.ctx))
        out = llm.create_completion(prompt, max_tokens=args.max_tokens, temperature=0.0, seed=1)
        tokens += out["usage"]["completion_tokens"]
    elapsed = time.perf_counter() - start
    print(json.dumps({"tokens_per_s": tokens / elapsed, "threads": sorted(used)}))


def _busy() -> None:
    while True:
        pass


def measure(setup: str, competitor: bool, args: argparse.Namespace) -> dict:
    """One child's figures, with or without a competing busy process alongside."""
    busy = multiprocessing.Process(target=_busy, daemon=True) if competitor else None
    if busy:
        busy.start()
    try:
        cmd = [sys.executable, __file__, "--child", "--setup", setup]
        cmd += ["--max_tokens", str(args.max_tokens)]
        if args.model:
            cmd += ["--model", args.model]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        if busy:
            busy.terminate()
            busy.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max_tokens", type=int, default=96)
    parser.add_argument("--model", default=None, help="a GGUF file (default: the shipped one)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--setup", choices=SETUPS, default="now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d')}, {args.rounds} rounds, median tokens/s"
    )
    speeds: dict[tuple[str, bool], list[float]] = {}
    threads: dict[str, set[int]] = {}
    for _ in range(args.rounds):
        for name in SETUPS:
            for competitor in (False, True):
                result = measure(name, competitor, args)
                speeds.setdefault((name, competitor), []).append(result["tokens_per_s"])
                threads.setdefault(name, set()).update(result["threads"])
    print("| setup | threads | alone tok/s | with 1 busy process tok/s | kept |")
    print("|---|---|---|---|---|")
    for name in SETUPS:
        alone = statistics.median(speeds[(name, False)])
        loaded = statistics.median(speeds[(name, True)])
        used = "/".join(map(str, sorted(threads[name])))
        print(f"| {name} | {used} | {alone:.1f} | {loaded:.1f} | {loaded / alone:.2f} |")
    now = statistics.median(speeds[("now", True)])
    before = statistics.median(speeds[("before", True)])
    print(f"with a busy process, now / before: {now / before:.1f}x")


if __name__ == "__main__":
    main()
