"""The Dataflow job our graph becomes, built by Beam's own DataflowRunner, up to the wire.

No Dataflow project exists here; everything up to the request Dataflow would receive
does. Each pipeline's job is built by Beam's DataflowRunner from the CLI, staged on the
GCS emulator as a classic template (``--template_location``), read back and checked:
every stage, RunInference in the LLM stages, Runner v2, our worker image, the GPU
service option, the options and engine settings the workers get, nothing of the
launcher's disk. A stand-in for the Dataflow API (:mod:`beam_swallow.testing.dataflow_api`)
takes a real submission: the job it is sent is the template's, and it runs the staged
pipeline on Beam's local runner, so the CLI builds its report from the job's outputs;
a job the stand-in fails exits non-zero with its error. The flex template's launcher
(``templates/dataflow/launch.py``, run as Dataflow's launcher runs it) builds the
same job as the CLI.
"""

from __future__ import annotations

import base64
import bz2
import copy
import json
import os
import re
import subprocess
import sys
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from apache_beam.internal import pickler
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability import common_urns
from apache_beam.portability.api import beam_runner_api_pb2

from beam_swallow.cli import main
from beam_swallow.inference.config import EngineConfig
from beam_swallow.options import (
    DEFAULT_CODE_STAGES,
    DEFAULT_DEDUP_STAGES,
    DEFAULT_MATH_STAGES,
    SwallowOptions,
)
from beam_swallow.samples import code_sample_records, math_sample_records
from beam_swallow.testing import assert_conserved
from beam_swallow.testing.dataflow_api import DataflowStandIn, job_options, run_staged_job
from beam_swallow.testing.pubsub import HOST_VARIABLE as PUBSUB_HOST
from beam_swallow.testing.pubsub import emulator_available, pubsub_emulator
from beam_swallow.transforms.recipe_flags import DEFAULT_CODE_V2_STAGES

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ROOT / "templates" / "dataflow" / "launch.py"
METADATA = ROOT / "templates" / "dataflow" / "metadata.json"

PROJECT = "swallow-test"
REGION = "us-central1"
IMAGE = "beam-swallow-worker:dataflow-test"
GPU = "worker_accelerator=type:nvidia-l4;count:1;install-nvidia-driver"
# a checkpoint inside the worker image: the launcher has no such directory
MODEL_IN_IMAGE = "/models/rewriter"
ENDPOINT = "http://rewriter.internal:8000/v1"  # on the workers' network, not the launcher's


@dataclass(frozen=True)
class Case:
    """One pipeline's job: its flags (Dataflow's come on top) and what it must hold."""

    pipeline: str
    stages: str
    llm_stages: tuple[str, ...]
    flags: tuple[str, ...]
    gpu: bool
    engine: dict[str, Any] = field(default_factory=dict)


CASES = {
    "code": Case(
        "code",
        DEFAULT_CODE_STAGES,
        ("sgcr", "scor"),
        ("--engine=vllm", f"--model={MODEL_IN_IMAGE}", "--max_tokens=2048", "--cache_dir=CACHE"),
        gpu=True,
        engine={"engine": "vllm", "model": MODEL_IN_IMAGE, "max_tokens": 2048},
    ),
    "math": Case(
        "math",
        DEFAULT_MATH_STAGES,
        ("math_rewrite",),
        ("--engine=openai", f"--endpoint={ENDPOINT}", "--model=rewriter", "--max_tokens=1500"),
        gpu=False,
        engine={"engine": "openai", "model": "rewriter", "max_tokens": 1500},
    ),
    "dedup": Case("dedup", DEFAULT_DEDUP_STAGES, (), (), gpu=False),
    "code-v2": Case(
        "code",
        DEFAULT_CODE_V2_STAGES,
        ("score", "rewrite"),
        ("--recipe=v2", "--engine=vllm", f"--model={MODEL_IN_IMAGE}", "--max_tokens=3000"),
        gpu=True,
        engine={"engine": "vllm", "model": MODEL_IN_IMAGE, "max_tokens": 3000},
    ),
}


