"""Syntax stage throughput: the whole pipeline vs. a plain compile() loop.

Both sides see the same stdlib files, in one run. The pipeline side is
``beam-swallow code --stages syntax`` end to end (read JSONL, compile, write
the three sinks, count, report) on the local FnApiRunner; the baseline is a
``compile()`` loop over the same texts already in memory, so the ratio is what
the pipeline's I/O and bookkeeping cost on top of the stage's own work. A
second baseline does the I/O too, with no Beam: it reads the same JSONL file,
decodes each line (``json``), compiles, encodes the kept record with the
pipeline's own encoder (orjson, ``beam_swallow.jsonl.encode_line``) and
compresses it with the pipeline's own compressor (gzip by ISA-L,
``beam_swallow.jsonl.COMPRESSIONS``); the pipeline against it is what Beam
itself costs. Both run again with ``--output_compression zstd``. Last, the
kept lines are compressed once by each compressor a user could pick, side by
side: zlib at level 6 (what Beam's ``WriteToText`` writes gzip with), ISA-L
(the pipeline's gzip) and zstd, with the size each writes.
``--documents N`` takes N real files of the standard library and
site-packages (``beam_swallow.testing.corpus``) in place of the stdlib sample,
to see the ratio once the fixed costs (graph construction, start-up, the report) are
spread over more work. Each timing is wall-clock and CPU seconds of this
process, every thread included (with ``--mode multi_processing`` the workers
are other processes: read the wall clock there); ``--rounds N`` interleaves
N rounds and keeps each side's best.
Token counts for the report are off (``--no_token_counts``): they tokenize
every kept text at every stage, a cost of the report's funnel that belongs to
no stage (``beam_swallow.inference.tokens`` gives its rate).

Usage: python bench/syntax.py [--files N | --documents N] [--mode in_memory|multi_processing]
[--rounds N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import tempfile
import time
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import NamedTuple

from beam_swallow.cli import main
from beam_swallow.jsonl import COMPRESSIONS, encode_line
from beam_swallow.samples import code_sample_records
from beam_swallow.testing.corpus import real_documents


class Timing(NamedTuple):
    """Wall-clock and CPU seconds (this process, every thread) of one timed call."""

    wall: float
    cpu: float

    def best(self, other: Timing) -> Timing:
        return Timing(min(self.wall, other.wall), min(self.cpu, other.cpu))


NEVER = Timing(float("inf"), float("inf"))


def timed(work: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def compile_loop(texts: list[str]) -> None:
    for text in texts:
        try:
            compile(text, "<string>", "exec")
        except Exception:  # noqa: BLE001 - the baseline only needs the work done
            pass


# What each compressor costs on the kept lines: Beam's own gzip (zlib, level 6)
# against the pipeline's (beam_swallow.jsonl.COMPRESSIONS).
COMPRESSORS: dict[str, Callable[[], object]] = {
    "gzip, zlib level 6 (Beam's WriteToText)": partial(
        zlib.compressobj, zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 16 + zlib.MAX_WBITS
    ),
    **{f"{name}, the pipeline's": c.compressor for name, c in COMPRESSIONS.items()},
}


def compress_lines(lines: list[bytes], new: Callable[[], object], sizes: list[int]) -> None:
    """Compress ``lines`` as one stream, as a sink writes them; append the size in bytes to ``sizes``."""
    compressor = new()
    sizes.append(sum(len(compressor.compress(line)) for line in lines) + len(compressor.flush()))


def io_loop(input_path: Path, output_path: Path, compression: str) -> None:
    """Read, decode, compile, encode and compress each record in a plain loop: the pipeline's work, no Beam."""
    compressor = COMPRESSIONS[compression].compressor()
    with input_path.open("rb") as lines, output_path.open("wb") as out:
        for line in lines:
            record = json.loads(line)
            try:
                compile(record["text"], "<string>", "exec")
            except Exception:  # noqa: BLE001 - the baseline only needs the work done
                continue
            record["syntax_ok"] = True
            out.write(compressor.compress(encode_line(record, default=str) + b"\n"))
        out.write(compressor.flush())


def pipeline_run(input_path: Path, out: Path, mode: str, compression: str) -> None:
    argv = ["code", "--input", str(input_path), "--output", str(out), "--stages", "syntax"]
    argv += ["--no_token_counts", "--output_compression", compression]
    if mode != "in_memory":
        argv += [f"--direct_running_mode={mode}", "--direct_num_workers=2"]
    assert main(argv) == 0


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="stdlib files (at most ~1,800)")
    parser.add_argument("--documents", type=int, help="real stdlib + site-packages files instead")
    parser.add_argument("--mode", default="in_memory")
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds of every timing, best kept (a busy machine)"
    )
    args = parser.parse_args()
    if args.documents:
        records = list(itertools.islice(real_documents(200_000), args.documents))
        source = "stdlib + site-packages files"
    else:
        records = code_sample_records(args.files, max_bytes=200_000)
        source = "stdlib files"
    texts = [r["text"] for r in records]
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    loop = NEVER
    io = dict.fromkeys(COMPRESSIONS, NEVER)
    pipe = dict.fromkeys(COMPRESSIONS, NEVER)
    with tempfile.TemporaryDirectory() as tmp:
        input_path = Path(tmp, "in.jsonl")
        input_path.write_text("".join(json.dumps(r) + "\n" for r in records))
        for _ in range(args.rounds):  # interleaved, so a slow spell of the machine hits all
            loop = loop.best(timed(partial(compile_loop, texts)))
            for c in COMPRESSIONS:
                io_run = partial(io_loop, input_path, Path(tmp, f"loop-{c}"), c)
                io[c] = io[c].best(timed(io_run))
                pipe_run = partial(pipeline_run, input_path, Path(tmp, f"out-{c}"), args.mode, c)
                pipe[c] = pipe[c].best(timed(pipe_run))
    n = len(texts)
    print(
        f"# {n} {source}, {megabytes:.1f} MB, {platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    print("| method | wall s | CPU s | files per wall s |")
    print("|---|---|---|---|")
    rows = [("compile() loop (baseline)", loop)]
    for c in COMPRESSIONS:
        rows.append((f"loop with the I/O: JSON in, compile, JSON out, {c}", io[c]))
        rows.append((f"pipeline, --stages syntax ({args.mode}, {c})", pipe[c]))
    for name, t in rows:
        print(f"| {name} | {t.wall:.2f} | {t.cpu:.2f} | {n / t.wall:.0f} |")
    print("ratios of throughput, wall (CPU):")
    for c in COMPRESSIONS:
        for name, num, den in (
            ("pipeline / compile loop", loop, pipe[c]),
            ("pipeline / loop with the I/O", io[c], pipe[c]),
            ("loop with the I/O / compile loop", loop, io[c]),
        ):
            print(f"{c}: {name}: {num.wall / den.wall:.2f} ({num.cpu / den.cpu:.2f})")
    lines = [encode_line({**r, "syntax_ok": True}) + b"\n" for r in records]
    raw = sum(map(len, lines)) / 1e6
    print(f"compressing the {n} output lines ({raw:.1f} MB) as one stream, best of {args.rounds}:")
    print("| compressor | CPU s | MB written |")
    print("|---|---|---|")
    for name, new in COMPRESSORS.items():
        sizes: list[int] = []
        best = NEVER
        for _ in range(args.rounds):
            best = best.best(timed(partial(compress_lines, lines, new, sizes)))
        print(f"| {name} | {best.cpu:.2f} | {sizes[0] / 1e6:.1f} |")


if __name__ == "__main__":
    run()
