"""What the Flink tests share: the cluster under test, its REST API, a worker pool, exits.

The cluster is the one ``make flink-up`` starts; ``make test-flink`` names it through
the environment (``FLINK_MASTER``, ``FLINK_HOME``, ``FLINK_JOB_SERVER_JAR``,
``FLINK_BEAM_VERSION``). :func:`cluster_from_env` refuses a mismatched set: the job
server's Beam version must be this SDK's, its Flink minor the cluster's.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import apache_beam

from beam_swallow.testing.outputs import read_jsonl_dir
from beam_swallow.testing.servers import free_port, wait_for_port

__all__ = ["FlinkCluster", "cluster_from_env", "exits", "worker_pool"]

_JAR_NAME = re.compile(r"beam-runners-flink-(\d+\.\d+)-job-server-(\d+\.\d+\.\d+)\.jar$")


@dataclass(frozen=True)
class FlinkCluster:
    """A running Flink cluster and the Beam job server jar that submits to it."""

    master: str  # host:port of the REST API
    home: Path  # FLINK_HOME of the local cluster (its bin/ and pid files)
    job_server_jar: Path

    def rest(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://{self.master}{path}", timeout=30) as response:
            return json.load(response)

    def job(self, name: str) -> dict:
        """The one job named ``name`` in Flink's job list (its id, name and state)."""
        jobs = [j for j in self.rest("/jobs/overview")["jobs"] if j["name"] == name]
        assert len(jobs) == 1, f"Flink lists {len(jobs)} jobs named {name!r}"
        return jobs[0]

    def beam_args(self, job_name: str, environment: list[str]) -> list[str]:
        """FlinkRunner flags for a job named ``job_name`` at parallelism 2."""
        return [
            "--runner=FlinkRunner",
            f"--flink_master={self.master}",
            f"--flink_job_server_jar={self.job_server_jar}",
            "--parallelism=2",
            f"--job_name={job_name}",
            *environment,
        ]

    def taskmanager_pids(self) -> list[int]:
        """Live TaskManager processes this cluster's scripts started."""
        return self._live_pids("*taskexecutor.pid")

    def daemon_pids(self) -> list[int]:
        """Live JobManager and TaskManager processes this cluster's scripts started."""
        return self._live_pids("*standalonesession.pid") + self.taskmanager_pids()

    def _live_pids(self, pattern: str) -> list[int]:
        pids = []
        for pid_file in (self.home / "run").glob(pattern):
            for line in pid_file.read_text().split():
                try:
                    os.kill(int(line), 0)
                except (ProcessLookupError, ValueError):
                    continue
                pids.append(int(line))
        return pids

    def kill_taskmanager(self) -> list[int]:
        """SIGKILL every TaskManager (no clean shutdown) and start a fresh one in their place."""
        pids = self.taskmanager_pids()
        assert pids, "no live TaskManager to kill"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        # In a session of its own: a signal to the tests' process group (Ctrl-C, a timeout)
        # must not stop the cluster's new TaskManager with them.
        subprocess.run(
            [str(self.home / "bin" / "taskmanager.sh"), "start"], check=True, start_new_session=True
        )
        return pids


def cluster_from_env() -> FlinkCluster:
    """The cluster ``make test-flink`` started; fails on any version mismatch."""
    master = os.environ["FLINK_MASTER"]
    jar = Path(os.environ["FLINK_JOB_SERVER_JAR"])
    match = _JAR_NAME.search(jar.name)
    assert match and jar.is_file(), f"not a Beam Flink job server jar: {jar}"
    jar_minor, jar_beam = match.groups()
    assert apache_beam.__version__ == jar_beam == os.environ["FLINK_BEAM_VERSION"], (
        f"SDK {apache_beam.__version__} and job server {jar_beam} must be one Beam release"
    )
    cluster = FlinkCluster(master, Path(os.environ["FLINK_HOME"]), jar)
    flink_version = cluster.rest("/config")["flink-version"]
    assert flink_version.startswith(jar_minor + "."), (
        f"cluster runs Flink {flink_version}, the job server is for Flink {jar_minor}"
    )
    return cluster


@contextmanager
def worker_pool(env: dict[str, str]) -> Iterator[str]:
    """Beam's SDK worker pool (EXTERNAL environment), yielding its address.

    Each SDK worker the runner asks for is a new Python process started by the
    pool, as on a Flink deployment's task managers; ``env`` is added to theirs.
    The pool starts them as ``python`` from ``PATH``, so this venv's comes first.
    """
    venv_bin = str(Path(sys.executable).parent)
    env = {**env, "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", "")])}
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apache_beam.runners.worker.worker_pool_main",
            f"--service_port={port}",
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc, "the SDK worker pool")
        yield f"localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _dead_letter_key(letter: dict) -> str:
    """A read dead letter has no id: it is known by its file and line."""
    if "id" in letter:
        return letter["id"]
    return Path(letter["source_file"]).name


def exits(out: Path, llm_stages: frozenset[str] = frozenset()) -> dict[str, Counter]:
    """Every output record as (id, stage, reason) per exit, counted (so doubles show).

    Reasons of ``llm_stages`` are left out: sampling may differ between runners,
    the exit may not.
    """
    rejected = Counter(
        (r["id"], r["stage"], None if r["stage"] in llm_stages else r["reason"])
        for r in read_jsonl_dir(out / "rejected")
    )
    dead = Counter(
        (_dead_letter_key(d), d["stage"], d["error_type"])
        for d in read_jsonl_dir(out / "dead_letter")
    )
    kept = Counter(r["id"] for r in read_jsonl_dir(out / "kept"))
    return {"kept": kept, "rejected": rejected, "dead_letter": dead}
