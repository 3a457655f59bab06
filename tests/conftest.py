"""Shared fixtures: a real GCS-protocol server and a real Beam job service.

Helpers (output readers, the conservation check, ports) live in
:mod:`beam_swallow.testing`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from beam_swallow.testing import free_port, wait_for_port
from beam_swallow.testing.gcp import CREDENTIALS_ENV, offline_credentials


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory):
    """A gcp-storage-emulator on 127.0.0.1, with STORAGE_EMULATOR_HOST pointing at it.

    GOOGLE_APPLICATION_CREDENTIALS points at offline credentials meanwhile, so no
    process of the tests (nor one they start with this environment) spends ~22 s
    looking for Google credentials (:mod:`beam_swallow.testing.gcp`).
    """
    credentials = offline_credentials(tmp_path_factory.mktemp("google"))
    port = free_port()
    exe = Path(sys.executable).with_name("gcp-storage-emulator")
    proc = subprocess.Popen(
        [str(exe), "start", "--host=127.0.0.1", f"--port={port}", "--in-memory"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    host = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, proc, "gcp-storage-emulator")
    except RuntimeError as exc:
        proc.kill()
        pytest.fail(str(exc))
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("STORAGE_EMULATOR_HOST", host)
            env.setenv(CREDENTIALS_ENV, str(credentials))
            yield host
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def job_service():
    """Beam's portable job service on 127.0.0.1; yields its endpoint.

    The same submission path a Flink job server takes (PortableRunner); the
    SDK harness runs in this process (LOOPBACK environment).
    """
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apache_beam.runners.portability.local_job_service_main",
            f"--port={port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc, "the Beam job service")
    except RuntimeError as exc:
        proc.kill()
        pytest.fail(str(exc))
    try:
        yield f"localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
