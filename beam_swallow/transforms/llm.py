"""``LLMStage``: a rewriting stage's records through RunInference and back.

The rewriting stages (SGCR, SCOR, math) differ only in how a record becomes a
chat request and how an answer is judged; this PTransform is everything else::

    records -> build_request(record) -> ChatRequest | Reject
            -> RunInference(KeyedModelHandler(engine handler)), keyed by record
            -> ChatResult -> judge(record, result) -> record | Reject

:meth:`LLMStage.answering_through` puts a wrapper around the RunInference step
that may answer some requests itself: the result cache
(:mod:`~beam_swallow.transforms.llm_cache`) answers those it holds and sends
the rest on; the judge sees every answer alike.

Exits (a :class:`StageResult`); every record leaves through exactly one:

- rejected: ``build_request`` returned a Reject; the prompt does not fit the
  context (``too_long``); the answer hit ``max_tokens`` (``truncated``); or
  ``judge`` returned a Reject.
- dead letter: ``build_request`` or ``judge`` raised; the engine answered the
  request with an error (``error_type`` is the engine's error class in
  snake_case, e.g. ``http_status_error`` after the openai engine's retries ran
  out); or RunInference failed a whole batch, which is exploded into one dead
  letter per record.
- kept: what ``judge`` returned.

Provenance is stamped here, once, on every record the stage lets out through
any exit: ``generation[<stage>]`` holds the engine, model, sampling settings and
the stage's own ``provenance`` (the rewriting stages put ``prompt_sha`` there),
plus, once the engine answered, prompt and completion token counts,
finish_reason and ``structured`` (whether the answer was decoded under the
request's grammar; merged into an existing ``generation`` dict).

Counters: ``<stage>.kept``, ``<stage>.<reason>``, ``<stage>.dead_letter``
(namespace ``beam_swallow``), plus the engine's own under
``inference.<engine>`` (see handler.py) and RunInference's there too; a server
engine's answers are also counted per stage (``inference_stage.<stage>``).

``record_pairs``: a folder where each answered request is also written as a
(prompt, answer) line (:mod:`~beam_swallow.transforms.pairs`); the exits are
the same with it or without.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
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
from beam_swallow.inference.feed import ContinuousInference
from beam_swallow.inference.handler import ChatModelHandler, ConcurrentModelHandler
from beam_swallow.records import Reason, Record, Reject, error_kind
from beam_swallow.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_dead_letter,
    emit_judged,
    emit_verdict,
    guarded,
)
from beam_swallow.transforms.pairs import RecordPairs

__all__ = ["AnswerWrapper", "EngineError", "Key", "LLMStage"]

BuildRequest = Callable[[Record], "ChatRequest | Reject"]
JudgeAnswer = Callable[[Record, ChatResult], "Record | Reject"]
# Wraps the PTransform that answers ready requests (see LLMStage.answering_through).
AnswerWrapper = Callable[[beam.PTransform], beam.PTransform]

_READY = "ready"

# What travels through RunInference: the record and the sampling it was asked
# with are the key, so the answer rejoins both.
Key = tuple[Record, SamplingParams]


class EngineError(RuntimeError):
    """What the engine reported for a request (or RunInference for a batch)."""


class _Stamp:
    """Writes ``generation[stage]`` onto the records of one stage."""

    def __init__(self, stage: str, engine: EngineConfig, provenance: Mapping[str, Any]):
        self.stage = stage
        self._base = {
            "engine": engine.engine,
            "model": engine.model_label,
            **provenance,
        }

    def __call__(
        self, record: Record, sampling: SamplingParams, result: ChatResult | None = None
    ) -> Record:
        entry: dict[str, Any] = {
            **self._base,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "repetition_penalty": sampling.repetition_penalty,
        }
        if result is not None and not result.failed:
            entry.update(
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                finish_reason=result.finish_reason,
                structured=result.structured,
            )
        generation = dict(record.get("generation") or {})
        generation[self.stage] = {**generation.get(self.stage, {}), **entry}
        return {**record, "generation": generation}


class _BuildRequestDoFn(beam.DoFn):
    def __init__(self, stamp: _Stamp, sampling: SamplingParams, build_request: BuildRequest):
        self._stamp = stamp
        self._sampling = sampling
        self._build_request = build_request

    def process(self, record: Record) -> Iterator[pvalue.TaggedOutput]:
        stage = self._stamp.stage
        stamped = self._stamp(record, self._sampling)
        request = guarded(stage, stamped, self._checked, record)
        if isinstance(request, pvalue.TaggedOutput):
            yield request
        elif isinstance(request, Reject):
            yield emit_verdict(stage, stamped, request)
        else:
            yield pvalue.TaggedOutput(_READY, ((record, request.sampling), request))

    def _checked(self, record: Record) -> ChatRequest | Reject:
        request = self._build_request(record)
        if not isinstance(request, (ChatRequest, Reject)):
            raise TypeError(
                f"build_request returned {type(request).__name__}, expected ChatRequest or Reject"
            )
        return request


def _verdict(record: Record, judge: JudgeAnswer, result: ChatResult) -> Record | Reject:
    """What the stage says of an answer: the engine's finish first, then the judge."""
    if result.finish_reason == FINISH_TOO_LONG:
        return Reject(Reason.TOO_LONG)
    if result.finish_reason == FINISH_LENGTH:
        return Reject(Reason.TRUNCATED)
    return judge(record, result)


