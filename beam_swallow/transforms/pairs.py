"""``--record_pairs DIR``: each answered request of an LLM stage, as one JSON line.

What the engine was asked and what it answered, written out as they are, so
that work on the engine can be measured offline against real answers:
``bench/spec_replay.py`` replays vLLM's speculative proposers over them to
predict each stage's tokens per step (docs: LLM engines, speculative
decoding). Nothing here changes a record or its exit.

Files: ``DIR/<stage>-SSSSS-of-NNNNN.jsonl.gz``, one line per answer that came
back from the engine (or the result cache): a request that failed or whose
prompt did not fit has no answer and no line. Fields: ``stage``, ``id``,
``engine``, ``model``, ``messages`` (the chat turns as sent), ``answer`` (the
raw answer text, before any parsing), ``finish_reason``, ``prompt_tokens``,
``completion_tokens``, ``temperature``, ``top_p``, ``max_tokens``,
``structured`` (decoded under a grammar), ``spec`` (the server's speculation
counts: ``drafts``, ``draft_tokens``, ``accepted_tokens``; all 0 without
speculation) and, where the server returned them (the vllm engine asks for
them while recording), ``prompt_token_ids`` and ``token_ids``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam

from beam_swallow.inference.base import FINISH_TOO_LONG, ChatRequest, ChatResult, SamplingParams
from beam_swallow.inference.config import EngineConfig
from beam_swallow.io import JsonlSink
from beam_swallow.jsonl import DEFAULT_COMPRESSION, dumps
from beam_swallow.records import Record, Reject

__all__ = ["RecordPairs", "pair_of"]

BuildRequest = Callable[[Record], "ChatRequest | Reject"]


def pair_of(
    stage: str, engine: EngineConfig, request: ChatRequest, result: ChatResult
) -> dict[str, Any]:
    """The line of one answered request (see the module doc)."""
    pair: dict[str, Any] = {
        "stage": stage,
        "id": result.id,
        "engine": engine.engine,
        "model": engine.model_label,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "answer": result.text,
        "finish_reason": result.finish_reason,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "temperature": request.sampling.temperature,
        "top_p": request.sampling.top_p,
        "max_tokens": request.sampling.max_tokens,
        "structured": result.structured,
        "spec": {
            "drafts": result.spec_drafts,
            "draft_tokens": result.spec_draft_tokens,
            "accepted_tokens": result.spec_accepted_tokens,
        },
    }
    if result.prompt_token_ids is not None and result.token_ids is not None:
        pair["prompt_token_ids"] = list(result.prompt_token_ids)
        pair["token_ids"] = list(result.token_ids)
    return pair


class _PairLines(beam.DoFn):
    def __init__(self, stage: str, engine: EngineConfig, build_request: BuildRequest):
        self._stage = stage
        self._engine = engine
        self._build_request = build_request

    def process(self, element: tuple[tuple[Record, SamplingParams], ChatResult]) -> Iterator[bytes]:
        (record, _), result = element
        if result.failed or result.finish_reason == FINISH_TOO_LONG:
            return
        # the stage's requests are a pure function of the record: built again, not carried
        request = self._build_request(record)
        if isinstance(request, ChatRequest):
            yield dumps(pair_of(self._stage, self._engine, request, result)).encode()


class RecordPairs(beam.PTransform):
    """Writes a stage's answered pairs under ``folder``; see the module doc."""

    def __init__(self, folder: str, stage: str, engine: EngineConfig, build_request: BuildRequest):
        super().__init__()
        self._prefix = f"{folder.rstrip('/')}/{stage}"
        self._lines = _PairLines(stage, engine, build_request)

    def expand(self, answered: beam.PCollection) -> beam.pvalue.PDone:
        return (
            answered
            | "PairLines" >> beam.ParDo(self._lines)
            | "WritePairs" >> beam.io.Write(JsonlSink(self._prefix, DEFAULT_COMPRESSION))
        )
