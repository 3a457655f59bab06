"""The breaker: a job whose records all fail the same way stops, with that failure quoted once.

A dead letter is right for a record that fails on its own; it is wrong for a
failure every record shares (no server at ``--endpoint``, a server that answers
500 to everything, a flag the server refuses): then a 40M-file job spends its
hours turning the whole corpus into dead letters and says so only at the end.

The model followed is Flink's failure-rate restart strategy, counted in records
instead of seconds, with Kafka Connect's ``errors.tolerance`` as its two ends:
each stage tolerates failures one record at a time (``all``), until
``threshold`` of its outputs *in a row* are dead letters that fail the same way
(:func:`~beam_swallow.stage.signature`: stage, ``error_type``, HTTP status);
then the job fails (``none``). Any kept or rejected record in between restarts
the count, so a stage that loses one record in a thousand to its own bug (the
same ``error_type`` each time) never trips, and a transient outage that the
engine's retries cover produces no dead letter at all. The count lives in each
worker process, per stage, in the order that process makes the stage's outputs,
so a job split over many workers trips as soon as one of them has seen
``threshold`` in a row.

:class:`Breaker` arms the count (:func:`~beam_swallow.stage.arm_breaker`) in
every worker process that runs the stage: from the ``setup`` of a DoFn on the
stage's input and on each exit, which runners set up with the stage's own
DoFns (fused with them) or before them. The count itself is kept where verdicts
and dead letters are made (:mod:`beam_swallow.stage`), and tripping raises
:class:`~beam_swallow.stage.BreakerTripped` there, failing the bundle: the
runner fails the job (after its own bundle retries, which trip again at once).
Results that finished before it and reached the result cache
(``--cache_dir``) are reused by the run after the fix, which computes only what
is missing. :func:`tripped_message` finds the breaker's one
line in whatever exception the runner raises (runners re-raise a worker's error
as text).
"""

from __future__ import annotations

import argparse
import re
import uuid
from dataclasses import dataclass

import apache_beam as beam
from apache_beam import pvalue

from beam_swallow.stage import BREAKER_MARK, StageResult, arm_breaker

__all__ = [
    "BREAKER_THRESHOLD",
    "Breaker",
    "BreakerConfig",
    "add_breaker_arguments",
    "tripped_message",
]

# Stops a run whose every record fails within its first hundred or so records
# (a few batches of an LLM stage), long after any per-record failure stops recurring.
BREAKER_THRESHOLD = 50

_MESSAGE = re.compile(re.escape(BREAKER_MARK) + r"[^\n]*")


@dataclass(frozen=True)
class BreakerConfig:
    """How many same-signature dead letters in a row fail the job; 0 turns the breaker off.

    Raises ValueError for a negative threshold.
    """

    threshold: int = BREAKER_THRESHOLD

    def __post_init__(self) -> None:
        if self.threshold < 0:
            raise ValueError(f"--breaker_threshold must be >= 0, got {self.threshold}")

    @property
    def on(self) -> bool:
        return self.threshold > 0


def _threshold(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (off) or a positive integer, got {value}")
    return number


def add_breaker_arguments(group: argparse._ArgumentGroup) -> None:
    """The breaker's flag, declared beside the config that owns its default."""
    group.add_argument(
        "--breaker_threshold",
        type=_threshold,
        default=BREAKER_THRESHOLD,
        help="Fail the job once this many records in a row of one stage are dead letters "
        "that fail the same way (same error_type and HTTP status), quoting the error "
        f"(default {BREAKER_THRESHOLD}; 0: never, every record becomes a dead letter).",
    )


def tripped_message(error: BaseException) -> str | None:
    """The breaker's one-line message inside ``error`` (or its text), else None."""
    found = _MESSAGE.search(str(error))
    return found[0][len(BREAKER_MARK) :] if found else None


class _Arm(beam.DoFn):
    """Arms the stage's breaker in the worker process that sets it up; passes nothing on."""

    def __init__(self, stage: str, run: str, threshold: int):
        self._args = (stage, run, threshold)

    def setup(self) -> None:
        arm_breaker(*self._args)

    def process(self, _record: object) -> tuple[()]:
        return ()


class Breaker(beam.PTransform):
    """Arms the breaker of one stage, beside it; outputs nothing.

    ``records | "Breaker" >> Breaker(stage, cfg, result)``: applied to the
    stage's input, given the stage's :class:`~beam_swallow.stage.StageResult`,
    so a DoFn is set up wherever the stage runs. Each instance counts apart from every
    other pipeline built in the process.
    """

    def __init__(self, stage: str, cfg: BreakerConfig, result: StageResult):
        super().__init__()
        if not cfg.on:
            raise ValueError("a Breaker needs a positive threshold")
        self._args = (stage, uuid.uuid4().hex, cfg.threshold)
        self._result = result

    def expand(self, records: beam.PCollection) -> pvalue.PDone:
        # Each PCollection gets its own DoFn, not one behind a Flatten: a Flatten's
        # consumer may run in a later fused stage than the one it watches.
        kept, rejected, dead = self._result[:3]
        watched = {"Input": records, "Kept": kept, "Rejected": rejected, "Dead": dead}
        for label, pcoll in watched.items():
            pcoll | f"Arm{label}" >> beam.ParDo(_Arm(*self._args))
        return pvalue.PDone(records.pipeline)
