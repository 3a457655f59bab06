"""The breaker: dead letters that all fail the same way stop the job, quoting the error once."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.registry import breaker_config
from beam_swallow.records import Reason, Reject, dead_letter
from beam_swallow.stage import BreakerTripped, RecordStage, _Streak, signature
from beam_swallow.transforms.breaker import (
    BREAKER_THRESHOLD,
    Breaker,
    BreakerConfig,
    tripped_message,
)


def _letter(stage: str, error: BaseException) -> dict:
    return dead_letter({"id": "x", "text": "t"}, stage, error)


def test_signature_reads_the_http_status_from_the_error():
    assert signature(_letter("sgcr", RuntimeError("HTTP 500: busy"))) == (
        "sgcr",
        "runtime_error",
        "500",
    )
    assert signature(_letter("lint", ValueError("no status here 500"))) == (
        "lint",
        "value_error",
        "",
    )


def test_the_streak_trips_at_the_threshold_and_a_success_or_another_failure_restarts_it():
    streak = _Streak("run", 3)
    same = _letter("sgcr", RuntimeError("HTTP 500: busy"))
    other = _letter("sgcr", RuntimeError("HTTP 503: down"))
    for _ in range(2):
        streak.fail(same)
    streak.ok()
    for _ in range(2):
        streak.fail(same)
    streak.fail(other)  # another status: a new streak of one
    streak.fail(same)
    streak.fail(same)
    with pytest.raises(BreakerTripped) as tripped:
        streak.fail(same)
    message = tripped_message(tripped.value)
    assert message.startswith("stage sgcr: 3 records in a row failed the same way")
    assert "(runtime_error, HTTP 500): 'HTTP 500: busy'" in message
    assert "\n" not in message


def test_the_message_is_found_in_a_runner_s_text_of_the_error():
    wrapped = RuntimeError(
        "Traceback ...\nbeam_swallow.transforms.breaker.BreakerTripped: "
        "breaker tripped: stage x: 5 records in a row failed\n  more"
    )
    assert tripped_message(wrapped) == "stage x: 5 records in a row failed"
    assert tripped_message(RuntimeError("something else")) is None


def test_config_and_flag():
    assert BreakerConfig().threshold == BREAKER_THRESHOLD <= 100
    assert not BreakerConfig(0).on
    with pytest.raises(ValueError):
        BreakerConfig(-1)
    assert breaker_config(SwallowOptions(["--breaker_threshold", "7"])).threshold == 7
    assert breaker_config(SwallowOptions([])).threshold == BREAKER_THRESHOLD


class _Flaky(RecordStage):
    """Keeps a record, rejects it, or raises, by its number: ``fail_every`` 1 fails them all."""

    stage = "flaky"

    def __init__(self, fail_every: int):
        super().__init__(self._judge)
        self._every = fail_every

    def _judge(self, record):
        if record["n"] % self._every == 0:
            raise ConnectionError("HTTP 502: upstream gone")
        return record if record["n"] % 2 else Reject(Reason.LOW_QUALITY)


def _run(records: list[dict], fail_every: int, threshold: int):
    pipeline = beam.Pipeline(runner=FnApiRunner())
    records = pipeline | beam.Create(records, reshuffle=False)
    result = records | _Flaky(fail_every)
    records | "Breaker" >> Breaker("flaky", BreakerConfig(threshold), result)
    return pipeline, result


def test_a_failure_every_record_shares_fails_the_job_once_quoted():
    records = [{"id": str(n), "n": n, "text": "t"} for n in range(500)]
    pipeline, _ = _run(records, fail_every=1, threshold=20)
    with pytest.raises(Exception) as failed:
        pipeline.run().wait_until_finish()
    message = tripped_message(failed.value)
    assert message is not None
    assert message.startswith("stage flaky: 20 records in a row failed the same way")
    assert "(connection_error, HTTP 502): 'HTTP 502: upstream gone'" in message


def test_failures_between_successes_never_trip_and_every_record_is_counted():
    records = [{"id": str(n), "n": n, "text": "t"} for n in range(1, 301)]
    pipeline, result = _run(records, fail_every=3, threshold=2)
    counted = (
        [result.kept, result.rejected, result.dead_letter]
        | "All" >> beam.Flatten()
        | "CountAll" >> beam.combiners.Count.Globally()
    )
    assert_that(counted, equal_to([300]), label="conserved")
    assert_that(result.dead_letter | beam.combiners.Count.Globally(), equal_to([100]), label="dead")
    pipeline.run().wait_until_finish()