@dataclass
class Bucket:
    """A bucket on the GCS emulator with one input file per pipeline."""

    name: str

    def path(self, *parts: str) -> str:
        return "/".join([f"gs://{self.name}", *parts])


@pytest.fixture(scope="module")
def bucket(gcs_emulator) -> Bucket:
    from google.cloud import storage

    client = storage.Client.create_anonymous_client()
    client.project = PROJECT
    found = Bucket(f"swallow-dataflow-{uuid.uuid4().hex[:8]}")
    client.create_bucket(found.name)
    code = code_sample_records(4, max_bytes=2_000)
    texts = {"code": code, "dedup": code, "math": math_sample_records(4)}
    for name, records in texts.items():
        lines = "".join(json.dumps({"text": r["text"]}) + "\n" for r in records)
        client.bucket(found.name).blob(f"in/{name}.jsonl").upload_from_string(lines)
    return found


def _dataflow_flags(bucket: Bucket, *, gpu: bool, temp: str = "tmp") -> list[str]:
    """What a person gives Beam's DataflowRunner: the project, where to stage, the image."""
    flags = [
        "--runner=DataflowRunner",
        f"--project={PROJECT}",
        f"--region={REGION}",
        f"--temp_location={bucket.path(temp)}",
        f"--sdk_container_image={IMAGE}",
    ]
    return flags + ([f"--dataflow_service_options={GPU}"] if gpu else [])


def _pipeline_flags(case: Case, bucket: Bucket, output: str) -> list[str]:
    flags = [f.replace("CACHE", bucket.path("cache")) for f in case.flags]
    return [f"--input={bucket.path('in', case.pipeline + '.jsonl')}", f"--output={output}", *flags]


def _read(path: str) -> bytes:
    with FileSystems.open(path) as handle:
        return handle.read()


@dataclass
class Built:
    """A job as staged: its template (the job as JSON) and the pipeline it names."""

    job: dict[str, Any]
    pipeline: beam_runner_api_pb2.Pipeline
    stdout: str


def _staged(template: str, stdout: str) -> Built:
    job = json.loads(_read(template))
    url = job["environment"]["sdkPipelineOptions"]["options"]["pipelineUrl"]
    return Built(job, beam_runner_api_pb2.Pipeline.FromString(_read(url)), stdout)


@pytest.fixture(scope="module")
def built(bucket) -> dict[str, Built]:
    """Each case's job, built once when first asked for (by the CLI, as a template)."""
    return {}


def _build(name: str, bucket: Bucket, built: dict[str, Built], capsys) -> Built:
    if name not in built:
        case = CASES[name]
        template = bucket.path("templates", f"{name}.json")
        argv = [
            case.pipeline,
            *_pipeline_flags(case, bucket, bucket.path("out", name)),
            *_dataflow_flags(bucket, gpu=case.gpu),
            f"--template_location={template}",
        ]
        capsys.readouterr()
        assert main(argv) == 0, capsys.readouterr().err
        built[name] = _staged(template, capsys.readouterr().out)
    return built[name]


# --- the job of each pipeline -------------------------------------------------------------


def _top_level(pipeline: beam_runner_api_pb2.Pipeline) -> list[str]:
    (root,) = pipeline.root_transform_ids
    transforms = pipeline.components.transforms
    return [transforms[t].unique_name for t in transforms[root].subtransforms]


@pytest.mark.parametrize("name", list(CASES))
def test_the_template_holds_every_stage_on_runner_v2_in_our_image(name, bucket, built, capsys):
    case, job = CASES[name], _build(name, bucket, built, capsys)
    template = bucket.path("templates", f"{name}.json")
    assert job.stdout.splitlines() == [job.stdout.strip()]  # one line, no run report
    assert job.stdout.startswith(f"Dataflow template written to {template}; ")
    assert f"beam-swallow report {bucket.path('out', name)}" in job.stdout

    stages = case.stages.split(",")
    top = _top_level(job.pipeline)
    assert [s for s in top if s in stages] == stages  # every stage, in order
    assert {"Read", "Write", "Count"} <= set(top)
    names = [t.unique_name for t in job.pipeline.components.transforms.values()]
    for stage in stages:
        inference = [n for n in names if n.startswith(f"{stage}/") and "/RunInference" in n]
        assert bool(inference) == (stage in case.llm_stages), stage

    environment = job.job["environment"]
    assert {"use_runner_v2", "use_unified_worker", "beam_fn_api"} <= set(environment["experiments"])
    images = {
        beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image
        for env in job.pipeline.components.environments.values()
    }
    assert images == {IMAGE}
    (pool,) = environment["workerPools"]
    assert {i["containerImage"] for i in pool["sdkHarnessContainerImages"]} == {IMAGE}
    assert (GPU in environment.get("serviceOptions", [])) == case.gpu


