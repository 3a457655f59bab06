"""A stand-in for the Dataflow API on loopback, for Beam's ``--dataflow_endpoint``.

Beam's DataflowRunner talks to Dataflow through Google's generated client, over
REST when the endpoint's address holds ``localhost``
(``--dataflow_endpoint=http://localhost:PORT``). :class:`DataflowStandIn` answers
the calls a submission makes, in the shapes that client parses (each body is a
``google.cloud.dataflow_v1beta3`` message in its JSON form):

- ``POST /v1b3/projects/P/locations/R/jobs`` (jobs.create): records the request's
  job and answers with it, given an id, as Dataflow does;
- ``GET .../jobs/ID`` (jobs.get): the job with its ``currentState``, running while
  the stand-in's ``worker`` runs it, then ``JOB_STATE_DONE``, or ``JOB_STATE_FAILED``
  when the worker raised;
- ``GET .../jobs/ID/messages`` (messages.list): the job's messages, a failed job's
  error among them as ``JOB_MESSAGE_ERROR``, which is what Beam reports when a job fails;
- ``GET .../jobs/ID/metrics`` (metrics.get): no metrics.

What runs the job is the ``worker`` given: :func:`run_staged_job` runs it as
Dataflow's workers would start it, from the request alone (the pipeline staged at
its ``pipelineUrl``, the options in ``sdkPipelineOptions``), on Beam's local
FnApiRunner with the SDK in this process instead of the worker image. Nothing
here checks credentials or quotas, and no worker pool, autoscaling or Runner v2
service runs: what only a real Dataflow project can show.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DataflowStandIn", "Worker", "job_options", "run_staged_job"]

# Runs one job from its jobs.create request (the job as JSON); raising fails the job.
Worker = Callable[[dict[str, Any]], None]

_JOBS = re.compile(r"^/v1b3/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/jobs")
_ONE_JOB = re.compile(_JOBS.pattern + r"/(?P<job>[^/:]+)(?:/(?P<what>messages|metrics))?$")
_INT_ENUMS = "enum-encoding=int"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Job:
    """One submitted job: the request, its state, its messages."""

    def __init__(self, job_id: str, request: dict[str, Any]):
        self.id = job_id
        self.request = request
        self.state = "JOB_STATE_QUEUED"
        self.created = _now()
        self.state_time = self.created
        self.messages: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def move(self, state: str, message: str, importance: str) -> None:
        with self.lock:
            self.state = state
            self.state_time = _now()
            self.messages.append(
                {
                    "id": str(len(self.messages) + 1),
                    "time": self.state_time,
                    "messageText": message,
                    "messageImportance": importance,
                }
            )


class DataflowStandIn:
    """The stand-in, as a context manager: ``with DataflowStandIn(worker) as api:``
    serves on 127.0.0.1 until the block ends; pass ``--dataflow_endpoint=api.endpoint``.

    ``requests`` holds each jobs.create request's job (JSON, as sent), in order.
    """

    def __init__(self, worker: Worker):
        self._worker = worker
        self._jobs: dict[str, _Job] = {}
        self._ids = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.requests: list[dict[str, Any]] = []

    @property
    def endpoint(self) -> str:
        """The address to give Beam: ``localhost`` makes its client speak REST."""
        return f"http://localhost:{self._server.server_address[1]}"

    def __enter__(self) -> DataflowStandIn:
        threading.Thread(target=self._server.serve_forever, name="dataflow-stand-in").start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=600)

    # --- the API's calls -------------------------------------------------------------

    def _create(self, project: str, location: str, body: dict[str, Any]) -> dict[str, Any]:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d_%H_%M_%S")
        job = _Job(f"{stamp}-{next(self._ids):019d}", body)
        self.requests.append(body)
        self._jobs[job.id] = job
        thread = threading.Thread(target=self._run, args=(job,), name=f"job-{job.id}")
        self._threads.append(thread)
        thread.start()
        return {
            "id": job.id,
            "projectId": project,
            "location": location,
            "name": body.get("name", ""),
            "type": body.get("type", "JOB_TYPE_BATCH"),
            "clientRequestId": body.get("clientRequestId", ""),
            "createTime": job.created,
            "currentStateTime": "1970-01-01T00:00:00Z",  # no state yet, as Dataflow answers
        }

    def _run(self, job: _Job) -> None:
        job.move("JOB_STATE_RUNNING", "Workers started.", "JOB_MESSAGE_BASIC")
        try:
            self._worker(job.request)
        except BaseException as exc:  # noqa: BLE001  the job fails with the worker's error
            job.move("JOB_STATE_FAILED", f"{type(exc).__name__}: {exc}", "JOB_MESSAGE_ERROR")
            return
        job.move("JOB_STATE_DONE", "Workflow finished.", "JOB_MESSAGE_BASIC")

    def _get(self, project: str, location: str, job: _Job) -> dict[str, Any]:
        with job.lock:
            return {
                "id": job.id,
                "projectId": project,
                "location": location,
                "name": job.request.get("name", ""),
                "type": job.request.get("type", "JOB_TYPE_BATCH"),
                "currentState": job.state,
                "currentStateTime": job.state_time,
                "createTime": job.created,
            }

    def _messages(self, job: _Job) -> dict[str, Any]:
        with job.lock:
            return {"jobMessages": list(job.messages)}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:  # quiet: tests read the records
                pass

            def _answer(self, status: int, payload: dict[str, Any], message_type: str) -> None:
                body = _encode(payload, message_type, _INT_ENUMS in urlsplit(self.path).query)
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _not_found(self) -> None:
                error = {"code": 404, "message": f"no {self.path}", "status": "NOT_FOUND"}
                body = json.dumps({"error": error}).encode()
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                found = _JOBS.match(urlsplit(self.path).path)
                if not found or urlsplit(self.path).path != found[0]:
                    return self._not_found()
                length = int(self.headers.get("Content-Length") or 0)
                body = _as_names(json.loads(self.rfile.read(length) or b"{}"))
                job = api._create(found["project"], found["location"], body)
                self._answer(200, job, "Job")

            def do_GET(self) -> None:
                found = _ONE_JOB.match(urlsplit(self.path).path)
                job = api._jobs.get(found["job"]) if found else None
                if job is None:
                    return self._not_found()
                if found["what"] == "messages":
                    return self._answer(200, api._messages(job), "ListJobMessagesResponse")
                if found["what"] == "metrics":
                    return self._answer(200, {"metrics": []}, "JobMetrics")
                self._answer(200, api._get(found["project"], found["location"], job), "Job")

        return Handler


def _message(name: str, payload: dict[str, Any]) -> Any:
    """``payload`` (JSON) as the protobuf message ``name`` of the Dataflow API."""
    from google.cloud import dataflow_v1beta3
    from google.protobuf import json_format

    message_class = getattr(dataflow_v1beta3, name)
    return json_format.Parse(json.dumps(payload), message_class.pb(message_class()))


def _encode(payload: dict[str, Any], message_type: str, int_enums: bool) -> bytes:
    """``payload`` as the message's JSON, enums as numbers when the client asked
    (``$alt=json;enum-encoding=int``, as Google's REST clients do)."""
    from google.protobuf import json_format

    message = _message(message_type, payload)
    return json_format.MessageToJson(message, use_integers_for_enums=int_enums).encode()


def _as_names(body: dict[str, Any]) -> dict[str, Any]:
    """A request's job as JSON with enum names and no defaults, as a template file holds it."""
    from google.protobuf import json_format

    return json.loads(json_format.MessageToJson(_message("Job", body)))


def job_options(job: dict[str, Any]) -> dict[str, Any]:
    """The pipeline options a job (as JSON) gives its workers, by name.

    They travel in ``environment.sdkPipelineOptions.options``, a Struct, whose numbers
    are doubles; a flag typed int takes "1", not "1.0", so integral numbers are given
    back as ints, as the workers must get them.
    """
    return {
        key: int(value) if isinstance(value, float) and value.is_integer() else value
        for key, value in job["environment"]["sdkPipelineOptions"]["options"].items()
    }


def run_staged_job(request: dict[str, Any]) -> None:
    """Run a jobs.create request's job: the pipeline staged at its ``pipelineUrl``,
    with the options of its ``sdkPipelineOptions``, on Beam's FnApiRunner, every
    environment in this process (whose SDK stands in for the worker image's);
    raises what the run raises."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.portability import python_urns
    from apache_beam.portability.api import beam_runner_api_pb2
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    options = job_options(request)
    with FileSystems.open(options["pipelineUrl"]) as handle:
        pipeline = beam_runner_api_pb2.Pipeline.FromString(handle.read())
    for environment in pipeline.components.environments.values():
        environment.urn = python_urns.EMBEDDED_PYTHON
        environment.payload = b""
    result = FnApiRunner().run_via_runner_api(pipeline, PipelineOptions.from_dictionary(options))
    result.wait_until_finish()
