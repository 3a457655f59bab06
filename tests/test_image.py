"""The worker image as Flink's SDK workers, compared with the FnApiRunner on the same input.

Run by ``make test-image`` (the image built with podman, the Flink cluster and
job server of ``make test-flink``); skipped elsewhere. The cluster is restarted
with podman behind a ``docker`` name on its PATH: Beam's DOCKER environment has
each TaskManager start its SDK workers as containers of the image, as Dataflow
and Flink on Kubernetes do. Inputs and outputs are ``gs://`` paths on a real
GCS-protocol server, read and written from inside the containers. Each test
checks that Flink ran the job (its REST API lists it FINISHED), that the image's
containers started during it, that every record left by the same exit with the
same reason as on the FnApiRunner, once, and that report.json balances.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.testing import free_port, wait_for_port
from beam_swallow.testing.flink import FlinkCluster, cluster_from_env
from tests.flink_cases import (
    CODE_STAGES,
    LLM,
    assert_same_exits,
    code_input_lines,
    conserved_report,
    new_job_name,
)

pytestmark = [
    pytest.mark.image,
    pytest.mark.skipif(
        "WORKER_IMAGE" not in os.environ, reason="needs the worker image: make test-image"
    ),
]

ROOT = Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("WORKER_IMAGE", "")
DOCKER = Path(os.environ.get("DOCKER_BIN", "")) / "docker"
METADATA = ROOT / "templates" / "dataflow" / "metadata.json"
CLI = [sys.executable, "-m", "beam_swallow.cli"]
JOB_LIMIT_S = 1800  # a cap for a hung job, far above a job's minutes on a loaded 2-core machine


def _in_containers() -> list[str]:
    """Beam flags: SDK workers are containers of the image under test.

    Beam 2.62's portable runners take a DOCKER environment's image from
    --environment_config (--sdk_container_image is Dataflow's). A container is
    kept for reuse by the job's later tasks for a minute, not started per task.
    """
    return [
        "--environment_type=DOCKER",
        f"--environment_config={IMAGE}",
        "--environment_cache_millis=60000",
    ]


@pytest.fixture(scope="module")
def cluster(gcs_emulator) -> Iterator[FlinkCluster]:
    """The local cluster, restarted so its TaskManager runs podman as ``docker``.

    The ``docker`` of DOCKER_BIN passes STORAGE_EMULATOR_HOST (set by the
    emulator fixture) on to each container it runs. SDK workers still cached
    when the TaskManager stops exit without Beam removing them, so the exited
    containers of the image are removed afterwards.
    """
    env = {**os.environ, "PATH": os.pathsep.join([str(DOCKER.parent), os.environ["PATH"]])}
    script = [str(ROOT / "templates" / "flink" / "cluster.sh")]
    subprocess.run([*script, "down"], check=True, env=env)
    # In a session of its own: a signal to the tests' process group must not reach the cluster.
    subprocess.run([*script, "up"], check=True, env=env, start_new_session=True)
    try:
        yield cluster_from_env()
    finally:
        subprocess.run([*script, "down"], check=True, env=env)
        exited = [str(DOCKER), "ps", "--all", "--quiet", "--filter=status=exited"]
        exited += [f"--filter=ancestor={IMAGE}"]
        ids = subprocess.run(exited, check=True, capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run([str(DOCKER), "rm", *ids], check=True, capture_output=True)


@pytest.fixture(scope="module")
def bucket(gcs_emulator):
    from google.cloud import storage

    client = storage.Client.create_anonymous_client()
    client.project = "test"
    return client.create_bucket(f"swallow-image-{uuid.uuid4().hex[:8]}")


def _download(bucket, prefix: str, dest: Path) -> Path:
    """Every object under gs://bucket/prefix/ into dest, keeping the relative paths."""
    for blob in bucket.client.list_blobs(bucket.name, prefix=f"{prefix}/"):
        target = dest / blob.name[len(prefix) + 1 :]
        target.parent.mkdir(parents=True, exist_ok=True)
        blob.download_to_filename(str(target))
    assert (dest / "report.json").is_file(), f"no report.json under gs://{bucket.name}/{prefix}"
    return dest


def _containers_started(since: float) -> list[str]:
    """Containers of the image that podman started since ``since`` (epoch seconds)."""
    events = subprocess.run(
        [str(DOCKER), "events", "--stream=false", f"--since={int(since)}"]
        + ["--filter=event=start", "--format={{.ID}} {{.Image}}"],
        check=True,
        capture_output=True,
        text=True,
    )
    started = [line.split() for line in events.stdout.splitlines()]
    return [fields[0] for fields in started if fields[1:] == [IMAGE]]


def _beside(job_command: list[str], local_run: Callable[[], int]) -> None:
    """Start a job on the cluster, run the FnApiRunner's reference meanwhile, wait for both.

    Much of a job's time is its containers starting, so the reference run fits beside it.
    """
    job = subprocess.Popen(job_command)
    try:
        assert local_run() == 0, "the reference run on the FnApiRunner failed"
        assert job.wait(timeout=JOB_LIMIT_S) == 0, "the job on the cluster failed"
    finally:
        if job.poll() is None:
            job.kill()


def test_code_pipeline_in_worker_containers_matches_the_local_runner(cluster, bucket, tmp_path):
    """Every stage, the embedded model included, in the image's containers; gs:// both ways."""
    bucket.blob("code/in.jsonl").upload_from_string(code_input_lines(files=4))
    argv = ["code", "--input", f"gs://{bucket.name}/code/in.jsonl", "--stages", CODE_STAGES]
    argv += ["--no_auth", *LLM]
    local = tmp_path / "local"
    job, started = new_job_name(), time.time()
    output = ["--output", f"gs://{bucket.name}/code/out"]
    on_cluster = [*CLI, *argv, *output, *cluster.beam_args(job, _in_containers())]
    _beside(on_cluster, lambda: main([*argv, "--output", str(local)]))
    assert cluster.job(job)["state"] == "FINISHED"
    assert _containers_started(started), f"no container of {IMAGE} started during the job"

    on_flink = _download(bucket, "code/out", tmp_path / "flink")
    assert_same_exits(on_flink, local)
    report = conserved_report(on_flink)
    assert report["stages"]["read"]["dead_letter"] == 4
    assert report["stages"]["syntax"]["rejected"] == {
        "null_bytes": 1,
        "too_deep": 1,
        "syntax_error": 1,
    }
    assert report["stages"]["exact_dedup"]["rejected"] == {"exact_duplicate": 1}
    assert report["stages"]["lint"]["kept"] > 0 and report["stages"]["sgcr"]["input"] > 0


def test_math_pipeline_in_worker_containers_matches_the_local_runner(cluster, bucket, tmp_path):
    argv = ["math", "--sample_size", "4", "--no_auth", *LLM]
    local = tmp_path / "local"
    job, started = new_job_name(), time.time()
    output = ["--output", f"gs://{bucket.name}/math/out"]
    on_cluster = [*CLI, *argv, *output, *cluster.beam_args(job, _in_containers())]
    _beside(on_cluster, lambda: main([*argv, "--output", str(local)]))
    assert cluster.job(job)["state"] == "FINISHED"
    assert _containers_started(started), f"no container of {IMAGE} started during the job"

    on_flink = _download(bucket, "math/out", tmp_path / "flink")
    assert_same_exits(on_flink, local)
    assert conserved_report(on_flink)["stages"]["math_rewrite"]["input"] > 0


def _template_args(values: dict[str, str]) -> list[str]:
    """``--name=value`` flags as the flex-template launcher passes a template's parameters.

    Each name must be a parameter of metadata.json and match its regexes; every
    parameter it marks required must be given.
    """
    parameters = {p["name"]: p for p in json.loads(METADATA.read_text())["parameters"]}
    required = {name for name, p in parameters.items() if not p.get("isOptional", False)}
    assert required <= values.keys(), f"required template parameters missing: {required}"
    for name, value in values.items():
        for regex in parameters[name].get("regexes", []):
            assert re.fullmatch(regex, value), f"{name}={value!r} fails the template's {regex}"
    return [f"--{name}={value}" for name, value in values.items()]


@pytest.fixture
def job_server(cluster) -> Iterator[str]:
    """Beam's Flink job server on its own ports (as a launcher reaches Dataflow's service)."""
    port = free_port()
    proc = subprocess.Popen(
        ["java", "-jar", str(cluster.job_server_jar), f"--flink-master={cluster.master}"]
        + [f"--job-port={port}", f"--artifact-port={free_port()}", "--expansion-port=0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc, "the Flink job server")
        yield f"localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_template_launcher_in_the_image_submits_to_the_job_server(
    cluster, job_server, bucket, tmp_path
):
    """launch.py, the image's template entry point, builds and submits the job from inside."""
    bucket.blob("template/in.jsonl").upload_from_string(code_input_lines(files=4))
    values = {
        "input": f"gs://{bucket.name}/template/in.jsonl",
        "output": f"gs://{bucket.name}/template/out",
        "stages": "syntax,lint,exact_dedup",
        "text_field": "text",
        "output_compression": "gzip",
    }
    local = tmp_path / "local"
    job, started = new_job_name(), time.time()
    launch = [str(DOCKER), "run", "--rm", "--entrypoint=python", IMAGE, "/template/launch.py"]
    runner = ["--runner=PortableRunner", f"--job_endpoint={job_server}", f"--job_name={job}"]
    runner += ["--parallelism=2", "--no_auth", *_in_containers()]
    template = _template_args({"pipeline": "code", **values})
    reference = ["code", *_template_args({**values, "output": str(local)}), "--no_auth"]
    _beside([*launch, *template, *runner], lambda: main(reference))
    assert cluster.job(job)["state"] == "FINISHED"
    assert len(_containers_started(started)) >= 2, "the launcher and at least one SDK worker"

    on_flink = _download(bucket, "template/out", tmp_path / "flink")
    assert_same_exits(on_flink, local)
    assert conserved_report(on_flink)["stages"]["lint"]["input"] > 0
