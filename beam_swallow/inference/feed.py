"""Feeding a server engine continuously: request by request, never batch by batch.

RunInference hands its model one batch and waits for all of it; behind a
server that batches continuously (vLLM, SGLang, TGI, llama.cpp) that wait is a
barrier: the server runs full only until the batch's short answers are done,
then decodes the long tail alone while nothing new can arrive. Ray Data
measured the difference on vLLM (ray-project/ray PR 52634): one 512-prompt
batch at a time gave 1,603 output tokens/s, 16-prompt batches with 32 in flight
2,404. :class:`ContinuousInference` replaces that step for engines whose model
takes concurrent requests (:class:`~.handler.ConcurrentModelHandler`):

- each request is submitted as soon as the process has room in flight
  (the client's bound, see :mod:`.openai` and :mod:`.vllm`); submitting blocks
  while there is none, which is the back-pressure on the bundle;
- requests wait in a buffer of up to ``batch_size`` and are sent longest
  prompt first (the longest answers start first, so the tail is shorter);
- answers are emitted as they arrive, each in its own request's window and
  timestamp; the bundle ends when its last answer is in.

One client per worker process and engine configuration
(``apache_beam.utils.shared``), shared by its threads and stages. A request's
own failure is an answer with an error (the stage dead-letters it); a client
that cannot load fails the bundle, so the runner's retries apply.

Input: ``(key, ChatRequest)`` pairs; output: ``(key, ChatResult)`` pairs, and,
like RunInference's failed inferences, a ``failed`` output (always empty here:
answers never fail as a batch).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.transforms.window import BoundedWindow
from apache_beam.utils import shared
from apache_beam.utils.windowed_value import WindowedValue

from beam_swallow.inference.base import ChatRequest
from beam_swallow.inference.handler import ConcurrentModelHandler, Sent

__all__ = ["ContinuousInference"]

_FAILED = "failed"
# One handle per process (made at import), so every stage asking the same engine
# shares one client, and with it one bound on what is in flight.
_CLIENTS = shared.Shared()


class _Waiting(NamedTuple):
    key: Any
    request: ChatRequest
    window: BoundedWindow
    timestamp: Any


def _prompt_chars(request: ChatRequest) -> int:
    return sum(len(m.content) for m in request.messages)


class _FeedDoFn(beam.DoFn):
    def __init__(self, handler: ConcurrentModelHandler, stage: str | None):
        self._handler = handler
        self._stage = stage
        self._tag = hashlib.sha256(repr(handler.config).encode()).hexdigest()

    def setup(self) -> None:
        self._client = _CLIENTS.acquire(self._handler.load_model, tag=self._tag)

    def start_bundle(self) -> None:
        self._waiting: list[_Waiting] = []
        self._sent: list[tuple[Future[Sent], _Waiting]] = []

    def process(
        self,
        element: tuple[Any, ChatRequest],
        window: BoundedWindow = beam.DoFn.WindowParam,
        timestamp: Any = beam.DoFn.TimestampParam,
    ) -> Iterator[WindowedValue]:
        key, request = element
        self._waiting.append(_Waiting(key, request, window, timestamp))
        if len(self._waiting) >= self._handler.config.max_batch_size:
            yield from self._send_waiting()
        yield from self._answers(wait=False)

    def finish_bundle(self) -> Iterator[WindowedValue]:
        yield from self._send_waiting()
        yield from self._answers(wait=True)

    def _send_waiting(self) -> Iterator[WindowedValue]:
        waiting = sorted(self._waiting, key=lambda w: _prompt_chars(w.request), reverse=True)
        self._waiting = []
        for item in waiting:
            self._sent.append((self._client.submit(item.request), item))
            yield from self._answers(wait=False)

    def _answers(self, wait: bool) -> Iterator[WindowedValue]:
        """Emit the answers that are in (all of them when ``wait``)."""
        done, pending = [], []
        for entry in self._sent:  # one look at each future: it may finish meanwhile
            (done if wait or entry[0].done() else pending).append(entry)
        if not done:
            return
        self._sent = pending
        sent = [(item.request, f.result()) for f, item in done]
        self._handler.count_sent(sent, stage=self._stage)
        for (_, item), (_, (result, _, _)) in zip(done, sent, strict=True):
            yield WindowedValue((item.key, result), item.timestamp, [item.window])


class ContinuousInference(beam.PTransform):
    """``(key, ChatRequest)`` -> ``(answered, failed)`` through a concurrent engine;
    see the module doc. ``stage`` names the stage whose answers these are, for the
    per-stage counters (:data:`~.handler.STAGE_NAMESPACE`)."""

    def __init__(self, handler: ConcurrentModelHandler, stage: str | None = None):
        super().__init__()
        self._handler = handler
        self._stage = stage

    def expand(self, ready: beam.PCollection) -> tuple[beam.PCollection, beam.PCollection]:
        fed = ready | "Feed" >> beam.ParDo(_FeedDoFn(self._handler, self._stage)).with_outputs(
            _FAILED, main="answered"
        )
        return fed.answered, fed[_FAILED]
