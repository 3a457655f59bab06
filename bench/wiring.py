"""What the failure wiring costs a run: the breaker's arming DoFns and the replay bypass.

Every stage of a run gets, besides its own transforms, one arming DoFn on its
input and on each exit (:class:`beam_swallow.transforms.breaker.Breaker`) and,
unless it is the last stage, a two-way Partition that sends replayed records
past it (:func:`beam_swallow.pipelines.graph.apply_stages`). Both cost a DoFn
call per record. This runs ``beam-swallow code --stages syntax,exact_dedup`` on
the same real files three ways, interleaved, each in its own process: with this
checkout's defaults, with ``--breaker_threshold 0`` (no arming DoFns; the
Partition stays), and with a baseline checkout given by ``--baseline`` (a
checkout of the commit before the wiring: neither). Each side keeps its best
wall-clock time over ``--rounds``; the table gives each against the baseline.

Usage: python bench/wiring.py --baseline DIR [--documents N] [--rounds N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from beam_swallow.testing.corpus import real_documents

HERE = Path(__file__).resolve().parents[1]
STAGES = "syntax,exact_dedup"


def _run(checkout: Path, source: Path, out: Path, extra: list[str]) -> float:
    """Wall-clock seconds of one run of the CLI from ``checkout``, in a fresh process."""
    argv = [sys.executable, "-m", "beam_swallow.cli", "code", "--stages", STAGES, "--quiet"]
    argv += ["--no_token_counts", "--input", str(source), "--output", str(out), *extra]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    started = time.monotonic()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="checkout without the wiring")
    parser.add_argument("--documents", type=int, default=12_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sides = {
        "baseline": (args.baseline, []),
        "breaker off (Partition only)": (HERE, ["--breaker_threshold", "0"]),
        "this checkout (defaults)": (HERE, []),
    }
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "in.jsonl")
        records = itertools.islice(real_documents(200_000), args.documents)
        source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        best = dict.fromkeys(sides, float("inf"))
        for _ in range(args.rounds):
            for name, (checkout, extra) in sides.items():
                seconds = _run(checkout, source, Path(tmp, "out"), extra)
                best[name] = min(best[name], seconds)
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}")
    print(f"{args.documents} documents, --stages {STAGES}, best of {args.rounds}")
    print("| side | wall s | vs baseline |\n|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.1f} | {seconds / best['baseline']:.3f} |")


if __name__ == "__main__":
    main()
