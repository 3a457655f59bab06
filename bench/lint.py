"""Benchmark: the lint stage vs. the original's method, and vs. the floor.

Three ways to score the same real standard-library files with the paper's
pylint flags, one after another in this run:

1. original (baseline): one ``python -m pylint`` subprocess per file, from
   4 threads, as the SwallowCode release did;
2. the ``lint`` stage: ``beam.Create | Lint()`` on the local FnApiRunner (in
   memory), pool start-up and Beam overhead included;
3. floor: one warm lint worker per core (the stage's ``LintPool``), already
   warmed up, fed straight from a list: no pipeline, no batches, pylint's own
   per-file analysis and little else;
4. cold floor: the same pool timed from its construction, worker start-up
   included: what the stage must match when it starts cold.

For each: seconds, files/s, the ratio to the original, and the peak RSS of
this process plus all its descendants (sampled from /proc every 50 ms, so
Linux only). Then how many files got the same score from all three, and,
with ``--shuffled``, from the lint workers once more with the files in a
shuffled order (a warm worker's score must not depend on what it checked
before).

Run: ``python bench/lint.py [--files N] [--workers N] [--threads N] [--skip_original] [--shuffled]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.linting import LintPool, default_workers
from beam_swallow.samples import code_sample_records
from beam_swallow.testing.lint_reference import cli_score
from beam_swallow.testing.memory import PeakMemory
from beam_swallow.transforms.lint import Lint, LintConfig


def _files(count: int) -> list[str]:
    """``count`` real stdlib files that compile (the lint stage's input)."""
    texts = []
    for record in code_sample_records(count * 2):
        try:
            compile(record["text"], "<string>", "exec")
        except (SyntaxError, ValueError):
            continue
        texts.append(record["text"])
        if len(texts) == count:
            break
    return texts


def original(texts: list[str], threads: int) -> list[float | None]:
    with ThreadPoolExecutor(threads) as executor:
        return list(executor.map(cli_score, texts))


def stage(texts: list[str], workers: int) -> list[float | None]:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp, "scores"))
        records = [{"id": str(i), "text": text} for i, text in enumerate(texts)]
        with beam.Pipeline(runner=FnApiRunner()) as pipeline:
            result = pipeline | beam.Create(records) | Lint(LintConfig(workers=workers))
            _ = (
                [result.kept, result.rejected, result.dead_letter]
                | beam.Flatten()
                | beam.Map(lambda r: json.dumps([int(r["id"]), r.get("pylint_score")]))
                | beam.io.WriteToText(out, shard_name_template="")
            )
        scores: list[float | None] = [None] * len(texts)
        for line in Path(out).read_text().splitlines():
            index, score = json.loads(line)
            scores[index] = score
    return scores


def floor(texts: list[str], workers: int) -> tuple[list[float | None], float]:
    """Scores and seconds, timed after every worker is up and has linted files.

    The workers are the lint stage's own (fresh interpreters, so nothing this
    benchmark imported, such as Beam's warning filters, reaches astroid's view
    of live modules), fed straight from a list: no pipeline, no batches.
    """
    with LintPool(workers, timeout_s=3600, recycle_after=10**9) as pool:
        pool.map(["x = 1\n"] * workers * 4)
        start = time.perf_counter()
        scores = [result.pylint_score for result in pool.map(texts)]
        return scores, time.perf_counter() - start


def cold_floor(texts: list[str], workers: int) -> list[float | None]:
    """Scores from a pool started inside the timing, start-up included, fed straight from a list."""
    with LintPool(workers, timeout_s=3600, recycle_after=10**9) as pool:
        return [result.pylint_score for result in pool.map(texts)]


def shuffled(texts: list[str], workers: int, seed: int) -> list[float | None]:
    """Scores from fresh lint workers fed the files in a shuffled order, in input order."""
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    with LintPool(workers, timeout_s=3600, recycle_after=10**9) as pool:
        results = pool.map([texts[index] for index in order])
    scores: list[float | None] = [None] * len(texts)
    for index, result in zip(order, results, strict=True):
        scores[index] = result.pylint_score
    return scores


def _timed(run: Callable[[], list[float | None]]) -> tuple[list[float | None], float, int]:
    with PeakMemory(interval_s=0.05) as rss:
        start = time.perf_counter()
        scores = run()
        seconds = time.perf_counter() - start
    return scores, seconds, rss.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=240)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--threads", type=int, default=4, help="the original's thread count")
    parser.add_argument(
        "--skip_original",
        action="store_true",
        help="skip the CLI: time the stage and the floors only, scores compared with the floor's",
    )
    parser.add_argument(
        "--shuffled",
        action="store_true",
        help="also score the files in a shuffled order and compare with the CLI",
    )
    args = parser.parse_args()
    texts = _files(args.files)
    size = sum(len(t) for t in texts)
    print(f"{len(texts)} stdlib files, {size / 1e6:.2f} MB; {os.cpu_count()} CPUs", flush=True)

    rows = []
    if not args.skip_original:
        base, base_s, base_rss = _timed(lambda: original(texts, args.threads))
        print(f"original done in {base_s:.1f}s", flush=True)
        rows.append(
            (f"original: pylint subprocess per file, {args.threads} threads", base_s, base_rss)
        )
    ours, ours_s, ours_rss = _timed(lambda: stage(texts, args.workers))
    print(f"stage done in {ours_s:.1f}s", flush=True)
    with PeakMemory(interval_s=0.05) as rss:
        best, best_s = floor(texts, args.workers)
    cold, cold_s, cold_rss = _timed(lambda: cold_floor(texts, args.workers))
    if args.skip_original:
        base, base_s, reference = best, best_s, "floor"
    else:
        reference = "original"
    rows += [
        (f"lint stage, FnApiRunner in memory, {args.workers} workers", ours_s, ours_rss),
        (f"floor: {args.workers} warm lint workers, no pipeline (warmed up)", best_s, rss.peak),
        (f"cold floor: {args.workers} lint workers, start-up included", cold_s, cold_rss),
    ]
    print()
    print(f"| method | seconds | files/s | vs {reference} | peak RSS MB (process tree) |")
    print("|---|---|---|---|---|")
    for name, seconds, peak in rows:
        print(
            f"| {name} | {seconds:.1f} | {len(texts) / seconds:.2f} | "
            f"{base_s / seconds:.1f}x | {peak / 2**20:.0f} |"
        )
    print()
    print(f"stage / floor throughput: {best_s / ours_s:.2f}")
    print(f"stage / cold floor throughput: {cold_s / ours_s:.2f}")
    columns = {"stage": ours, "cold floor": cold}
    if not args.skip_original:
        columns["floor"] = best
    if args.shuffled:
        columns["shuffled"] = shuffled(texts, args.workers, seed=len(texts))
    for name, scores in columns.items():
        same = sum(a == b for a, b in zip(base, scores, strict=True))
        print(f"identical scores, {name} vs {reference}: {same}/{len(texts)}")
    for index, original_score in enumerate(base):
        others = {name: scores[index] for name, scores in columns.items()}
        if any(score != original_score for score in others.values()):
            print(f"  file {index}: {reference} {original_score}, {others}")


if __name__ == "__main__":
    main()
