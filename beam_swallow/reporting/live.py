"""Beam's own counters while a local job runs, for the progress display.

What Beam offers, checked against Beam 2.77: the FnApiRunner's ``run()``
returns only when the job is done, so ``PipelineResult.metrics()`` cannot be
polled during a run; Beam's job service answers ``GetJobMetrics`` from the
finished result too. The metrics do exist during the run, in two places, and
:class:`LiveFnApiRunner` reads both:

- each finished bundle's response carries its monitoring infos (user
  counters included): the runner folds them in after every bundle;
- a running bundle's counters live in its bundle processor; the Fn API's
  progress request reads them with ``processor.monitoring_infos()``. With
  in-memory SDK workers (the default) the runner's control channel is a plain
  call that holds the thread until the bundle ends, so a poller thread reads
  the same ``monitoring_infos()`` of the active bundle processors directly.
  SDK workers in other processes (``multi_processing``) answer only when their
  bundles finish, so there the display moves bundle by bundle.

These hooks (``_execute_bundle``, ``bundle_processor_cache``) are Beam
internals; beam-swallow pins Beam's minor version, and the progress test fails
if they change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from apache_beam.metrics import monitoring_infos
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

__all__ = ["LiveFnApiRunner", "LiveMetrics", "user_counters"]

POLL_SECONDS = 0.5


def user_counters(infos: Iterable[Any]) -> dict[tuple[str, str], int]:
    """User counter totals ``{(namespace, name): value}`` in ``infos``, summed over steps."""
    totals: dict[tuple[str, str], int] = {}
    for info in infos:
        if info.urn != monitoring_infos.USER_COUNTER_URN:
            continue
        key = (info.labels.get("NAMESPACE", ""), info.labels.get("NAME", ""))
        totals[key] = totals.get(key, 0) + monitoring_infos.extract_counter_value(info)
    return totals


class LiveMetrics:
    """Counter totals of a running job: finished bundles plus the ones in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._finished: dict[tuple[str, str], int] = {}
        self._in_flight: dict[str, dict[tuple[str, str], int]] = {}

    def bundle_finished(self, infos: Iterable[Any]) -> None:
        """Add a finished bundle's counters; in-flight readings of it are dropped."""
        counters = user_counters(infos)
        with self._lock:
            for key, value in counters.items():
                self._finished[key] = self._finished.get(key, 0) + value
            self._in_flight.clear()

    def in_flight(self, instruction_id: str, infos: Iterable[Any]) -> None:
        """Replace the latest reading of a running bundle."""
        counters = user_counters(infos)
        with self._lock:
            self._in_flight[instruction_id] = counters

    def snapshot(self) -> dict[tuple[str, str], int]:
        """Totals as of now."""
        with self._lock:
            totals = dict(self._finished)
            for counters in self._in_flight.values():
                for key, value in counters.items():
                    totals[key] = totals.get(key, 0) + value
        return totals


class _BundlePoller(threading.Thread):
    """Reads the counters of in-process bundles while they run."""

    def __init__(self, handlers: list[Any], live: LiveMetrics):
        super().__init__(daemon=True, name="beam-swallow-progress")
        self._caches = [h.bundle_processor_cache for h in handlers if hasattr(h, "worker")]
        self._live = live
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            for cache in self._caches:
                for instruction_id, (_, processor) in list(cache.active_bundle_processors.items()):
                    self._live.in_flight(instruction_id, processor.monitoring_infos())

    def stop(self) -> None:
        self._done.set()
        self.join()


class LiveFnApiRunner(FnApiRunner):
    """The FnApiRunner, publishing its counters to ``live`` as the job runs."""

    def __init__(self, live: LiveMetrics):
        super().__init__()
        self.live = live

    def _execute_bundle(self, runner_execution_context, bundle_context_manager, bundle_input):
        poller = _BundlePoller(bundle_context_manager.worker_handlers, self.live)
        poller.start()
        try:
            result = super()._execute_bundle(
                runner_execution_context, bundle_context_manager, bundle_input
            )
        finally:
            poller.stop()
        self.live.bundle_finished(result.process_bundle.monitoring_infos)
        return result
