"""The pipelines on a real Flink cluster, compared with the FnApiRunner on the same input.

Run by ``make test-flink`` (cluster up, job server built, SDK pinned to the job
server's Beam release); skipped elsewhere. Jobs run at parallelism 2 with SDK
workers in an EXTERNAL worker pool (separate Python processes, as on a Flink
deployment) and once in LOOPBACK. Each test checks that Flink itself ran the job
(its REST API lists it FINISHED), that every record left by the same exit with
the same reason as on the FnApiRunner, and that report.json balances.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.testing.flink import FlinkCluster, cluster_from_env, worker_pool
from beam_swallow.testing.lint_reference import hanging_source, stdlib_sources
from tests.flink_cases import (
    CODE_STAGES,
    HOSTILE,
    LLM,
    assert_same_exits,
    code_input_lines,
    conserved_report,
    new_job_name,
)

pytestmark = [
    pytest.mark.flink,
    pytest.mark.skipif(
        "FLINK_MASTER" not in os.environ, reason="needs the Flink cluster: make test-flink"
    ),
]


def _code_input(path: Path) -> Path:
    path.write_bytes(code_input_lines())
    return path


@pytest.fixture(scope="module")
def cluster() -> FlinkCluster:
    return cluster_from_env()


@pytest.fixture(scope="module")
def worker_tmp(tmp_path_factory) -> Path:
    """The worker pool's temporary directory, where lint workers keep the file they check."""
    return tmp_path_factory.mktemp("sdk-workers")


@pytest.fixture(scope="module")
def external(gcs_emulator, worker_tmp) -> list[str]:
    """Environment flags for SDK workers in a worker pool that can reach the GCS emulator."""
    env = {"TMPDIR": str(worker_tmp), "STORAGE_EMULATOR_HOST": gcs_emulator}
    with worker_pool(env) as address:
        yield ["--environment_type=EXTERNAL", f"--environment_config={address}"]


@pytest.fixture(scope="module")
def code_input(tmp_path_factory) -> Path:
    return _code_input(tmp_path_factory.mktemp("code") / "in.jsonl")


