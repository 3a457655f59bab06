"""Benchmark: the lint stage vs. the original's method, and vs. the floor.

Three ways to score the same real standard-library files with the paper's
pylint flags, one after another in this run:

1. original (baseline): one ``python -m pylint`` subprocess per file, from
   4 threads, as the SwallowCode release did;
2. the ``lint`` stage: ``beam.Create | Lint()`` on the local FnApiRunner (in
   memory), pool start-up and Beam overhead included;
3. floor: one warm in-process linter per core (``WarmLinter`` in a
   ``ProcessPoolExecutor``), already warmed up, no pipeline, no timeouts:
   pylint's own per-file analysis and nothing else.

For each: seconds, files/s, the ratio to the original, and the peak RSS of
this process plus all its descendants (sampled from /proc every 50 ms, so
Linux only). Then how many files got the same score from all three.

Run: ``python bench/lint.py [--files N] [--workers N] [--threads N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.linting import PYLINT_FLAGS, default_workers
from beam_swallow.linting.checker import LinterCrash, WarmLinter
from beam_swallow.samples import code_sample_records
from beam_swallow.transforms.lint import Lint, LintConfig

_RATED = re.compile(r"rated at (-?\d+\.\d+)/10")
_PAGE = os.sysconf("SC_PAGE_SIZE")


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


class TreeRss:
    """Peak resident memory of this process and all its descendants."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._sample())

    @staticmethod
    def _sample() -> int:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        tree, frontier = {os.getpid()}, [os.getpid()]
        while frontier:
            pid = frontier.pop()
            children = [child for child, parent in parents.items() if parent == pid]
            tree.update(children)
            frontier.extend(children)
        total = 0
        for pid in tree:
            try:
                total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
            except OSError:
                continue
        return total


def _cli_one(text: str) -> float | None:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "snippet.py").write_text(text, encoding="utf-8", newline="")
        done = subprocess.run(
            [sys.executable, "-m", "pylint", *PYLINT_FLAGS, "snippet.py"],
            cwd=tmp,
            capture_output=True,
            text=True,
            check=False,
        )
    match = _RATED.search(done.stdout)
    return float(match.group(1)) if match else None


def original(texts: list[str], threads: int) -> list[float | None]:
    with ThreadPoolExecutor(threads) as executor:
        return list(executor.map(_cli_one, texts))


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


_FLOOR_LINTER: WarmLinter | None = None


def _floor_init() -> None:
    global _FLOOR_LINTER
    _FLOOR_LINTER = WarmLinter(tempfile.mkdtemp(prefix="bench-floor-"))


def _floor_one(text: str) -> float | None:
    try:
        return _FLOOR_LINTER.note(text)
    except LinterCrash:
        return None


def floor(texts: list[str], workers: int) -> tuple[list[float | None], float]:
    """Scores and seconds, timed after every process is up and has linted one file."""
    with ProcessPoolExecutor(workers, initializer=_floor_init) as executor:
        list(executor.map(_floor_one, ["x = 1\n"] * workers * 4))
        start = time.perf_counter()
        scores = list(executor.map(_floor_one, texts))
        return scores, time.perf_counter() - start


def _timed(run: Callable[[], list[float | None]]) -> tuple[list[float | None], float, int]:
    with TreeRss() as rss:
        start = time.perf_counter()
        scores = run()
        seconds = time.perf_counter() - start
    return scores, seconds, rss.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=240)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--threads", type=int, default=4, help="the original's thread count")
    args = parser.parse_args()
    texts = _files(args.files)
    size = sum(len(t) for t in texts)
    print(f"{len(texts)} stdlib files, {size / 1e6:.2f} MB; {os.cpu_count()} CPUs", flush=True)

    base, base_s, base_rss = _timed(lambda: original(texts, args.threads))
    print(f"original done in {base_s:.1f}s", flush=True)
    ours, ours_s, ours_rss = _timed(lambda: stage(texts, args.workers))
    print(f"stage done in {ours_s:.1f}s", flush=True)
    with TreeRss() as rss:
        best, best_s = floor(texts, args.workers)
    rows = [
        (f"original: pylint subprocess per file, {args.threads} threads", base_s, base_rss),
        (f"lint stage, FnApiRunner in memory, {args.workers} workers", ours_s, ours_rss),
        (f"floor: {args.workers} warm linters, no pipeline (warmed up)", best_s, rss.peak),
    ]
    print()
    print("| method | seconds | files/s | vs original | peak RSS MB (process tree) |")
    print("|---|---|---|---|---|")
    for name, seconds, peak in rows:
        print(
            f"| {name} | {seconds:.1f} | {len(texts) / seconds:.2f} | "
            f"{base_s / seconds:.1f}x | {peak / 2**20:.0f} |"
        )
    same_stage = sum(a == b for a, b in zip(base, ours, strict=True))
    same_floor = sum(a == b for a, b in zip(base, best, strict=True))
    print()
    print(f"stage / floor throughput: {best_s / ours_s:.2f}")
    print(f"identical scores, stage vs original: {same_stage}/{len(texts)}")
    print(f"identical scores, floor vs original: {same_floor}/{len(texts)}")
    for index, (a, b) in enumerate(zip(base, ours, strict=True)):
        if a != b:
            print(f"  file {index}: original {a}, stage {b}")


if __name__ == "__main__":
    main()
