"""Benchmark: the format stage against the ``ruff format`` CLI run once over a folder.

The floor is ruff itself: the same files written to a folder beforehand and
formatted by one ``ruff format --isolated --no-cache DIR`` (its own threads over
every file), timed from the process start to its exit. Ours, two ways:

- the stage's work: :func:`~beam_swallow.languages.formatting.ruff.format_python` over the
  files in batches of ``--batch`` as the stage's DoFn calls it, from strings in
  memory to strings in memory (writing each batch out, ruff, reading it back);
- the stage in Beam: a FnApiRunner pipeline that reads the files (``Create``
  of their paths, a ``Map`` reading each) into ``Format`` and counts its kept
  exit, less the same pipeline with an identity ``Map`` for the stage: Beam's
  start-up and the reading are not counted against the stage, its per-record
  plumbing is. (A ``Create`` of the records themselves pickles and compresses
  megabytes into the graph: seconds that would drown the stage.)

Rounds alternate; the best of each is kept. Prints files/s and the ratio
floor seconds / ours (the goal: at least 0.8).

    python bench/format.py [--files N] [--rounds R] [--batch B]
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

from beam_swallow.languages.formatting import FormatConfig
from beam_swallow.languages.formatting.ruff import format_python, ruff_binary, ruff_version
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


def _work(sources: list[str], batch: int) -> float:
    cfg = FormatConfig(batch_files=batch)
    start = time.perf_counter()
    for first in range(0, len(sources), batch):
        format_python(sources[first : first + batch], cfg)
    return time.perf_counter() - start


def _read(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {"id": path, "text": handle.read()}


def _pipeline(paths: list[str], stage: beam.PTransform | None) -> float:
    start = time.perf_counter()
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        records = pipeline | beam.Create(paths) | "Read" >> beam.Map(_read)
        kept = (records | stage).kept if stage is not None else records | beam.Map(dict)
        kept | beam.combiners.Count.Globally()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=FormatConfig().batch_files)
    args = parser.parse_args()
    sources = _sources(args.files)
    size = sum(len(text) for text in sources)
    best = {
        "floor": float("inf"),
        "work": float("inf"),
        "stage": float("inf"),
        "bare": float("inf"),
    }
    with tempfile.TemporaryDirectory() as tmp:  # the pipelines read the files themselves
        paths = []
        for index, text in enumerate(sources):
            paths.append(str(Path(tmp, f"{index}.py")))
            Path(paths[-1]).write_text(text, encoding="utf-8")
        for _ in range(args.rounds):
            best["floor"] = min(best["floor"], _floor(sources))
            best["work"] = min(best["work"], _work(sources, args.batch))
            best["bare"] = min(best["bare"], _pipeline(paths, None))
            stage = Format(FormatConfig(batch_files=args.batch))
            best["stage"] = min(best["stage"], _pipeline(paths, stage))
    n = len(sources)
    in_beam = max(best["stage"] - best["bare"], 1e-9)
    print(f"{ruff_version()}; {n} stdlib files, {size / 1e6:.1f} M chars; {os.cpu_count()} CPUs")
    print(f"{'run':<44}{'seconds':>10}{'files/s':>10}{'ratio':>8}")
    rows = (
        ("ruff format DIR (floor)", best["floor"]),
        (f"format_sources, batches of {args.batch}", best["work"]),
        ("format stage in Beam (less identity pipeline)", in_beam),
    )
    for name, seconds in rows:
        print(f"{name:<44}{seconds:>10.2f}{n / seconds:>10.0f}{best['floor'] / seconds:>8.2f}")
    print(f"(pipelines: with the stage {best['stage']:.2f} s, identity {best['bare']:.2f} s)")


if __name__ == "__main__":
    main()
