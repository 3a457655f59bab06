"""Beam's counters are readable while a local job runs, and progress lines show them.

The in-flight test needs no clock: a DoFn counts five elements, then waits
until the runner's live view shows those five, which only happens if the
running bundle's counters are read while it is still running.
"""

from __future__ import annotations

import io
import threading

import apache_beam as beam
from apache_beam.metrics import Metrics
from rich.console import Console

from beam_swallow.reporting.live import LiveFnApiRunner, LiveMetrics
from beam_swallow.reporting.progress import StageProgress, expected_records, stage_counts

_LIVE = LiveMetrics()  # read by the DoFn below: in-memory workers share this process
_SEEN_IN_FLIGHT = threading.Event()
_COUNTER = ("beam_swallow", "probe.kept")


class _WaitUntilSeen(beam.DoFn):
    def process(self, element: int):
        Metrics.counter(*_COUNTER).inc()
        if element == 4:  # the fifth element: wait for the live view to show all five
            for _ in range(600):
                if _LIVE.snapshot().get(_COUNTER, 0) >= 5:
                    _SEEN_IN_FLIGHT.set()
                    break
                threading.Event().wait(0.1)
        yield element


def test_running_bundle_counters_are_visible_before_it_finishes():
    pipeline = beam.Pipeline(runner=LiveFnApiRunner(_LIVE))
    _ = pipeline | beam.Create(range(10), reshuffle=False) | beam.ParDo(_WaitUntilSeen())
    result = pipeline.run()
    result.wait_until_finish()
    assert _SEEN_IN_FLIGHT.is_set(), "the running bundle's counters were never read"
    final = result.metrics().query()["counters"]
    assert sum(c.committed for c in final if c.key.metric.name == "probe.kept") == 10
    assert _LIVE.snapshot()[_COUNTER] == 10  # finished bundles replace their in-flight readings


def test_stage_counts_split_exits_and_ignore_other_counters():
    counters = {
        ("beam_swallow", "lint.kept"): 5,
        ("beam_swallow", "lint.low_quality"): 3,
        ("beam_swallow", "lint.lint_timeout"): 1,
        ("beam_swallow", "lint.dead_letter"): 2,
        ("beam_swallow", "near_dedup.cc_unconverged"): 7,
        ("inference.embedded", "lint.kept"): 99,
    }
    assert stage_counts(counters, "lint") == {"in": 11, "kept": 5, "rejected": 4, "dead": 2}
    assert stage_counts(counters, "near_dedup") == {"in": 0, "kept": 0, "rejected": 0, "dead": 0}


def test_progress_lines_show_each_stage_and_eta_once_inputs_are_known():
    live = LiveMetrics()
    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with StageProgress(live, ["read", "syntax"], expected=10, console=console) as progress:
        live.bundle_finished([])  # nothing yet
        progress.update()
    text = console.file.getvalue()
    assert "read" in text and "syntax" in text and "ETA" in text


def test_expected_records_counts_plain_jsonl_and_not_gzip(tmp_path):
    plain = tmp_path / "a.jsonl"
    plain.write_text('{"text": "x"}\n{"text": "y"}\n{"text": "z"}')
    assert expected_records(str(plain)) == 3
    compressed = tmp_path / "b.jsonl.gz"
    compressed.write_bytes(b"")
    assert expected_records(str(tmp_path / "*")) is None
