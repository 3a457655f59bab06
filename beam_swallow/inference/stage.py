"""``LLMStage``: a rewriting stage's records through RunInference and back.

The rewriting stages (SGCR, SCOR, math) differ only in how a record becomes a
chat request and how an answer is judged; this PTransform is everything else::

    records -> build_request(record) -> ChatRequest | Reject
            -> RunInference(KeyedModelHandler(engine handler)), keyed by record
            -> ChatResult -> judge(record, result) -> record | Reject

Exits (a :class:`StageResult`); every record leaves through exactly one:

- rejected: ``build_request`` returned a Reject; the prompt does not fit the
  context (``too_long``); the answer hit ``max_tokens`` (``truncated``); or
  ``judge`` returned a Reject.
- dead letter: ``build_request`` or ``judge`` raised; the engine answered the
  request with an error (``error_type`` and ``error`` from the result, e.g.
  after the openai engine's retries ran out); or RunInference failed a whole
  batch, which is exploded into one dead letter per record.
- kept: what ``judge`` returned.

Before judging, each answered record gains ``generation[<stage>]``: engine,
model, temperature, top_p, max_tokens, prompt and completion token counts and
finish_reason (merged into an existing ``generation`` dict).

Counters: ``<stage>.kept``, ``<stage>.<reason>``, ``<stage>.dead_letter``
(namespace ``beam_swallow``), plus the engine's own under
``inference.<engine>`` (see handler.py) and RunInference's there too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

from beam_swallow.inference import make_handler
from beam_swallow.inference.base import (
    FINISH_LENGTH,
    FINISH_TOO_LONG,
    ChatRequest,
    ChatResult,
    SamplingParams,
)
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.handler import ChatModelHandler
from beam_swallow.records import Reason, Record, Reject
from beam_swallow.transforms.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_dead_letter,
    emit_verdict,
)

__all__ = ["LLMStage", "generation_stamp"]

BuildRequest = Callable[[Record], "ChatRequest | Reject"]
JudgeAnswer = Callable[[Record, ChatResult], "Record | Reject"]

_READY = "ready"

# What travels through RunInference: the record and the sampling it was asked
# with are the key, so the answer rejoins both.
Key = tuple[Record, SamplingParams]


def generation_stamp(
    record: Record, stage: str, engine: EngineConfig, sampling: SamplingParams, result: ChatResult
) -> Record:
    """A copy of ``record`` whose ``generation[stage]`` says how its answer was made."""
    generation = dict(record.get("generation") or {})
    generation[stage] = {
        "engine": engine.engine,
        "model": engine.model_label,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
        "repetition_penalty": sampling.repetition_penalty,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "finish_reason": result.finish_reason,
    }
    return {**record, "generation": generation}


class _BuildRequestDoFn(beam.DoFn):
    def __init__(self, stage: str, build_request: BuildRequest):
        self._stage = stage
        self._build_request = build_request

    def process(self, record: Record) -> Iterator[pvalue.TaggedOutput]:
        try:
            request = self._build_request(record)
            if not isinstance(request, (ChatRequest, Reject)):
                raise TypeError(
                    f"build_request returned {type(request).__name__}, "
                    "expected ChatRequest or Reject"
                )
        except Exception as exc:  # a broken record is a dead letter, never a crash
            yield emit_dead_letter(self._stage, record, exc)
            return
        if isinstance(request, Reject):
            yield emit_verdict(self._stage, record, request)
            return
        yield pvalue.TaggedOutput(_READY, ((record, request.sampling), request))


class _JudgeAnswerDoFn(beam.DoFn):
    def __init__(self, stage: str, engine: EngineConfig, judge: JudgeAnswer):
        self._stage = stage
        self._engine = engine
        self._judge = judge

    def process(self, element: tuple[Key, ChatResult]) -> Iterator[pvalue.TaggedOutput]:
        (record, sampling), result = element
        if result.failed:
            yield _engine_dead_letter(self._stage, record, result.error_type, result.error or "")
            return
        try:
            stamped = generation_stamp(record, self._stage, self._engine, sampling, result)
            if result.finish_reason == FINISH_TOO_LONG:
                verdict: Record | Reject = Reject(Reason.TOO_LONG)
            elif result.finish_reason == FINISH_LENGTH:
                verdict = Reject(Reason.TRUNCATED)
            else:
                verdict = self._judge(stamped, result)
        except Exception as exc:  # a judge that breaks makes a dead letter
            yield emit_dead_letter(self._stage, record, exc)
            return
        yield emit_verdict(self._stage, stamped, verdict)


class _ExplodeFailedBatchDoFn(beam.DoFn):
    """A batch RunInference itself failed on: one dead letter per record in it."""

    def __init__(self, stage: str):
        self._stage = stage

    def process(
        self, failed: tuple[Iterable[tuple[Key, ChatRequest]], Any]
    ) -> Iterator[pvalue.TaggedOutput]:
        batch, error = failed
        error_type, message = _describe(error)
        for (record, _), _request in batch:
            yield _engine_dead_letter(self._stage, record, error_type, message)


class EngineError(RuntimeError):
    """What the engine reported for a request (or RunInference for a batch)."""


def _engine_dead_letter(
    stage: str, record: Record, error_type: str | None, error: str
) -> pvalue.TaggedOutput:
    """A dead letter whose ``error_type`` names the engine's error, not ours."""
    out = emit_dead_letter(stage, record, EngineError(error))
    out.value["error_type"] = error_type or EngineError.__name__
    return out


