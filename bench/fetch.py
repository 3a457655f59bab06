"""Benchmark: blobs/s the fetch stage gets per worker, against a plain boto3 thread-pool loop.

Both fetch the same gzip'd blobs (this interpreter's standard-library files,
uploaded as Software Heritage stores them) from one S3-protocol server (moto's,
in its own process on 127.0.0.1, so it does not share this process's GIL),
with the same number of GETs in flight:

- ``boto3 loop``: ``ThreadPoolExecutor.map`` over the blob ids, each thread
  doing ``get_object``, reading the body, gunzipping and decoding it: the
  one-off script people write;
- ``fetch stage``: the pipeline ``Create(records) | Fetch(cfg)`` on the local
  FnApiRunner (one worker), judged and counted as in a real run;
- ``beam fixed cost``: the same graph with the GETs left out (Reshuffle, an
  identity Map, the count), to show what of the stage's time is Beam's own.

Runs alternate, ``--repeats`` times each; the table has the best of each and
the ratio (stage / loop; with Beam's fixed cost taken out too). The server's
own speed bounds both; real S3 answers slower per GET, where more GETs in
flight matter more than per-GET overhead.

Run: ``python bench/fetch.py [--blobs N] [--concurrency N] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.samples import stdlib_python_files
from beam_swallow.sources.s3 import S3Settings, make_client
from beam_swallow.testing import free_port, wait_for_port
from beam_swallow.testing.s3 import CREDENTIALS
from beam_swallow.testing.stack_v2 import blob_id_of, upload_blobs
from beam_swallow.transforms.fetch import Fetch, FetchConfig

BUCKET = "softwareheritage"
PREFIX = "content/"


def _blobs(count: int) -> dict[str, bytes]:
    """``count`` distinct standard-library files (cycled with a marker line when too few)."""
    files = [p.read_bytes() for p in stdlib_python_files()]
    blobs: dict[str, bytes] = {}
    round_ = 0
    while len(blobs) < count:
        for data in files:
            data = data if round_ == 0 else data + b"# copy %d\n" % round_
            blobs[blob_id_of(data)] = data
            if len(blobs) == count:
                break
        round_ += 1
    return blobs


def _loop(settings: S3Settings, ids: list[str], concurrency: int) -> float:
    client = make_client(settings, max_connections=concurrency)

    def get(blob_id: str) -> int:
        body = client.get_object(Bucket=BUCKET, Key=PREFIX + blob_id)["Body"].read()
        return len(gzip.decompress(body).decode("utf-8", "replace"))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        total = sum(1 for _ in pool.map(get, ids))
    assert total == len(ids)
    return time.monotonic() - started


def _pipeline(records: list[dict], stage: beam.PTransform | None) -> float:
    started = time.monotonic()
    with beam.Pipeline(runner=FnApiRunner(), options=PipelineOptions([])) as pipeline:
        created = pipeline | beam.Create(records)
        if stage is None:
            exits = [created | beam.Reshuffle() | "Identity" >> beam.Map(lambda r: r)]
        else:
            exits = list(created | stage)
        _ = (
            exits
            | beam.Flatten()
            | beam.combiners.Count.Globally()
            | beam.Map(_expect, len(records))
        )
    return time.monotonic() - started


def _expect(count: int, wanted: int) -> None:
    if count != wanted:
        raise RuntimeError(f"{count} of {wanted} records came out")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blobs", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, server, "moto server")
        settings = S3Settings(endpoint_url=f"http://127.0.0.1:{port}")
        client = make_client(settings)
        client.create_bucket(Bucket=BUCKET)
        blobs = _blobs(args.blobs)
        upload_blobs(client, BUCKET, PREFIX, blobs)
        ids = list(blobs)
        records = [{"id": b, "blob_id": b, "src_encoding": "UTF-8"} for b in ids]
        cfg = FetchConfig(
            content_url=f"s3://{BUCKET}/{PREFIX}", concurrency=args.concurrency, s3=settings
        )
        times: dict[str, list[float]] = {"loop": [], "stage": [], "fixed": []}
        for _ in range(args.repeats):
            times["loop"].append(_loop(settings, ids, args.concurrency))
            times["stage"].append(_pipeline(records, Fetch(cfg)))
            times["fixed"].append(_pipeline(records, None))
    finally:
        server.terminate()
        server.wait(timeout=30)
    loop, stage, fixed = (min(times[k]) for k in ("loop", "stage", "fixed"))
    size = sum(len(d) for d in blobs.values()) / len(blobs)
    print(
        f"{len(ids)} blobs (stdlib files, mean {size / 1000:.1f} KB), {args.concurrency} GETs "
        f"in flight, moto server on 127.0.0.1, {os.cpu_count()} cores, {platform.python_version()}"
    )
    print(f"| run | seconds (best of {args.repeats}) | blobs/s |")
    print("|---|---|---|")
    print(f"| boto3 thread-pool loop | {loop:.2f} | {len(ids) / loop:,.0f} |")
    print(f"| fetch stage, FnApiRunner | {stage:.2f} | {len(ids) / stage:,.0f} |")
    print(f"| Beam fixed cost (identity Map) | {fixed:.2f} | |")
    net = max(stage - fixed, 1e-9)
    print(
        f"stage / loop blobs/s: {loop / stage:.2f} (whole pipeline), "
        f"{loop / net:.2f} (Beam's fixed cost taken out)"
    )
    print("all runs (s):", {k: [round(v, 2) for v in vs] for k, vs in times.items()})


if __name__ == "__main__":
    main()
