"""Benchmark: what the v2 code recipe costs per file next to v1, on the embedded model.

Both recipes run with their default stages through ``beam-swallow code`` on the
same input, the stdlib sample of ``--files`` small files (the one ``make demo``
uses; 16 by default), with the same sampling and seed, one after the other in this process,
quality measures on in both. Printed per recipe: wall seconds per input file,
LLM requests and completion tokens per input file (what a GPU would be paid
for: the paper's SGCR + SCOR against the v2 score + one rewrite of the medium
band), engine seconds per input file, and the files kept.

    python bench/recipes.py [--files 16] [--max_tokens N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from beam_swallow.cli import main as cli_main


def _run(recipe: str, out: Path, args: argparse.Namespace) -> dict:
    argv = ["code", "--recipe", recipe, "--output", str(out), "--quiet"]
    argv += ["--sample_size", str(args.files), "--seed", "7"]
    if args.max_tokens:
        argv += ["--max_tokens", str(args.max_tokens)]
    start = time.perf_counter()
    status = cli_main(argv)
    wall = time.perf_counter() - start
    report = json.loads((out / "report.json").read_text())
    engine = report.get("timing", {}).get("engines", {}).get("embedded", {})
    return {
        "status": status,
        "wall": wall,
        "input": report["input"],
        "kept": report["kept"],
        "requests": engine.get("requests", 0),
        "completion_tokens": engine.get("completion_tokens", 0),
        "request_seconds": engine.get("request_seconds", 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16, help="default: the demo's sample")
    parser.add_argument("--max_tokens", type=int, default=None, help="default: the engine's")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in ("v1", "v2"):
            rows[recipe] = _run(recipe, Path(tmp, recipe), args)
    tokens = args.max_tokens or "default"
    print(f"{args.files} stdlib sample files, embedded SmolLM2-135M, max_tokens {tokens}; ", end="")
    print(f"{os.cpu_count()} CPUs")
    head = ("recipe", "s/file", "requests/file", "tokens/file", "engine s/file", "kept", "exit")
    print("".join(f"{h:>15}" for h in head))
    for recipe, row in rows.items():
        n = row["input"] or 1
        cells = (
            recipe,
            f"{row['wall'] / n:.1f}",
            f"{row['requests'] / n:.2f}",
            f"{row['completion_tokens'] / n:.0f}",
            f"{row['request_seconds'] / n:.1f}",
            f"{row['kept']}/{row['input']}",
            str(row["status"]),
        )
        print("".join(f"{c:>15}" for c in cells))
    v1, v2 = rows["v1"], rows["v2"]
    if v1["completion_tokens"]:
        print(f"v2 / v1 completion tokens: {v2['completion_tokens'] / v1['completion_tokens']:.2f}")
    print(f"v2 / v1 wall time: {v2['wall'] / v1['wall']:.2f}")


if __name__ == "__main__":
    main()
