"""Benchmark: the format stage against the ``ruff format`` CLI run once over a folder.

The floor is ruff itself: the same files written to a folder and formatted by
one ``ruff format --isolated --no-cache DIR`` (its own threads over every
file), timed from the process start to its exit, files already on disk. Ours
is the ``format`` stage in a Beam pipeline (FnApiRunner) from records in
memory to its kept exit, batches of ``--ruff_batch_files``: everything the
stage costs (writing each batch out, reading it back, Beam's per-record work).
Rounds alternate the two; the best of each is kept. Prints files/s and the
ratio ours / floor (the goal: at least 0.8).

    python bench/format.py [--files N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.linting.ruff import RuffConfig, ruff_binary, ruff_version
from beam_swallow.transforms import Format


def _sources(count: int) -> list[str]:
    """Real files: the standard library's, in a fixed order, those ruff can parse."""
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(root.rglob("*.py")):
        if "test" in path.parts or "lib2to3" in path.parts:
            continue  # test data holds files no parser takes, on purpose
        try:
            text = path.read_text(encoding="utf-8")
            compile(text, str(path), "exec")
        except (UnicodeDecodeError, SyntaxError, ValueError, OSError):
            continue
        found.append(text)
        if len(found) == count:
            return found
    return found


def _floor(sources: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        for index, text in enumerate(sources):
            Path(tmp, f"{index}.py").write_text(text, encoding="utf-8")
        start = time.perf_counter()
        subprocess.run(
            [ruff_binary(), "format", "--isolated", "--no-cache", tmp],
            capture_output=True,
            check=False,
        )
        return time.perf_counter() - start


def _stage(sources: list[str], batch: int) -> float:
    records = [{"id": str(i), "text": text} for i, text in enumerate(sources)]
    start = time.perf_counter()
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        result = pipeline | beam.Create(records) | Format(RuffConfig(batch_files=batch))
        result.kept | beam.combiners.Count.Globally()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=RuffConfig().batch_files)
    args = parser.parse_args()
    sources = _sources(args.files)
    size = sum(len(text) for text in sources)
    floor, ours = float("inf"), float("inf")
    for _ in range(args.rounds):
        floor = min(floor, _floor(sources))
        ours = min(ours, _stage(sources, args.batch))
    n = len(sources)
    print(f"{ruff_version()}; {n} stdlib files, {size / 1e6:.1f} M chars; {os.cpu_count()} CPUs")
    print(f"{'run':<34}{'seconds':>10}{'files/s':>10}")
    print(f"{'ruff format DIR (floor)':<34}{floor:>10.2f}{n / floor:>10.0f}")
    print(f"{'format stage, batch ' + str(args.batch):<34}{ours:>10.2f}{n / ours:>10.0f}")
    print(f"ratio ours / floor: {floor / ours:.2f}")


if __name__ == "__main__":
    main()
