"""Google's Pub/Sub emulator for tests: started, given a topic and a subscription, stopped.

The emulator is the ``cloud-pubsub-emulator`` component of the gcloud CLI (the
Debian package ``google-cloud-cli-pubsub-emulator``), started with ``gcloud
beta emulators pubsub start`` (Java 17). Clients find it through
``PUBSUB_EMULATOR_HOST``. Beam refuses the project id ``local``, hence
:data:`PROJECT`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from beam_swallow.testing.servers import free_port, wait_for_port
from beam_swallow.testing.windows import read_windows

__all__ = ["PROJECT", "Emulator", "StreamingRun", "emulator_available", "pubsub_emulator"]

PROJECT = "swallow-test"
HOST_VARIABLE = "PUBSUB_EMULATOR_HOST"


def emulator_available() -> bool:
    """Whether gcloud is on PATH (the emulator component may still be missing)."""
    return shutil.which("gcloud") is not None


@dataclass(frozen=True)
class Emulator:
    """A running emulator: ``host`` (``127.0.0.1:PORT``) and its data directory."""

    host: str
    data_dir: Path

    def env(self) -> dict[str, str]:
        """This process's environment, pointed at the emulator."""
        return {**os.environ, HOST_VARIABLE: self.host}

    def _client(self, kind: str) -> Any:
        """A ``PublisherClient`` or ``SubscriberClient`` of the emulator (clients read the
        host from the environment when they are made)."""
        from google.cloud import pubsub_v1

        os.environ[HOST_VARIABLE] = self.host
        return getattr(pubsub_v1, kind)()

    def create(self, topic: str, subscription: str) -> tuple[str, str]:
        """A new topic and a subscription to it; returns their full paths."""
        publisher = self._client("PublisherClient")
        subscriber = self._client("SubscriberClient")
        topic_path = publisher.topic_path(PROJECT, topic)
        subscription_path = subscriber.subscription_path(PROJECT, subscription)
        publisher.create_topic(name=topic_path)
        subscriber.create_subscription(name=subscription_path, topic=topic_path)
        subscriber.close()
        return topic_path, subscription_path

    def publish(self, topic_path: str, messages: list[tuple[bytes, dict[str, str]]]) -> list[str]:
        """Publish ``(data, attributes)`` messages; returns their ids once all are stored."""
        publisher = self._client("PublisherClient")
        futures = [publisher.publish(topic_path, data, **attrs) for data, attrs in messages]
        return [future.result(timeout=300) for future in futures]

    def subscriptions(self, topic_path: str) -> list[str]:
        """The subscriptions a topic has now."""
        return list(self._client("PublisherClient").list_topic_subscriptions(topic=topic_path))


@contextmanager
def pubsub_emulator(data_dir: Path) -> Iterator[Emulator]:
    """Start the emulator on a free port; stop it (its whole process group) on exit."""
    port = free_port()
    log = open(data_dir / "emulator.log", "wb")  # closed in the finally below
    process = subprocess.Popen(
        [
            "gcloud",
            "beta",
            "emulators",
            "pubsub",
            "start",
            f"--host-port=127.0.0.1:{port}",
            f"--project={PROJECT}",
            f"--data-dir={data_dir}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # gcloud starts the Java server as a child: stop both
    )
    try:
        wait_for_port(port, process, "the Pub/Sub emulator")
        yield Emulator(f"127.0.0.1:{port}", data_dir)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


class _Source(Protocol):
    def env(self) -> dict[str, str]: ...


class StreamingRun:
    """``beam-swallow PIPELINE --streaming`` in its own process, reading the emulator (or
    another source: anything that gives the run's environment) into ``out``; ``flags`` name
    the source (``--input_subscription``, ``--input_topic``, ``--input_kafka_topic``) and
    anything else. Its output goes to ``out``.log."""

    # Bounds a hang only: each wait returns as soon as the windows are on disk.
    HANG_S = 900

    def __init__(self, emulator: _Source, out: Path, flags: list[str], pipeline: str = "code"):
        self.out = out
        self.log_path = out.parent / f"{out.name}.log"
        self._log = open(self.log_path, "wb")  # closed in stop()
        command = [sys.executable, "-m", "beam_swallow.cli", pipeline, "--streaming"]
        command += [f"--output={out}", *flags]
        self.process = subprocess.Popen(
            command, env=emulator.env(), stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def read(self) -> int:
        """How many messages the windows on disk account for."""
        return sum(report["input"] for report, _ in read_windows(self.out).values())

    def wait_for(self, messages: int) -> None:
        """Return once the windows on disk account for ``messages`` messages."""
        deadline = time.monotonic() + self.HANG_S
        while self.read() < messages:
            if self.process.poll() is not None:
                raise AssertionError(f"the run ended early:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no windows for {messages} messages:\n{self.log()}")
            time.sleep(0.5)

    def stop(self, sig: int) -> int:
        """Send ``sig``; return the exit status once the run has stopped."""
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=self.HANG_S)
        finally:
            self._log.close()
