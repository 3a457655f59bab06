"""Where a streaming run reads from (a Pub/Sub subscription or topic, a Kafka topic),
and how long its windows are.

The bottom of :mod:`beam_swallow.streaming`: the reads (:mod:`.messages`,
:mod:`.kafka`) and the window writer (:mod:`.windows`) import these values,
never the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ALLOWED_LATENESS_S",
    "DEFAULT_BOOTSTRAP",
    "DEFAULT_GROUP",
    "DEPRECATED_READ",
    "STOP_MODES",
    "KafkaConfig",
    "StreamConfig",
    "WINDOW_S",
]

WINDOW_S = 60.0  # seconds per fixed window (issue 11: a minute of records per file set)
# How late (event time) a record may reach the window writer and still fire its window again.
# On portable Flink the stateful dedup stages hand records back behind the watermark: Beam
# counted them droppedDueToLateness at the writer's GroupByKeys, over 60 s late while a job's
# first bundles start its SDK workers (docs, Streaming from Kafka; apache/beam issue 28649).
# The cost: each window's lines stay in state this long after the window ends.
ALLOWED_LATENESS_S = 600.0
# --on_stop: what SIGINT / SIGTERM do to a Flink streaming job; the first is the default.
STOP_MODES = ("drain", "cancel")

DEFAULT_BOOTSTRAP = "localhost:9092"
DEFAULT_GROUP = "beam-swallow"
# The experiment that makes Beam's KafkaIO an unbounded-source read (see :mod:`.kafka`).
DEPRECATED_READ = "use_deprecated_read"
# How the expansion service builds the read: the unbounded source, its Java steps embedded in
# the TaskManager. Its first argument, the port, Beam's launcher fills in.
_EXPANSION_ARGS = (
    "{{PORT}}",
    f"--experiments={DEPRECATED_READ}",
    "--defaultEnvironmentType=EMBEDDED",
)
# Settings the read owns: offsets are committed with checkpoints, never by the consumer.
_OWNED_SETTINGS = {"enable.auto.commit", "bootstrap.servers", "group.id"}
_HOST_PORT = re.compile(r"^[^\s:,]+:\d+$")


@dataclass(frozen=True)
class KafkaConfig:
    """One Kafka topic to read, and how.

    ``consumer``: extra Kafka consumer settings (``("max.poll.records", "500")``, ...);
    ``auto.offset.reset`` defaults to ``earliest``, so a new group reads the
    topic from its start. ``expansion_service``: ``HOST:PORT`` of a running
    expansion service or the path of a jar that runs one. Raises ValueError
    on a malformed server list or a setting the read owns.
    """

    topic: str
    bootstrap_servers: str = DEFAULT_BOOTSTRAP
    group_id: str = DEFAULT_GROUP
    consumer: tuple[tuple[str, str], ...] = field(default=())
    expansion_service: str | None = None

    def __post_init__(self) -> None:
        if not self.topic:
            raise ValueError("--input_kafka_topic must not be empty")
        if not all(_HOST_PORT.match(s) for s in self.bootstrap_servers.split(",")):
            raise ValueError(
                "--kafka_bootstrap_servers must be HOST:PORT[,HOST:PORT...], "
                f"got {self.bootstrap_servers!r}"
            )
        if not self.group_id:
            raise ValueError("--kafka_group_id must not be empty")
        owned = sorted(_OWNED_SETTINGS & {key for key, _ in self.consumer})
        if owned:
            raise ValueError(
                f"--kafka_consumer_config may not set {', '.join(owned)}: the read owns "
                "them (servers and group have their own flags; offsets commit with checkpoints)"
            )

    def consumer_settings(self) -> dict[str, str]:
        """The consumer configuration the read is given."""
        return {
            "auto.offset.reset": "earliest",
            **dict(self.consumer),
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": self.group_id,
        }

    def expansion(self) -> Any:
        """What ReadFromKafka takes as its expansion service: an address or a launcher."""
        service = self.expansion_service
        if service is None:
            raise ValueError(
                "reading Kafka needs --kafka_expansion_service (HOST:PORT or a jar), or "
                "--flink_job_server_jar with the expansion service jar beside it"
            )
        if _HOST_PORT.match(service):
            return service
        if not Path(service).is_file():
            raise ValueError(f"--kafka_expansion_service: no such jar: {service}")
        from apache_beam.transforms.external import JavaJarExpansionService

        return JavaJarExpansionService(service, extra_args=list(_EXPANSION_ARGS))


@dataclass(frozen=True)
class StreamConfig:
    """One source (Pub/Sub or Kafka), the window length, and how a stop ends the job.

    ``subscription`` (``projects/P/subscriptions/S``), ``topic``
    (``projects/P/topics/T``; the runner then makes its own subscription,
    which sees only messages published after it starts) or ``kafka``: exactly
    one. ``on_stop``: one of :data:`STOP_MODES` (docs, Streaming from Kafka).
    """

    subscription: str | None = None
    topic: str | None = None
    window_s: float = WINDOW_S
    kafka: KafkaConfig | None = None
    on_stop: str = STOP_MODES[0]
    allowed_lateness_s: float = ALLOWED_LATENESS_S

    def __post_init__(self) -> None:
        sources = (self.subscription, self.topic, self.kafka)
        if sum(source is not None for source in sources) != 1:
            raise ValueError(
                "a streaming run reads one of --input_subscription, --input_topic or "
                "--input_kafka_topic (exactly one)"
            )
        if self.on_stop not in STOP_MODES:
            raise ValueError(
                f"--on_stop must be one of {', '.join(STOP_MODES)}, got {self.on_stop!r}"
            )
        for name, value, kind in (
            ("--input_subscription", self.subscription, "subscriptions"),
            ("--input_topic", self.topic, "topics"),
        ):
            if value is not None and (
                len(value.split("/")) != 4 or value.split("/")[::2] != ["projects", kind]
            ):
                raise ValueError(f"{name} must look like projects/P/{kind}/NAME, got {value!r}")
        if not self.allowed_lateness_s >= 0:
            raise ValueError(f"--allowed_lateness_s must be >= 0, got {self.allowed_lateness_s}")
        if not self.window_s > 0:
            raise ValueError(f"--window_s must be positive, got {self.window_s}")
