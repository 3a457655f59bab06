"""Stopping a streaming job on Flink with drain, through Flink's REST API.

Cancelling a streaming job drops its open windows: the next run replays them
from the last checkpoint (or, on a runner without one, they are lost). A stop
with drain (``POST /jobs/ID/stop`` with ``drain: true``) sends the end of time
through the job, so every open window fires and writes its files and report,
then takes a final savepoint, at which the Kafka read commits its offsets,
and the job ends FINISHED. Flink writes the savepoint under the cluster's
``state.savepoints.dir`` (``templates/flink/cluster.sh`` sets one).

Beam's job server names the Flink job after the pipeline's ``--job_name``,
which is how the job is found. Errors: :class:`StopFailed` when the job is
not listed or Flink reports the savepoint failed; ``requests`` errors when the
REST API does not answer.
"""

from __future__ import annotations

import time

import requests

__all__ = ["StopFailed", "drain_job", "find_job"]

_TERMINAL = {"FINISHED", "CANCELED", "FAILED"}
_TIMEOUT_S = 30.0  # one REST call


class StopFailed(RuntimeError):
    """Flink could not stop the job with drain (no such job, or the savepoint failed)."""


def _url(master: str, path: str) -> str:
    base = master if master.startswith(("http://", "https://")) else f"http://{master}"
    return base.rstrip("/") + path


def find_job(master: str, name: str) -> str:
    """The id of the one job named ``name`` that has not ended, on the cluster at ``master``."""
    response = requests.get(_url(master, "/jobs/overview"), timeout=_TIMEOUT_S)
    response.raise_for_status()
    live = [
        job["jid"]
        for job in response.json()["jobs"]
        if job["name"] == name and job["state"] not in _TERMINAL
    ]
    if len(live) != 1:
        raise StopFailed(f"Flink at {master} lists {len(live)} live jobs named {name!r}")
    return live[0]


def drain_job(master: str, job_id: str, poll_s: float = 1.0, timeout_s: float = 600.0) -> str:
    """Stop job ``job_id`` with drain; return the final savepoint's location.

    Returns once Flink reports the savepoint complete (the job then finishes
    on its own). Raises :class:`StopFailed` if it fails or takes longer than
    ``timeout_s`` seconds.
    """
    response = requests.post(
        _url(master, f"/jobs/{job_id}/stop"), json={"drain": True}, timeout=_TIMEOUT_S
    )
    response.raise_for_status()
    trigger = response.json()["request-id"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = requests.get(
            _url(master, f"/jobs/{job_id}/savepoints/{trigger}"), timeout=_TIMEOUT_S
        )
        status.raise_for_status()
        body = status.json()
        if body["status"]["id"] == "COMPLETED":
            operation = body.get("operation", {})
            if "failure-cause" in operation:
                cause = operation["failure-cause"].get("stack-trace", "").splitlines()[:1]
                raise StopFailed(f"Flink could not drain job {job_id}: {' '.join(cause)}")
            return operation.get("location", "")
        time.sleep(poll_s)
    raise StopFailed(f"job {job_id} did not drain within {timeout_s:.0f} s")
