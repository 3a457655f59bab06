"""Where a streaming run reads from, and how long its windows are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from beam_swallow.streaming.kafka import KafkaConfig

__all__ = ["ALLOWED_LATENESS_S", "STOP_MODES", "StreamConfig", "WINDOW_S"]

WINDOW_S = 60.0  # seconds per fixed window (issue 11: a minute of records per file set)
# How late (event time) a record may reach the window writer and still fire its window again.
# On portable Flink the stateful dedup stages hand records back behind the watermark: Beam
# counted them droppedDueToLateness at the writer's GroupByKeys, over 60 s late while a job's
# first bundles start its SDK workers (docs, Streaming from Kafka; apache/beam issue 28649).
# The cost: each window's lines stay in state this long after the window ends.
ALLOWED_LATENESS_S = 600.0
# --on_stop: what SIGINT / SIGTERM do to a Flink streaming job; the first is the default.
STOP_MODES = ("drain", "cancel")


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
