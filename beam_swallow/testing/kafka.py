"""What the Kafka tests share: the local broker, topics, a producer, offsets, exits by offset.

The broker is the one ``make kafka-up`` starts (``templates/kafka/broker.sh``);
``make test-flink`` names it through the environment (``KAFKA_HOME``,
``KAFKA_PORT``, ``KAFKA_CONTROLLER_PORT``). Records are produced with
confluent-kafka (librdkafka), as a user's producer would.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from beam_swallow.streaming.kafka import KAFKA

__all__ = ["KafkaBroker", "Offset", "broker_from_env", "offset_of"]

Offset = tuple[int, int]  # (partition, offset): where a record is in its topic
_SCRIPT = Path(__file__).resolve().parents[2] / "templates" / "kafka" / "broker.sh"
_TIMEOUT_S = 60.0  # one client call


def offset_of(record: dict) -> Offset:
    """Where an output record (kept, rejected or dead letter) was in its topic."""
    return record[KAFKA]["partition"], record[KAFKA]["offset"]


@dataclass(frozen=True)
class KafkaBroker:
    """The local broker: its ``broker.sh`` settings and a client's view of it."""

    home: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"localhost:{self.port}"

    def env(self) -> dict[str, str]:
        """The environment of a run that reads this broker (the caller's own)."""
        return dict(os.environ)

    def _script(self, action: str) -> None:
        env = {
            **os.environ,
            "KAFKA_HOME": str(self.home),
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
        }
        subprocess.run([str(_SCRIPT), action], env=env, check=True)

    def stop(self) -> None:
        """Shut the broker down (its topics and offsets are kept)."""
        self._script("down")

    def start(self) -> None:
        """Start it again; returns once it answers."""
        self._script("up")

    def create_topic(self, name: str, partitions: int = 2) -> None:
        """A topic whose records carry the broker's log-append time."""
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        topic = NewTopic(
            name,
            num_partitions=partitions,
            replication_factor=1,
            config={"message.timestamp.type": "LogAppendTime"},
        )
        admin.create_topics([topic])[name].result(timeout=_TIMEOUT_S)

    def produce(self, topic: str, values: list[bytes], partitions: int = 2) -> list[Offset]:
        """Produce ``values`` in turn over the partitions; their offsets, in order."""
        from confluent_kafka import KafkaException, Producer

        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True})
        offsets: dict[int, Offset] = {}

        def delivered(error, message) -> None:
            if error is not None:
                raise KafkaException(error)
            offsets[int(message.key())] = (message.partition(), message.offset())

        for i, value in enumerate(values):
            producer.produce(
                topic, value, key=str(i).encode(), partition=i % partitions, on_delivery=delivered
            )
        assert producer.flush(_TIMEOUT_S) == 0, "messages left unsent"
        assert len(offsets) == len(values), "a message was not acknowledged"
        return [offsets[i] for i in range(len(values))]

    def end_offsets(self, topic: str, partitions: int = 2) -> dict[int, int]:
        """Each partition's next offset (its count of records)."""
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "offsets-probe"})
        try:
            return {
                p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=_TIMEOUT_S)[1]
                for p in range(partitions)
            }
        finally:
            consumer.close()

    def committed(self, topic: str, group: str, partitions: int = 2) -> dict[int, int]:
        """The offsets ``group`` has committed per partition (-1001: none yet)."""
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group})
        try:
            found = consumer.committed(
                [TopicPartition(topic, p) for p in range(partitions)], timeout=_TIMEOUT_S
            )
            return {tp.partition: tp.offset for tp in found}
        finally:
            consumer.close()

    def wait_committed(self, topic: str, group: str, limit_s: float = 900) -> None:
        """Return once ``group`` has committed every record of ``topic`` (a checkpoint
        completed after the job read them all). ``limit_s`` bounds a hang only."""
        deadline = time.monotonic() + limit_s
        while self.committed(topic, group) != self.end_offsets(topic):
            assert time.monotonic() < deadline, (
                f"{group} committed {self.committed(topic, group)} of {self.end_offsets(topic)}"
            )
            time.sleep(1.0)


def broker_from_env() -> KafkaBroker:
    """The broker ``make test-flink`` started."""
    return KafkaBroker(
        Path(os.environ["KAFKA_HOME"]),
        int(os.environ.get("KAFKA_PORT", "9092")),
        int(os.environ.get("KAFKA_CONTROLLER_PORT", "9093")),
    )
