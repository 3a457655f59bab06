"""Benchmark: a rerun with a warm result cache against the cold run, same input.

The code pipeline's ``syntax,lint,sgcr`` on the embedded engine, through the
CLI on the local runner, twice with the same ``--cache_dir``: the cold run
computes every lint score and every answer and writes them to the cache; the
warm run should send no request and lint no file. Prints wall time, engine
requests and pylint checks (lint cache misses) of both runs, the ratio, and
whether the three exits are the same records (``from_cache`` set aside).

Run: ``python bench/cache.py [--files N] [--max_tokens N]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from beam_swallow.cache import FROM_CACHE
from beam_swallow.cli import main
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.lint_reference import stdlib_sources


def _run(src: Path, out: Path, cache: Path, max_tokens: int) -> tuple[float, dict[str, Any]]:
    argv = ["code", "--input", str(src), "--output", str(out), "--quiet"]
    argv += ["--stages", "syntax,lint,sgcr", "--cache_dir", str(cache)]
    argv += ["--max_tokens", str(max_tokens), "--min_quality", "0"]
    started = time.monotonic()
    if main(argv) != 0:
        raise SystemExit(f"run into {out} failed")
    return time.monotonic() - started, read_report(out)


def _exits(out: Path) -> dict[str, list[str]]:
    outputs = read_outputs(out)
    assert_conserved(read_report(out), outputs)
    return {
        sink: sorted(
            json.dumps({k: v for k, v in r.items() if k != FROM_CACHE}, sort_keys=True)
            for r in records
        )
        for sink, records in outputs.items()
    }


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--max_tokens", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = root / "in.jsonl"
        texts = stdlib_sources(args.files, max_bytes=1_500)
        src.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        rows = []
        for name in ("cold", "warm"):
            seconds, report = _run(src, root / name, root / "cache", args.max_tokens)
            requests = report["timing"]["engines"].get("embedded", {}).get("requests", 0)
            stages = report["stages"]
            rows.append((name, seconds, requests, stages["lint"]["cache"], stages["sgcr"]["cache"]))
        same = _exits(root / "cold") == _exits(root / "warm")
    print(
        f"{args.files} stdlib files, syntax,lint,sgcr, embedded engine, max_tokens {args.max_tokens}"
    )
    print(
        "| run | seconds | engine requests | pylint checks (lint misses) | lint hits | sgcr hits |"
    )
    print("|---|---|---|---|---|---|")
    for name, seconds, requests, lint, sgcr in rows:
        print(
            f"| {name} | {seconds:.1f} | {requests} | {lint['misses']} | {lint['hits']} "
            f"| {sgcr['hits']} |"
        )
    print(f"cold / warm wall time: {rows[0][1] / rows[1][1]:.1f}x; same exits: {same}")


if __name__ == "__main__":
    main_bench()