class _JudgeAnswerDoFn(beam.DoFn):
    def __init__(self, stamp: _Stamp, judge: JudgeAnswer):
        self._stamp = stamp
        self._judge = judge

    def process(self, element: tuple[Key, ChatResult]) -> Iterator[pvalue.TaggedOutput]:
        (record, sampling), result = element
        stamped = self._stamp(record, sampling, result)
        if result.failed:
            yield _engine_dead_letter(
                self._stamp.stage, stamped, result.error_type, result.error or ""
            )
            return
        yield emit_judged(self._stamp.stage, stamped, _verdict, self._judge, result)


class _ExplodeFailedBatchDoFn(beam.DoFn):
    """A batch RunInference itself failed on: one dead letter per record in it."""

    def __init__(self, stamp: _Stamp):
        self._stamp = stamp

    def process(
        self, failed: tuple[Iterable[tuple[Key, ChatRequest]], Any]
    ) -> Iterator[pvalue.TaggedOutput]:
        batch, error = failed
        error_type, message = _describe(error)
        for (record, sampling), _request in batch:
            stamped = self._stamp(record, sampling)
            yield _engine_dead_letter(self._stamp.stage, stamped, error_type, message)


def _engine_dead_letter(
    stage: str, record: Record, error_type: str | None, error: str
) -> pvalue.TaggedOutput:
    """A dead letter whose ``error_type`` names the engine's error, not ours."""
    kind = error_kind(error_type) if error_type else error_kind(EngineError)
    return emit_dead_letter(stage, record, EngineError(error), kind)


def _describe(error: Any) -> tuple[str, str]:
    """Beam's failure info ``(exc_type, repr(exc), traceback lines)`` as (type, text)."""
    if isinstance(error, tuple) and len(error) >= 2:
        return getattr(error[0], "__name__", str(error[0])), str(error[1])
    return type(error).__name__, str(error)


class _Answer(beam.PTransform):
    """Ready requests through the engine: returns (answered pairs, failed batches).

    A server engine (``handler.concurrent``) is fed request by request
    (:class:`~beam_swallow.inference.feed.ContinuousInference`); the embedded
    engine, one prompt at a time in the worker, goes through RunInference's batches.
    """

    def __init__(self, handler: ChatModelHandler, stage: str):
        super().__init__()
        self._handler = handler
        self._stage = stage

    def expand(self, ready: beam.PCollection) -> tuple[beam.PCollection, beam.PCollection]:
        if isinstance(self._handler, ConcurrentModelHandler):
            return ready | "Feed" >> ContinuousInference(self._handler, self._stage)
        answered, failures = (
            ready
            | "RunInference"
            >> RunInference(
                KeyedModelHandler(self._handler),
                metrics_namespace=self._handler.get_metrics_namespace(),
            ).with_exception_handling()
        )
        return answered, failures.failed_inferences