@pytest.fixture(scope="module")
def code_on_fnapi(code_input, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fnapi") / "out"
    argv = ["code", "--input", str(code_input), "--output", str(out), "--stages", CODE_STAGES]
    assert main([*argv, *LLM]) == 0
    return out


@pytest.mark.parametrize("environment", ["EXTERNAL", "LOOPBACK"])
def test_code_pipeline_on_flink_matches_the_local_runner(
    environment, cluster, external, code_input, code_on_fnapi, tmp_path
):
    job = new_job_name()
    env_args = external if environment == "EXTERNAL" else ["--environment_type=LOOPBACK"]
    out = tmp_path / "out"
    argv = ["code", "--input", str(code_input), "--output", str(out), "--stages", CODE_STAGES]
    assert main([*argv, *LLM, *cluster.beam_args(job, env_args)]) == 0

    assert cluster.job(job)["state"] == "FINISHED"
    assert_same_exits(out, code_on_fnapi)
    report = conserved_report(out)
    assert report["stages"]["read"]["dead_letter"] == 4
    assert report["stages"]["syntax"]["rejected"] == {
        "null_bytes": 1,
        "too_deep": 1,
        "syntax_error": 1,
    }
    assert report["stages"]["exact_dedup"]["rejected"] == {"exact_duplicate": 1}
    assert report["stages"]["lint"]["kept"] > 0 and report["stages"]["sgcr"]["input"] > 0


def test_math_pipeline_on_flink_matches_the_local_runner(cluster, external, tmp_path):
    argv = ["math", "--sample_size", "6", *LLM]
    local, on_flink = tmp_path / "local", tmp_path / "flink"
    assert main([*argv, "--output", str(local)]) == 0
    job = new_job_name()
    assert main([*argv, "--output", str(on_flink), *cluster.beam_args(job, external)]) == 0
    assert cluster.job(job)["state"] == "FINISHED"
    assert_same_exits(on_flink, local)
    assert conserved_report(on_flink)["stages"]["math_rewrite"]["input"] > 0


def test_gcs_input_and_output_from_flink_workers(cluster, external, gcs_emulator):
    from google.cloud import storage

    client = storage.Client.create_anonymous_client()
    client.project = "test"
    bucket = client.create_bucket(f"swallow-flink-{uuid.uuid4().hex[:8]}")
    lines = [json.dumps({"text": f"v{i} = {i}\n"}).encode() for i in range(5)] + HOSTILE[:2]
    bucket.blob("in/part-0.jsonl").upload_from_string(b"\n".join(lines))
    job = new_job_name()
    argv = ["code", "--input", f"gs://{bucket.name}/in/*.jsonl"]
    argv += ["--output", f"gs://{bucket.name}/out", "--no_auth", "--stages", "syntax,exact_dedup"]
    assert main([*argv, *cluster.beam_args(job, external)]) == 0
    assert cluster.job(job)["state"] == "FINISHED"
    report = json.loads(bucket.blob("out/report.json").download_as_bytes())
    assert report["balanced"] is True
    assert (report["input"], report["kept"], report["dead_letter"]) == (7, 5, 2)
    names = {blob.name for blob in client.list_blobs(bucket.name, prefix="out/kept/")}
    assert names


def _wait_for_lint_work(worker_tmp: Path, job: subprocess.Popen, timeout_s: float) -> None:
    """Until a lint worker in the pool holds a file (the lint stage is running on the cluster)."""
    deadline = time.monotonic() + timeout_s
    while not list(worker_tmp.glob("beam-swallow-lint-*/worker-*/*.py")):
        assert job.poll() is None, "the job ended before its lint stage was seen running"
        assert time.monotonic() < deadline, "the lint stage did not start on the cluster"
        time.sleep(0.1)


def test_taskmanager_killed_mid_job_every_record_leaves_once(
    cluster, external, worker_tmp, tmp_path
):
    """SIGKILL the TaskManager while lint runs; Flink restarts the job on a new one.

    The input holds a file that hangs pylint until ``--lint_timeout``: once any
    lint worker holds a file, the job cannot finish for that long, so the kill
    lands mid-job however fast or slow the machine is.
    """
    texts = [*stdlib_sources(10, max_bytes=3_000), hanging_source()]
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": t, "n": i}).encode() for i, t in enumerate(texts)]
    src.write_bytes(b"\n".join([*lines, *HOSTILE]) + b"\n")
    argv = ["code", "--input", str(src), "--stages", "syntax,lint"]
    argv += ["--lint_timeout", "20", "--lint_slow_timeout", "0", "--lint_workers", "1"]
    local = tmp_path / "local"
    assert main([*argv, "--output", str(local)]) == 0

    job_name = new_job_name()
    on_flink = tmp_path / "flink"
    command = [sys.executable, "-m", "beam_swallow.cli", *argv, "--output", str(on_flink)]
    job = subprocess.Popen([*command, *cluster.beam_args(job_name, external)])
    try:
        _wait_for_lint_work(worker_tmp, job, timeout_s=600)
        killed = cluster.kill_taskmanager()
        assert job.wait(timeout=900) == 0
    finally:
        if job.poll() is None:
            job.kill()

    flink_job = cluster.job(job_name)
    assert flink_job["state"] == "FINISHED"
    history = cluster.rest(f"/jobs/{flink_job['jid']}/exceptions")["exceptionHistory"]["entries"]
    assert history, f"Flink recorded no failure after TaskManager {killed} was killed"
    assert_same_exits(on_flink, local)
    report = conserved_report(on_flink)
    assert report["input"] == len(texts) + len(HOSTILE)
    assert report["stages"]["lint"]["rejected"].get("lint_timeout") == 1


def test_output_flag_is_not_taken_for_a_runner_flag_it_prefixes():
    """On Beam 2.62, ``--output`` alone also set FlinkRunner's ``--output_executable_path``."""
    from apache_beam.options.pipeline_options import PortableOptions

    from beam_swallow.cli import _pipeline_options

    options = _pipeline_options(["--output", "out/", "--runner=FlinkRunner"])
    assert options.view_as(PortableOptions).output_executable_path is None


def test_streaming_graph_on_flink_in_streaming_mode(cluster, external, tmp_path):
    """The streaming graph (windowed stages, stateful exact and near dedup, per-window
    files and reports) as a Flink streaming job. Its source is a bounded list of
    Pub/Sub messages with scripted timestamps: Beam's Python Pub/Sub read runs only on
    the DirectRunner and Dataflow, so this is the graph past the source."""
    import apache_beam as beam
    from apache_beam.io.gcp.pubsub import PubsubMessage
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.transforms.window import TimestampedValue

    from beam_swallow.io import READ_STAGE, ReaderConfig
    from beam_swallow.pipelines.graph import apply_stages
    from beam_swallow.streaming import ParseMessages, WriteWindows
    from beam_swallow.testing.windows import assert_windows_conserved, read_windows
    from beam_swallow.transforms import Syntax
    from beam_swallow.transforms.stream_dedup import StreamExactDedup, StreamNearDedup

    files = stdlib_sources(6, max_bytes=2_500)
    bodies = [*files, files[0], max(files, key=len) + "\nprint('edited copy')\n"]
    messages = [(json.dumps({"text": t}).encode(), 10 + 40 * i) for i, t in enumerate(bodies)]
    messages += [(line, 15 + i) for i, line in enumerate(HOSTILE[:3])]
    ids = [f"m{i}" for i in range(len(messages))]
    published = dict(zip(ids, (ts for _, ts in messages), strict=True))
    job = new_job_name()
    options = PipelineOptions([*cluster.beam_args(job, external), "--streaming"])
    stages = {
        "syntax": Syntax(),
        "exact_dedup": StreamExactDedup(),
        "near_dedup": StreamNearDedup(),
    }
    with beam.Pipeline(options=options) as pipeline:
        read = (
            pipeline
            | beam.Create(list(zip(ids, messages, strict=True)))
            | beam.Map(lambda m: TimestampedValue(PubsubMessage(m[1][0], {}, m[0]), m[1][1]))
            | ParseMessages(ReaderConfig(), 60, lambda message: published[message.message_id])
        )
        apply_stages(read, stages) | WriteWindows(str(tmp_path), [READ_STAGE, *stages])

    assert cluster.job(job)["state"] == "FINISHED"
    windows = read_windows(tmp_path)
    assert_windows_conserved(windows, ids)
    assert len(windows) >= 4  # records 40 s apart in 60 s windows
    rejected = [r for _, outputs in windows.values() for r in outputs["rejected"]]
    assert sorted(r["reason"] for r in rejected) == ["exact_duplicate", "near_duplicate"]
    assert sum(report["dead_letter"] for report, _ in windows.values()) == 3
