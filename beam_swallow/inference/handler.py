"""What the three engines share: one ModelHandler shape, metrics, the context check.

Each engine subclasses :class:`ChatModelHandler` and writes two things:
``load_model()`` (heavy imports live there, so importing beam_swallow never
needs llama_cpp or vllm) and ``answer(batch, model)``, which returns one
``(ChatResult, latency_ms)`` per request, in order, and never raises for one
request's failure. ``run_inference`` wraps ``answer`` with the counters, in the calling
thread (Beam's metric containers are per thread).

Engines that answer many requests at once from any thread (a server: ``openai``
and ``vllm``) subclass :class:`ConcurrentModelHandler` instead: their model has
``submit(request) -> Future[Sent]``, and the LLM stage feeds them request by
request (:mod:`.feed`) rather than batch by batch through RunInference.

Counters, under ``get_metrics_namespace()`` = ``inference.<engine>``:
``requests``, ``prompt_tokens``, ``completion_tokens``, ``errors``,
``too_long``, ``truncated``, ``structured`` (answers decoded under their
request's grammar), ``spec_drafts``, ``spec_draft_tokens`` and
``spec_accepted_tokens`` (speculative decoding, as the server reported it per
answer); distribution ``request_latency_ms`` (per request;
the batch time split evenly where the engine answers a batch in one call).

Per stage, for the server engines (the feed knows its stage), under
``inference_stage.<stage>`` (:data:`STAGE_NAMESPACE`): ``answers``,
``completion_tokens``, ``spec_answers`` (answers with speculation counts),
``spec_drafts``, ``spec_draft_tokens``, ``spec_accepted_tokens`` and the
distribution ``request_latency_ms``; report.json turns them into each stage's
output tokens/s and tokens per step (:mod:`beam_swallow.reporting.timing`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, Generic, Protocol, TypeVar

from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler

from beam_swallow.inference.base import FINISH_LENGTH, FINISH_TOO_LONG, ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig

__all__ = [
    "STAGE_NAMESPACE",
    "Answer",
    "ChatModelHandler",
    "ConcurrentModelHandler",
    "Sent",
    "Submits",
    "error_result",
    "too_long_result",
]

ModelT = TypeVar("ModelT")

# Namespace prefix of the per-stage engine counters: inference_stage.<stage>.
STAGE_NAMESPACE = "inference_stage."
# Counters summed from each answer, engine-wide and per stage.
_SPEC_COUNTERS = ("spec_drafts", "spec_draft_tokens", "spec_accepted_tokens")

# One request's result and how long it took, in milliseconds.
Answer = tuple[ChatResult, float]
# What a concurrent engine's future gives: the result, its latency (ms) and its retries.
Sent = tuple[ChatResult, float, int]


class Submits(Protocol):
    """A model that takes requests from any thread, each answered on its own future."""

    def submit(self, request: ChatRequest) -> Future[Sent]: ...


def error_result(
    request: ChatRequest, exc: BaseException | str, error_type: str = ""
) -> ChatResult:
    """A failed result for one request: the stage dead-letters it with this error."""
    if isinstance(exc, BaseException):
        return ChatResult(request.id, None, None, error_type=type(exc).__name__, error=str(exc))
    return ChatResult(request.id, None, None, error_type=error_type or "EngineError", error=exc)


def too_long_result(request: ChatRequest, prompt_tokens: int) -> ChatResult:
    """The answer for a prompt that was never sent because it does not fit."""
    return ChatResult(request.id, None, FINISH_TOO_LONG, prompt_tokens=prompt_tokens)


class ChatModelHandler(ModelHandler[ChatRequest, ChatResult, ModelT], Generic[ModelT]):
    """Base of the engine handlers: config, batching, metrics."""

    def __init__(self, config: EngineConfig):
        super().__init__()
        self.config = config

    def answer(self, batch: Sequence[ChatRequest], model: ModelT) -> list[Answer]:
        """One (result, latency_ms) per request, in order; failures are results too."""
        raise NotImplementedError

    def run_inference(
        self,
        batch: Sequence[ChatRequest],
        model: ModelT,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[ChatResult]:
        answers = self.answer(batch, model)
        if len(answers) != len(batch):
            raise RuntimeError(f"engine answered {len(answers)} of {len(batch)} requests")
        results = [result for result, _ in answers]
        self._count(results, [latency for _, latency in answers])
        return results

    def _count(self, results: list[ChatResult], latencies: list[float]) -> None:
        namespace = self.get_metrics_namespace()
        Metrics.counter(namespace, "requests").inc(len(results))
        Metrics.counter(namespace, "prompt_tokens").inc(sum(r.prompt_tokens for r in results))
        Metrics.counter(namespace, "completion_tokens").inc(
            sum(r.completion_tokens for r in results)
        )
        Metrics.counter(namespace, "errors").inc(sum(r.failed for r in results))
        Metrics.counter(namespace, "too_long").inc(
            sum(r.finish_reason == FINISH_TOO_LONG for r in results)
        )
        Metrics.counter(namespace, "truncated").inc(
            sum(r.finish_reason == FINISH_LENGTH for r in results)
        )
        Metrics.counter(namespace, "structured").inc(sum(r.structured for r in results))
        for name in _SPEC_COUNTERS:
            Metrics.counter(namespace, name).inc(sum(getattr(r, name) for r in results))
        latency = Metrics.distribution(namespace, "request_latency_ms")
        for value in latencies:
            latency.update(int(value))

    def get_metrics_namespace(self) -> str:
        return f"inference.{self.config.engine}"

    def batch_elements_kwargs(self) -> Mapping[str, Any]:
        # min = max: BatchElements would otherwise start at 1 and grow, so a vLLM
        # engine saw batches of 1, 2, 4, ... (0.4x its throughput); a bundle's
        # last batch is flushed however small.
        size = self.config.max_batch_size
        return {"min_batch_size": size, "max_batch_size": size}

    def get_num_bytes(self, batch: Sequence[ChatRequest]) -> int:
        return sum(len(m.content) for request in batch for m in request.messages)


SubmitsT = TypeVar("SubmitsT", bound=Submits)


class ConcurrentModelHandler(ChatModelHandler[SubmitsT], Generic[SubmitsT]):
    """A handler whose model takes concurrent requests (a server's client).

    The LLM stage feeds it through :class:`~beam_swallow.inference.feed.ContinuousInference`
    and counts each answer with :meth:`count_sent`; ``answer`` (RunInference's
    path) submits a whole batch and waits for it.
    """

    def answer(self, batch: Sequence[ChatRequest], model: SubmitsT) -> list[Answer]:
        futures = [model.submit(request) for request in batch]
        sent = [future.result() for future in futures]
        self.count_sent(list(zip(batch, sent, strict=True)), results=False)
        return [(result, latency) for result, latency, _ in sent]

    def count_sent(
        self, sent: list[tuple[ChatRequest, Sent]], results: bool = True, stage: str | None = None
    ) -> None:
        """Count answers: the engine's counters (``results``) and ``retries`` and
        ``structured_refused``, and the stage's own when ``stage`` is given."""
        namespace = self.get_metrics_namespace()
        if results:
            self._count([r for _, (r, _, _) in sent], [latency for _, (_, latency, _) in sent])
        if stage is not None:
            _count_stage(stage, [(r, latency) for _, (r, latency, _) in sent])
        Metrics.counter(namespace, "retries").inc(sum(retries for _, (_, _, retries) in sent))
        Metrics.counter(namespace, "structured_refused").inc(
            sum(
                bool(request.grammar) and not result.failed and not result.structured
                for request, (result, _, _) in sent
            )
        )


def _count_stage(stage: str, answers: list[tuple[ChatResult, float]]) -> None:
    """The per-stage counters (see the module doc) of answers that did not fail."""
    namespace = STAGE_NAMESPACE + stage
    done = [(r, latency) for r, latency in answers if not r.failed]
    Metrics.counter(namespace, "answers").inc(len(done))
    Metrics.counter(namespace, "completion_tokens").inc(sum(r.completion_tokens for r, _ in done))
    Metrics.counter(namespace, "spec_answers").inc(sum(r.speculated for r, _ in done))
    for name in _SPEC_COUNTERS:
        Metrics.counter(namespace, name).inc(sum(getattr(r, name) for r, _ in done))
    latency = Metrics.distribution(namespace, "request_latency_ms")
    for _, value in done:
        latency.update(int(value))
