"""Syntax stage throughput: the whole pipeline vs. a plain compile() loop.

Both sides see the same stdlib files, in one run. The pipeline side is
``beam-swallow code --stages syntax`` end to end (read JSONL, compile, write
the three sinks, count, report) on the local FnApiRunner; the baseline is a
``compile()`` loop over the same texts already in memory, so the ratio is what
the pipeline's I/O and bookkeeping cost on top of the stage's own work. A
second baseline does the I/O too, with no Beam: it reads the same JSONL file,
decodes each line, compiles, encodes the kept record and writes it through
gzip at the level Beam's sink uses (zlib's default, 6); the pipeline against
it is what Beam itself costs. Both run again with ``--output_compression
zstd`` (the loop with zstandard at Beam's level, 3). ``--documents N`` takes N real files of the
standard library and site-packages (``beam_swallow.testing.corpus``) in place
of the stdlib sample, to see the ratio once the fixed costs (graph
construction, start-up, the report) are spread over more work.
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
from pathlib import Path

import zstandard

from beam_swallow.cli import main
from beam_swallow.jsonl import COMPRESSIONS
from beam_swallow.samples import code_sample_records
from beam_swallow.testing.corpus import real_documents


def compile_loop(texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        try:
            compile(text, "<string>", "exec")
        except Exception:  # noqa: BLE001 - the baseline only needs the work done
            pass
    return time.perf_counter() - start


def _compressor(compression: str):
    """The compressor Beam's text sink uses for ``compression``, at its level."""
    if compression == "zstd":
        return zstandard.ZstdCompressor().compressobj()
    # the gzip container at zlib's default level
    return zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 16 + zlib.MAX_WBITS)


def io_loop(input_path: Path, output_path: Path, compression: str) -> float:
    """Read, decode, compile, encode and compress each record in a plain loop: the pipeline's work, no Beam."""
    start = time.perf_counter()
    compressor = _compressor(compression)
    with input_path.open("rb") as lines, output_path.open("wb") as out:
        for line in lines:
            record = json.loads(line)
            try:
                compile(record["text"], "<string>", "exec")
            except Exception:  # noqa: BLE001 - the baseline only needs the work done
                continue
            record["syntax_ok"] = True
            out.write(compressor.compress((json.dumps(record, ensure_ascii=False) + "\n").encode()))
        out.write(compressor.flush())
    return time.perf_counter() - start


def pipeline_run(input_path: Path, out: Path, mode: str, compression: str) -> float:
    argv = ["code", "--input", str(input_path), "--output", str(out), "--stages", "syntax"]
    argv += ["--no_token_counts", "--output_compression", compression]
    if mode != "in_memory":
        argv += [f"--direct_running_mode={mode}", "--direct_num_workers=2"]
    start = time.perf_counter()
    assert main(argv) == 0
    return time.perf_counter() - start


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
    with tempfile.TemporaryDirectory() as tmp:
        input_path = Path(tmp, "in.jsonl")
        input_path.write_text("".join(json.dumps(r) + "\n" for r in records))
        loop_s = float("inf")
        timings = dict.fromkeys(COMPRESSIONS, (float("inf"), float("inf")))
        for _ in range(args.rounds):  # interleaved, so a slow spell of the machine hits all
            loop_s = min(loop_s, compile_loop(texts))
            for compression, (io_s, pipe_s) in timings.items():
                io_now = io_loop(input_path, Path(tmp, f"loop-{compression}"), compression)
                out = Path(tmp, f"out-{compression}")
                pipe_now = pipeline_run(input_path, out, args.mode, compression)
                timings[compression] = min(io_s, io_now), min(pipe_s, pipe_now)
    n = len(texts)
    print(
        f"# {n} {source}, {megabytes:.1f} MB, {platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    print("| method | seconds | files/s |")
    print("|---|---|---|")
    print(f"| compile() loop (baseline) | {loop_s:.2f} | {n / loop_s:.0f} |")
    for compression, (io_s, pipe_s) in timings.items():
        print(
            f"| loop with the I/O: JSON in, compile, JSON out, {compression} | "
            f"{io_s:.2f} | {n / io_s:.0f} |"
        )
        print(
            f"| pipeline, --stages syntax ({args.mode}, {compression}) | "
            f"{pipe_s:.2f} | {n / pipe_s:.0f} |"
        )
    for compression, (io_s, pipe_s) in timings.items():
        print(f"{compression}: pipeline / compile loop throughput: {loop_s / pipe_s:.2f}")
        print(f"{compression}: pipeline / loop with the I/O: {io_s / pipe_s:.2f}")
        print(f"{compression}: loop with the I/O / compile loop: {loop_s / io_s:.2f}")


if __name__ == "__main__":
    run()