def _describe(error: Any) -> tuple[str, str]:
    """Beam's failure info ``(exc_type, repr(exc), traceback lines)`` as (type, text)."""
    if isinstance(error, tuple) and len(error) >= 2:
        return getattr(error[0], "__name__", str(error[0])), str(error[1])
    return type(error).__name__, str(error)


class LLMStage(beam.PTransform):
    """A rewriting stage over an LLM engine; returns a :class:`StageResult`.

    ``build_request(record)`` returns a :class:`ChatRequest` (see
    :meth:`EngineConfig.request`) or a :class:`Reject`; ``judge(record, result)``
    sees only answers that finished with ``stop`` and returns the kept record
    or a :class:`Reject`. ``handler`` replaces the one ``make_handler(engine)``
    builds (e.g. a subclass with extra instrumentation); it must answer the
    same contract.
    """

    def __init__(
        self,
        stage: str,
        engine: EngineConfig,
        build_request: BuildRequest,
        judge: JudgeAnswer,
        *,
        handler: ChatModelHandler | None = None,
    ):
        super().__init__(label=stage)
        if not callable(build_request) or not callable(judge):
            raise TypeError(f"build_request and judge for stage {stage!r} must be callable")
        self._stage = stage
        self._engine = engine
        self._build_request = build_request
        self._judge = judge
        self._handler = handler

    def expand(self, records: beam.PCollection) -> StageResult:
        stage = self._stage
        built = records | "BuildRequest" >> beam.ParDo(
            _BuildRequestDoFn(stage, self._build_request)
        ).with_outputs(_READY, REJECTED, DEAD_LETTER)
        handler = self._handler or make_handler(self._engine)
        answered, failures = (
            built[_READY]
            | "RunInference"
            >> RunInference(
                KeyedModelHandler(handler), metrics_namespace=handler.get_metrics_namespace()
            ).with_exception_handling()
        )
        judged = answered | "Judge" >> beam.ParDo(
            _JudgeAnswerDoFn(stage, self._engine, self._judge)
        ).with_outputs(KEPT, REJECTED, DEAD_LETTER)
        exploded = failures.failed_inferences | "ExplodeFailedBatches" >> beam.ParDo(
            _ExplodeFailedBatchDoFn(stage)
        ).with_outputs(DEAD_LETTER)
        rejected = (built[REJECTED], judged[REJECTED]) | "Rejected" >> beam.Flatten()
        dead = (
            built[DEAD_LETTER],
            judged[DEAD_LETTER],
            exploded[DEAD_LETTER],
        ) | "DeadLetters" >> beam.Flatten()
        return StageResult(judged[KEPT], rejected, dead)