@pytest.mark.parametrize("name", list(CASES))
def test_the_workers_get_the_options_and_engine_given(name, bucket, built, capsys):
    case, job = CASES[name], _build(name, bucket, built, capsys)
    opts = PipelineOptions.from_dictionary(job_options(job.job)).view_as(SwallowOptions)
    assert opts.input == bucket.path("in", f"{case.pipeline}.jsonl")
    assert opts.output == bucket.path("out", name)
    assert (opts.stages or case.stages) == case.stages
    if case.engine:
        assert (opts.engine, opts.model, opts.max_tokens) == tuple(case.engine.values())
    # and the engine each LLM stage's DoFns will call, unpickled as a worker unpickles them
    for stage in case.llm_stages:
        engines = _engines_under(job.pipeline, stage)
        assert engines, stage
        assert {(e.engine, e.model, e.sampling.max_tokens) for e in engines} == {
            tuple(case.engine.values())
        }


def _engines_under(pipeline: beam_runner_api_pb2.Pipeline, stage: str) -> list[EngineConfig]:
    found: list[EngineConfig] = []
    for transform in pipeline.components.transforms.values():
        if transform.unique_name.startswith(f"{stage}/") and transform.spec.urn == (
            common_urns.primitives.PAR_DO.urn
        ):
            payload = beam_runner_api_pb2.ParDoPayload.FromString(transform.spec.payload)
            found += _find(pickler.loads(payload.do_fn.payload), EngineConfig, set())
    return found


def _find(obj: Any, kind: type, seen: set[int], depth: int = 0) -> list[Any]:
    """Every ``kind`` reachable from ``obj`` through containers and attributes."""
    if id(obj) in seen or depth > 10:
        return []
    seen.add(id(obj))
    if isinstance(obj, kind):
        return [obj]
    if isinstance(obj, dict):
        items = list(obj.values())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        items = list(obj)
    else:
        items = list(getattr(obj, "__dict__", {}).values())
    return [hit for item in items for hit in _find(item, kind, seen, depth + 1)]


def _launcher_places(tmp_path: Path) -> list[str]:
    """Where the launcher's own files are: this checkout, its Python, the test's tmp dir."""
    return sorted({str(ROOT), sys.prefix, str(Path.home()), str(tmp_path), os.getcwd()})


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _unpacked(payload: bytes) -> bytes:
    """A pickled payload's bytes: Beam's picklers base64 a bz2 or zlib stream."""
    raw = base64.b64decode(payload)
    for decompress in (bz2.decompress, zlib.decompress):
        try:
            return decompress(raw)
        except (OSError, ValueError, zlib.error):
            continue
    return payload


_PATH_BYTES = re.compile(rb"[\w./+-]*")


@pytest.mark.parametrize("name", list(CASES))
def test_nothing_in_the_job_points_at_the_launchers_disk(name, bucket, built, capsys, tmp_path):
    job = _build(name, bucket, built, capsys)
    places = _launcher_places(tmp_path)
    assert [s for s in _strings(job.job) if any(place in s for place in places)] == []
    # Pickled functions carry their code's file name, read only for tracebacks: a path
    # of the launcher's in a DoFn is allowed when it is a Python source file, nothing else.
    payloads = [
        beam_runner_api_pb2.ParDoPayload.FromString(t.spec.payload).do_fn.payload
        for t in job.pipeline.components.transforms.values()
        if t.spec.urn == common_urns.primitives.PAR_DO.urn
    ]
    assert len(payloads) > 20
    found = [path for data in map(_unpacked, payloads) for path in _paths_in(data, places)]
    assert [path for path in found if not path.endswith(b".py")] == []


