"""Kafka records -> the read stage's exits, through Beam's cross-language Kafka read.

Each Kafka record is one record: its value is a JSON object, exactly like a
JSONL line (:func:`~beam_swallow.streaming.messages.message_exit`). The record
gets ``kafka: {"topic", "partition", "offset", "timestamp", "key"}`` (an input
field named ``kafka`` moves to ``kafka.input``); a value that is not a JSON
object with a text is a ``read`` dead letter with its ``raw`` value and the
same ``kafka`` field.

Why this read loses nothing on Flink:

- Beam's Java ``KafkaIO`` reads, as an unbounded source (the pipeline runs with
  the ``use_deprecated_read`` experiment): Flink wraps it so that each
  partition's offset is part of every checkpoint, beside the windows' and the
  dedup stages' state, and a restore rewinds the read and the state together.
  (Beam's splittable read has open bugs on portable Flink: apache/beam#20979.)
- Offsets are committed to the consumer group only when a checkpoint completes
  (``commit_offset_in_finalize``), never by the consumer on its own, so a new
  job of the same group starts where the last checkpoint of the old one was.
- A record's event time is the broker's log-append time, the same on every
  read: a replay puts each record back in the window it was in. The topic must
  stamp records with log-append time (``message.timestamp.type=LogAppendTime``;
  ``make kafka-up``'s broker does so for every topic).

The Java steps of the read need a Java SDK harness: in Beam's EMBEDDED
environment it runs inside the Flink TaskManager, whose class path (the job
server's, ``templates/flink/pom.xml``) holds the Kafka classes. Python asks
an expansion service for the read: a running one (``HOST:PORT``) or a jar
that starts one, by default the one ``make flink-job-server`` builds beside
the job server jar.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from beam_swallow.io import SEEN, ReaderConfig, ReadResult
from beam_swallow.stage import DEAD_LETTER, KEPT, REJECTED
from beam_swallow.streaming.config import DEFAULT_BOOTSTRAP, DEFAULT_GROUP, KafkaConfig
from beam_swallow.streaming.messages import message_exit, window_exits

__all__ = [
    "KAFKA",
    "ParseKafka",
    "ReadKafka",
    "add_kafka_arguments",
    "expansion_jar_for",
    "kafka_metadata",
]

KAFKA = "kafka"  # the record field of a Kafka record's metadata
_EXPANSION_JAR_SUFFIX = "-kafka-expansion-service.jar"


def expansion_jar_for(job_server_jar: str) -> str:
    """The expansion service jar ``templates/flink/pom.xml`` builds beside a job server jar."""
    return str(Path(job_server_jar).with_suffix("")) + _EXPANSION_JAR_SUFFIX


def _setting(value: str) -> list[str]:
    key, sep, setting = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return [key, setting]  # a list: Beam 2.62 cannot put a tuple into a runner's options


def add_kafka_arguments(group: argparse._ArgumentGroup) -> None:
    """The flags of a Kafka source (defaults from :class:`KafkaConfig`)."""
    group.add_argument(
        "--input_kafka_topic",
        default=None,
        help="With --streaming: read records from this Kafka topic, one JSON object per "
        "record value; on Flink, offsets and state are recovered from checkpoints "
        "(docs, Streaming from Kafka).",
    )
    group.add_argument(
        "--checkpointing_interval",
        type=int,
        default=None,
        metavar="MS",
        help="Flink: milliseconds between checkpoints, read by Flink's job server (Beam's "
        "Python SDK has no flag for it; declared here so the command knows it and passes it "
        "on). A Kafka run on Flink needs it: offsets and state live in the checkpoints.",
    )
    group.add_argument(
        "--kafka_bootstrap_servers",
        default=DEFAULT_BOOTSTRAP,
        help=f"With --input_kafka_topic: the brokers, HOST:PORT[,...] (default {DEFAULT_BOOTSTRAP}).",
    )
    group.add_argument(
        "--kafka_group_id",
        default=DEFAULT_GROUP,
        help="With --input_kafka_topic: the consumer group, whose offsets are committed when "
        f"a checkpoint completes; a new group starts at the topic's start (default {DEFAULT_GROUP}).",
    )
    group.add_argument(
        "--kafka_consumer_config",
        type=_setting,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="With --input_kafka_topic: a Kafka consumer setting (repeatable), e.g. "
        "security.protocol=SSL or auto.offset.reset=latest.",
    )
    group.add_argument(
        "--kafka_expansion_service",
        default=None,
        help="With --input_kafka_topic: HOST:PORT of Beam's expansion service for the Kafka "
        "read, or a jar that runs one. Default: the jar `make flink-job-server` builds "
        f"beside --flink_job_server_jar (*{_EXPANSION_JAR_SUFFIX}).",
    )


def kafka_metadata(row: Any) -> dict[str, Any]:
    """A Kafka record (Beam's row with metadata) -> the record's ``kafka`` field.

    ``timestamp``: the broker's time in ISO 8601 UTC; ``key``: UTF-8 text
    (undecodable bytes escaped), or None.
    """
    key = row.key
    return {
        "topic": row.topic,
        "partition": row.partition,
        "offset": row.offset,
        "timestamp": datetime.fromtimestamp(row.timestamp / 1000, tz=timezone.utc).isoformat(),
        "key": None if key is None else bytes(key).decode("utf-8", "backslashreplace"),
    }


class _KafkaRecordDoFn(beam.DoFn):
    def __init__(self, cfg: ReaderConfig):
        self._cfg = cfg

    def process(self, row: Any) -> Iterator[pvalue.TaggedOutput]:
        value = b"" if row.value is None else bytes(row.value)
        yield message_exit(value, KAFKA, kafka_metadata(row), self._cfg)
        yield pvalue.TaggedOutput(SEEN, 1)


class ParseKafka(beam.PTransform):
    """Kafka rows (with metadata) -> a ReadResult in fixed windows of ``window_s`` seconds
    of their event time (the read's timestamps: log-append time); ``seen``: one per row."""

    def __init__(self, cfg: ReaderConfig, window_s: float):
        super().__init__()
        self._cfg = cfg
        self._window_s = window_s

    def expand(self, rows: beam.PCollection) -> ReadResult:
        tagged = rows | "Parse" >> beam.ParDo(_KafkaRecordDoFn(self._cfg)).with_outputs(
            KEPT, REJECTED, DEAD_LETTER, SEEN
        )
        return window_exits(tagged, self._window_s)


class ReadKafka(beam.PTransform):
    """Read a Kafka topic as records: a windowed ReadResult (see the module note).

    The pipeline's options must carry the ``use_deprecated_read`` experiment
    (:data:`~.config.DEPRECATED_READ`), which the expansion service reads from them.
    """

    def __init__(self, kafka: KafkaConfig, window_s: float, cfg: ReaderConfig = ReaderConfig()):
        super().__init__()
        self._kafka = kafka
        self._window_s = window_s
        self._cfg = cfg

    def expand(self, pbegin: beam.pvalue.PBegin) -> ReadResult:
        from apache_beam.io.kafka import ReadFromKafka

        read = ReadFromKafka(
            consumer_config=self._kafka.consumer_settings(),
            topics=[self._kafka.topic],
            commit_offset_in_finalize=True,
            timestamp_policy=ReadFromKafka.log_append_time,
            with_metadata=True,
            expansion_service=self._kafka.expansion(),
        )
        return pbegin | "ReadKafka" >> read | "Records" >> ParseKafka(self._cfg, self._window_s)