class LLMStage(beam.PTransform):
    """A stage over an LLM engine; returns a :class:`StageResult`.

    ``build_request(record)`` returns a :class:`ChatRequest` (see
    :meth:`EngineConfig.request`) or a :class:`Reject`; ``judge(record, result)``
    sees only answers that finished with ``stop`` (the record already stamped)
    and returns the kept record or a :class:`Reject`. ``provenance`` is added to
    ``generation[stage]`` of every record (e.g. ``{"prompt_sha": ...}``).
    ``handler`` replaces the one ``make_handler(engine)`` builds (e.g. a
    subclass with extra instrumentation); it must answer the same contract.
    ``record_pairs``: a folder for the stage's (prompt, answer) lines, or None.
    """

    def __init__(
        self,
        stage: str,
        engine: EngineConfig,
        build_request: BuildRequest,
        judge: JudgeAnswer,
        *,
        provenance: Mapping[str, Any] | None = None,
        handler: ChatModelHandler | None = None,
        record_pairs: str | None = None,
    ):
        super().__init__(label=stage)
        if not callable(build_request) or not callable(judge):
            raise TypeError(f"build_request and judge for stage {stage!r} must be callable")
        self._stamp = _Stamp(stage, engine, provenance or {})
        self._engine = engine
        self._provenance = dict(provenance or {})
        self._build_request = build_request
        self._judge = judge
        self._handler = handler
        self._record_pairs = record_pairs
        self._wrap_answer: AnswerWrapper | None = None

    @property
    def engine(self) -> EngineConfig:
        """The engine this stage asks."""
        return self._engine

    @property
    def identity(self) -> dict[str, Any]:
        """What decides this stage's answers besides each request's messages and sampling:
        the stage, engine, model (as stamped), dtype, context length, engine kwargs and
        the stage's provenance (``prompt_sha``)."""
        return {
            "stage": self._stamp.stage,
            "engine": self._engine.engine,
            "model": self._engine.model_label,
            "dtype": self._engine.dtype,
            "max_model_len": self._engine.max_model_len,
            "engine_kwargs": self._engine.engine_kwargs,
            **self._provenance,
        }

    def answering_through(self, wrap: AnswerWrapper) -> LLMStage:
        """A copy of this stage whose ready requests go through ``wrap(answer)``.

        ``answer`` maps ``((record, sampling), ChatRequest)`` pairs to
        ``(answered, failed_batches)``: ``((record, sampling), ChatResult)`` pairs
        and RunInference's failed batches ``(batch, error)``; what ``wrap``
        returns must do the same (e.g. answer some requests itself, as the result
        cache does). The judge sees every answer either way.
        """
        stage = copy.copy(self)
        stage._wrap_answer = wrap
        return stage

    def expand(self, records: beam.PCollection) -> StageResult:
        built = records | "BuildRequest" >> beam.ParDo(
            _BuildRequestDoFn(self._stamp, self._engine.sampling, self._build_request)
        ).with_outputs(_READY, REJECTED, DEAD_LETTER)
        stage = self._stamp.stage
        answer: beam.PTransform = _Answer(self._handler or make_handler(self._engine), stage)
        if self._wrap_answer is not None:
            answer = self._wrap_answer(answer)
        answered, failed_batches = built[_READY] | "RunInference" >> answer
        if self._record_pairs:
            _ = answered | "RecordPairs" >> RecordPairs(
                self._record_pairs, stage, self._engine, self._build_request
            )
        judged = answered | "Judge" >> beam.ParDo(
            _JudgeAnswerDoFn(self._stamp, self._judge)
        ).with_outputs(KEPT, REJECTED, DEAD_LETTER)
        exploded = failed_batches | "ExplodeFailedBatches" >> beam.ParDo(
            _ExplodeFailedBatchDoFn(self._stamp)
        ).with_outputs(DEAD_LETTER)
        rejected = (built[REJECTED], judged[REJECTED]) | "Rejected" >> beam.Flatten()
        dead = (
            built[DEAD_LETTER],
            judged[DEAD_LETTER],
            exploded[DEAD_LETTER],
        ) | "DeadLetters" >> beam.Flatten()
        return StageResult(judged[KEPT], rejected, dead)