def _paths_in(data: bytes, places: list[str]) -> list[bytes]:
    """Each path in ``data`` that starts at one of ``places``."""
    return [
        _PATH_BYTES.match(data, found.start())[0]
        for place in places
        for found in re.finditer(re.escape(place.encode()), data)
    ]


def test_the_disk_check_sees_a_launcher_path_in_a_pickled_dofn(tmp_path):
    # the check itself can fail: a DoFn holding a file of the launcher's is found
    import apache_beam as beam

    model = str(tmp_path / "weights" / "model.gguf")
    payload = pickler.dumps(beam.Map(lambda record: (record, model)))
    found = _paths_in(_unpacked(payload), _launcher_places(tmp_path))
    assert [path for path in found if not path.endswith(b".py")] == [model.encode()]


# --- flags a Dataflow job cannot use, and the dry run ---------------------------------------


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["--output=out"], "--output out is a path on this machine"),
        (["--input=in.jsonl"], "--input in.jsonl is a path on this machine"),
        (["--cache_dir=/var/cache/swallow"], "--cache_dir /var/cache/swallow is a path on this"),
        (["--decontam_file={local}"], "--decontam_file {local} is a path on this machine"),
        (["--output=s3://swallow-out/run"], "needs S3 credentials on Dataflow's workers"),
        (
            ["--engine=openai", "--endpoint=http://127.0.0.1:8000/v1", "--model=m"],
            "--endpoint http://127.0.0.1:8000/v1 reaches this machine only",
        ),
        (
            ["--engine=openai", "--endpoint=http://localhost:8000/v1", "--model=m"],
            "--endpoint http://localhost:8000/v1 reaches this machine only",
        ),
        (["--engine=vllm", "--model=/models/m"], "--engine vllm runs on GPU workers"),
        (["--sdk_container_image="], "Dataflow's default worker image lacks beam-swallow"),
    ],
)
def test_a_flag_dataflow_workers_cannot_use_is_refused(flags, error, capsys, tmp_path):
    local = tmp_path / "benchmark.jsonl"  # a file the launcher has
    local.write_text('{"prompt": "def f():"}\n')
    flags, error = [f.format(local=local) for f in flags], error.format(local=local)
    place = "gs://swallow-nowhere"
    argv = [
        "code",
        "--runner=DataflowRunner",
        f"--project={PROJECT}",
        f"--region={REGION}",
        f"--temp_location={place}/tmp",
        f"--sdk_container_image={IMAGE}",
        f"--input={place}/in.jsonl",
        f"--output={place}/out",
        *flags,
    ]
    assert main(argv) == 2  # before anything is read, staged or cleared
    err = capsys.readouterr().err
    assert err.startswith("beam-swallow code: error: ") and error in err, err
    assert err.count("\n") == 1


