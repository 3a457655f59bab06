"""Syntax stage throughput: the whole pipeline vs. a plain compile() loop.

Both sides see the same stdlib files, in one run. The pipeline side is
``beam-swallow code --stages syntax`` end to end (read JSONL, compile, write
the three sinks, count, report) on the local FnApiRunner; the baseline is a
``compile()`` loop over the same texts already in memory, so the ratio is what
the pipeline's I/O and bookkeeping cost on top of the stage's own work.
Token counts for the report are off (``--no_token_counts``): they tokenize
every kept text at every stage, a cost of the report's funnel that belongs to
no stage (``beam_swallow.inference.tokens`` gives its rate).

Usage: python bench/syntax.py [--files N] [--mode in_memory|multi_processing]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from beam_swallow.cli import main
from beam_swallow.samples import code_sample_records


def compile_loop(texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        try:
            compile(text, "<string>", "exec")
        except Exception:  # noqa: BLE001 - the baseline only needs the work done
            pass
    return time.perf_counter() - start


def pipeline_run(input_path: Path, out: Path, mode: str) -> float:
    argv = ["code", "--input", str(input_path), "--output", str(out), "--stages", "syntax"]
    argv.append("--no_token_counts")
    if mode != "in_memory":
        argv += [f"--direct_running_mode={mode}", "--direct_num_workers=2"]
    start = time.perf_counter()
    assert main(argv) == 0
    return time.perf_counter() - start


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mode", default="in_memory")
    args = parser.parse_args()
    records = code_sample_records(args.files, max_bytes=200_000)
    texts = [r["text"] for r in records]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        input_path = Path(tmp, "in.jsonl")
        input_path.write_text("".join(json.dumps(r) + "\n" for r in records))
        loop_s = compile_loop(texts)
        pipe_s = pipeline_run(input_path, Path(tmp, "out"), args.mode)
    n = len(texts)
    print(
        f"# {n} stdlib files, {megabytes:.1f} MB, {platform.machine()}, Python {platform.python_version()}"
    )
    print("| method | seconds | files/s |")
    print("|---|---|---|")
    print(f"| compile() loop (baseline) | {loop_s:.2f} | {n / loop_s:.0f} |")
    print(f"| pipeline, --stages syntax ({args.mode}) | {pipe_s:.2f} | {n / pipe_s:.0f} |")
    print(f"pipeline / loop throughput: {loop_s / pipe_s:.2f}")


if __name__ == "__main__":
    run()
