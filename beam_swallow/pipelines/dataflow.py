"""What a Dataflow job's workers cannot reach, refused on the launcher before anything runs.

Dataflow's workers are machines of their own: they read and write what they reach over
the network (``gs://``, ``s3://``), they run the files of the worker image, and their
network is the job's, not the launching machine's. A flag that names something only the
launcher has would fail on every worker, after the job has started and cost money, so
:func:`check_dataflow` refuses it with one line per flag (ValueError, exit status 2):

- a local path for ``--input``, ``--output``, ``--cache_dir`` or ``--decontam_file``
  (the workers read and write them; the launcher too reads the inputs and writes the
  report, through the same paths);
- ``s3://`` paths without ``--s3_access_key_id`` and ``--s3_secret_access_key``: the
  workers do not see the launcher's AWS environment variables or profile;
- an ``openai`` ``--endpoint`` on a loopback address, which reaches the launcher only;
- no worker image with beam-swallow installed: Beam's default image lacks it
  (``--sdk_container_image``, or Beam's ways of installing packages on workers);
- the ``vllm`` engine without a GPU on the workers (``worker_accelerator`` in
  ``--dataflow_service_options``).

What only the workers' world can tell (a model file inside the worker image, a server
that the workers' network reaches) is not checked here: :func:`preflight_on_launcher`
keeps the preflight from contacting servers or reading model files on the launcher of
a Dataflow job; the workers check when they load the engine.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import (
    DebugOptions,
    GoogleCloudOptions,
    PipelineOptions,
    S3Options,
    SetupOptions,
    WorkerOptions,
)

from beam_swallow.inference.config import EngineConfig
from beam_swallow.io import split_patterns
from beam_swallow.reporting.session import is_dataflow

__all__ = ["GPU_SERVICE_OPTION", "check_dataflow", "dataflow_problems", "preflight_on_launcher"]

_LOG = logging.getLogger("beam_swallow.dataflow")

# The Dataflow service option (or, in older jobs, experiment) that gives workers GPUs:
# worker_accelerator=type:nvidia-l4;count:1;install-nvidia-driver
GPU_SERVICE_OPTION = "worker_accelerator"
_LOCAL_SCHEMES = (None, "file")
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def _is_local(path: str) -> bool:
    return FileSystems.get_scheme(path) in _LOCAL_SCHEMES


def _path_problems(paths: dict[str, str | None]) -> list[str]:
    problems = []
    for flag, value in paths.items():
        local = [path for path in split_patterns(value or "") if _is_local(path)]
        if local:
            problems.append(
                f"{flag} {local[0]} is a path on this machine, which Dataflow's workers do "
                "not see: give a gs:// (or s3://) path"
            )
    return problems


def _s3_problem(options: PipelineOptions, paths: Iterable[str | None]) -> str | None:
    s3 = options.view_as(S3Options)
    used = [p for value in paths for p in split_patterns(value or "") if p.startswith("s3://")]
    if not used or (s3.s3_access_key_id and s3.s3_secret_access_key):
        return None
    return (
        f"{used[0]} needs S3 credentials on Dataflow's workers, which do not see this "
        "machine's AWS environment or profile: pass --s3_access_key_id and "
        "--s3_secret_access_key"
    )


def _is_loopback(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _engine_problems(options: PipelineOptions, engine: EngineConfig | None) -> list[str]:
    if engine is None:
        return []
    problems = []
    if engine.engine == "openai" and _is_loopback(urlsplit(engine.endpoint or "").hostname or ""):
        problems.append(
            f"--endpoint {engine.endpoint} reaches this machine only; Dataflow's workers "
            "need the server's address on their network"
        )
    if engine.engine == "vllm" and not _has_gpus(options):
        problems.append(
            "--engine vllm runs on GPU workers: pass --dataflow_service_options="
            '"worker_accelerator=type:GPU_TYPE;count:N;install-nvidia-driver" '
            "(docs, Running on GPUs)"
        )
    return problems


def _has_gpus(options: PipelineOptions) -> bool:
    service = options.view_as(GoogleCloudOptions).dataflow_service_options or []
    experiments = options.view_as(DebugOptions).experiments or []
    return any(option.startswith(GPU_SERVICE_OPTION) for option in [*service, *experiments])


def _image_problem(options: PipelineOptions) -> str | None:
    worker = options.view_as(WorkerOptions)
    setup = options.view_as(SetupOptions)
    installs = (
        worker.sdk_container_image,
        worker.worker_harness_container_image,
        setup.setup_file,
        setup.extra_packages,
        setup.requirements_file,
        setup.prebuild_sdk_container_engine,
    )
    if any(installs):
        return None
    return (
        "Dataflow's default worker image lacks beam-swallow: pass --sdk_container_image "
        "with the image of templates/dataflow/ (docs, Runners)"
    )


def dataflow_problems(
    options: PipelineOptions, paths: dict[str, str | None], engine: EngineConfig | None
) -> list[str]:
    """One line per flag a Dataflow job's workers cannot use; empty on any other runner.

    ``paths`` maps each flag whose files the workers read or write to its value
    (comma-separated patterns allowed); ``engine`` is the LLM stages' engine, if any.
    """
    if not is_dataflow(options):
        return []
    problems = _path_problems(paths)
    problems += [p for p in (_s3_problem(options, paths.values()), _image_problem(options)) if p]
    return problems + _engine_problems(options, engine)


def check_dataflow(
    options: PipelineOptions, paths: dict[str, str | None], engine: EngineConfig | None
) -> None:
    """Raise ValueError naming every problem of :func:`dataflow_problems`, if any."""
    problems = dataflow_problems(options, paths, engine)
    if problems:
        raise ValueError("; ".join(problems))


def preflight_on_launcher(options: PipelineOptions, engine: EngineConfig) -> bool:
    """Whether the engine's preflight may run here.

    On Dataflow only the vllm engine's (which compares two flags): the openai engine's
    contacts the server, which the workers' network may reach where the launcher's does
    not, and the embedded engine's reads the model file, which is the worker image's.
    Logs a warning when it is skipped.
    """
    if not is_dataflow(options) or engine.engine == "vllm":
        return True
    where = f"the server at {engine.endpoint}" if engine.engine == "openai" else "the model file"
    _LOG.warning(
        "not checked from here: %s (Dataflow's workers check it when they load the engine)",
        where,
    )
    return False