def test_a_dry_run_prints_one_line_and_stages_nothing(bucket, capsys, caplog):
    case = CASES["math"]
    output = bucket.path("out", "dry-run")
    argv = [
        case.pipeline,
        *_pipeline_flags(case, bucket, output),
        *_dataflow_flags(bucket, gpu=False, temp="dry-run-tmp"),
        "--dry_run=True",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [out.strip()]
    assert re.fullmatch(
        rf"dry run: Dataflow job \S+ of \d+ transforms for project {PROJECT} in {REGION} built; "
        r"nothing was staged or submitted\n",
        out,
    )
    assert FileSystems.match([bucket.path("dry-run-tmp", "*")])[0].metadata_list == []
    assert not FileSystems.exists(FileSystems.join(output, "report.json"))
    # the openai server is on the workers' network: the launcher said it did not ask it
    assert f"not checked from here: the server at {ENDPOINT}" in caplog.text


@pytest.mark.skipif(
    not emulator_available() and not os.environ.get("CI"),
    reason="needs gcloud's Pub/Sub emulator (google-cloud-cli-pubsub-emulator)",
)
def test_a_streaming_template_prints_one_line(bucket, capsys, tmp_path, monkeypatch):
    with pubsub_emulator(tmp_path) as emulator:
        monkeypatch.setenv(PUBSUB_HOST, emulator.host)  # first, so the test's end unsets it
        _, subscription = emulator.create("swallow-dataflow", "swallow-dataflow-sub")
        template = bucket.path("templates", "streaming.json")
        argv = [
            "code",
            "--streaming",
            f"--input_subscription={subscription}",
            f"--output={bucket.path('out', 'streaming')}",
            "--stages=syntax,exact_dedup",
            *_dataflow_flags(bucket, gpu=False),
            f"--template_location={template}",
        ]
        assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [out.strip()]
    assert out.startswith(f"Dataflow template written to {template}; ")
    assert out.endswith(
        f"each window writes its report under {bucket.path('out', 'streaming')}/reports/\n"
    )
    staged = _staged(template, out)
    assert staged.job["type"] == "JOB_TYPE_STREAMING"
    assert {"Read", "syntax", "exact_dedup", "Windows"} <= set(_top_level(staged.pipeline))


# --- a submission, to the stand-in for the Dataflow API -------------------------------------


def _shape(job: dict[str, Any]) -> dict[str, Any]:
    """A job as JSON without what differs from one launch to the next: its name and
    request id, the staging paths named after it, where it was written or sent, how
    long the launcher waits for it. Nor
    what Beam sets apart for an endpoint other than Google's (the stand-in's): the
    worker pool's kind ('local') and service path, and the launcher's main session,
    which it pickles and stages only for Google's endpoint."""
    per_launch = {
        "save_main_session",
        "job_name",
        "pipelineUrl",
        "pipelineProtoHash",
        "staging_location",
        "temp_location",
        "template_location",
        "dataflow_job_file",
        "dataflow_endpoint",
        "wait_until_finish_duration",
    }
    environment = copy.deepcopy(job["environment"])
    environment.pop("tempStoragePrefix")
    options = environment.pop("sdkPipelineOptions")["options"]
    for pool in environment["workerPools"]:
        pool["packages"] = sorted(
            p["name"] for p in pool["packages"] if p["name"] != "pickled_main_session"
        )
        pool.pop("kind")
        pool.pop("taskrunnerSettings")
    return {
        "type": job["type"],
        "environment": environment,
        "options": {k: v for k, v in options.items() if k not in per_launch},
    }


def _steps(pipeline: beam_runner_api_pb2.Pipeline) -> set[tuple[str, str]]:
    return {(t.unique_name, t.spec.urn) for t in pipeline.components.transforms.values()}


# A job that hangs ends the wait (and the test) after 10 minutes instead of never.
_HANG = "--wait_until_finish_duration=600000"


def _submission_argv(bucket: Bucket, name: str, *extra: str) -> list[str]:
    return [
        "code",
        f"--input={bucket.path('in', 'code.jsonl')}",
        f"--output={bucket.path('out', name)}",
        "--stages=syntax,exact_dedup",
        *_dataflow_flags(bucket, gpu=False),
        *extra,
    ]


def test_a_submitted_job_is_the_templates_and_its_report_is_built_when_done(bucket, capsys):
    template = bucket.path("templates", "submitted.json")
    assert main(_submission_argv(bucket, "submitted", f"--template_location={template}")) == 0
    capsys.readouterr()
    job_file = bucket.path("jobs", "submitted.json")
    with DataflowStandIn(run_staged_job) as api:
        argv = _submission_argv(
            bucket,
            "submitted",
            f"--dataflow_endpoint={api.endpoint}",
            f"--dataflow_job_file={job_file}",
            _HANG,
        )
        assert main(argv) == 0, capsys.readouterr().err
    (request,) = api.requests
    out = capsys.readouterr().out.splitlines()
    (job_id,) = re.findall(r"^Dataflow job (\S+): ", out[1])
    assert out[:3] == [
        f"Dataflow job file written to {job_file}",
        f"Dataflow job {job_id}: https://console.cloud.google.com/dataflow/jobs/{REGION}/"
        f"{job_id}?project={PROJECT}",
        f"follow it: gcloud dataflow jobs show {job_id} --region={REGION} --project={PROJECT} "
        f"(stop it: gcloud dataflow jobs cancel {job_id} --region={REGION} --project={PROJECT})",
    ]
    # the job sent is the template's: the same settings and options, the same steps
    staged = _staged(template, "")
    assert _shape(request) == _shape(staged.job)
    sent = request["environment"]["sdkPipelineOptions"]["options"]["pipelineUrl"]
    assert _steps(beam_runner_api_pb2.Pipeline.FromString(_read(sent))) == _steps(staged.pipeline)
    assert _shape(json.loads(_read(job_file))) == _shape(request)
    # the stand-in ran it; the report counts what its workers wrote
    report = json.loads(_read(bucket.path("out", "submitted", "report.json")))
    assert_conserved(report)
    assert report["input"] == 4 and list(report["stages"]) == ["read", "syntax", "exact_dedup"]
    assert out[3] == f"input 4: kept {report['kept']}, rejected 0, dead letters 0 (balanced)"


def test_a_failed_job_exits_non_zero_with_its_error(bucket, capsys):
    def fail(_request: dict[str, Any]) -> None:
        raise RuntimeError("Workflow failed. Causes: the worker pool could not start")

    with DataflowStandIn(fail) as api:
        argv = _submission_argv(bucket, "failed", f"--dataflow_endpoint={api.endpoint}", _HANG)
        assert main(argv) == 1
    assert len(api.requests) == 1
    captured = capsys.readouterr()
    (job_id,) = re.findall(r"^Dataflow job (\S+): ", captured.out, re.M)
    assert captured.err.splitlines()[-1] == (
        f"beam-swallow code: error: Dataflow job {job_id} ended FAILED: RuntimeError: "
        "Workflow failed. Causes: the worker pool could not start"
    )
    assert not FileSystems.exists(bucket.path("out", "failed", "report.json"))


def test_a_job_not_waited_for_leaves_its_report_for_later(bucket, capsys):
    release = threading.Event()

    def hold(_request: dict[str, Any]) -> None:  # a job that runs until released
        if not release.wait(timeout=600):
            raise TimeoutError("never released")

    with DataflowStandIn(hold) as api:
        try:
            later = f"`beam-swallow report {bucket.path('out', 'later')}` builds the report"
            argv = _submission_argv(bucket, "later", f"--dataflow_endpoint={api.endpoint}")
            assert main([*argv, "--no_wait_until_finish"]) == 0
            out = capsys.readouterr().out.splitlines()
            assert out[-1].startswith("not waiting for the job (--no_wait_until_finish); ")
            assert out[-1].endswith(f"once it is done, {later} from its outputs")
            assert main([*argv, "--wait_until_finish_duration=1000"]) == 0
            out = capsys.readouterr().out.splitlines()
            assert out[-1].startswith("the job is still RUNNING after 1 s ")
            assert later in out[-1]
        finally:
            release.set()
    assert len(api.requests) == 2
    assert not FileSystems.exists(bucket.path("out", "later", "report.json"))


# --- the flex template's launcher ---------------------------------------------------------


def test_the_flex_template_launcher_builds_the_clis_job(bucket, built, capsys, tmp_path):
    """``launch.py`` run as Dataflow's launcher runs it: ``python launch.py`` with the
    template's parameters as flags, plus Dataflow's own options, the job written to a
    template location (a subprocess in this venv, not the image)."""
    case = CASES["code"]
    cli = _build("code", bucket, built, capsys)
    parameters = {p["name"] for p in json.loads(METADATA.read_text())["parameters"]}
    template_flags = _pipeline_flags(case, bucket, bucket.path("out", "code"))
    assert {flag[2:].split("=", 1)[0] for flag in template_flags} <= parameters
    job_object = bucket.path("launches", "code", "job_object")
    command = [
        sys.executable,
        str(LAUNCHER),
        "--pipeline=code",
        *template_flags,
        *_dataflow_flags(bucket, gpu=True),
        f"--template_location={job_object}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Dataflow template written to {job_object}; ")
    launched = _staged(job_object, done.stdout)
    assert _shape(launched.job) == _shape(cli.job)
    assert _steps(launched.pipeline) == _steps(cli.pipeline)
