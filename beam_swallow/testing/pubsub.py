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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from beam_swallow.testing.servers import free_port, wait_for_port

__all__ = ["PROJECT", "Emulator", "emulator_available", "pubsub_emulator"]

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

    def create(self, topic: str, subscription: str) -> tuple[str, str]:
        """A new topic and a subscription to it; returns their full paths."""
        from google.cloud import pubsub_v1

        os.environ[HOST_VARIABLE] = self.host
        publisher = pubsub_v1.PublisherClient()
        subscriber = pubsub_v1.SubscriberClient()
        topic_path = publisher.topic_path(PROJECT, topic)
        subscription_path = subscriber.subscription_path(PROJECT, subscription)
        publisher.create_topic(name=topic_path)
        subscriber.create_subscription(name=subscription_path, topic=topic_path)
        subscriber.close()
        return topic_path, subscription_path

    def publish(self, topic_path: str, messages: list[tuple[bytes, dict[str, str]]]) -> list[str]:
        """Publish ``(data, attributes)`` messages; returns their ids once all are stored."""
        from google.cloud import pubsub_v1

        os.environ[HOST_VARIABLE] = self.host
        publisher = pubsub_v1.PublisherClient()
        futures = [publisher.publish(topic_path, data, **attrs) for data, attrs in messages]
        return [future.result(timeout=300) for future in futures]


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
