"""An LLM stage behind the result cache: each distinct request is answered once.

``CachedLLMStage(stage, cache)`` wraps an :class:`~beam_swallow.transforms.llm.LLMStage`
(sgcr, scor, math_rewrite) and returns a :class:`~beam_swallow.cache.CachedResult`.
It caches the engine's answer (:class:`~beam_swallow.inference.base.ChatResult`),
not the verdict, by routing the stage's ready requests through
:class:`_CachedAnswers`::

    ((record, sampling), request) -> key (stage identity, request) -> CacheLookup
      hits   -> ((record marked from_cache, sampling), cached ChatResult)
      misses -> RunInference -> answers -> WriteCache (answers without an error)
    both -> the stage's own judge, exactly as for a fresh answer

The key hashes the request (messages and sampling, all but the record id) and
:attr:`LLMStage.identity` (engine, model, dtype, context length, engine kwargs,
prompt hash). A hit returns the stored answer exactly, whatever the
temperature: a rerun never resamples. Failed requests are not cached: a rerun
asks again. Hits carry ``from_cache`` naming the stage and the token counts
and finish reason of the generation that was stored.

Counters: the stage's own (hits included), the engine's (misses only: a hit
sends no request), plus ``<stage>.cache_hits``, ``<stage>.cache_misses``,
``<stage>.cache_written``, ``<stage>.cache_corrupt``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

import apache_beam as beam

from beam_swallow.cache import (
    CacheConfig,
    CachedResult,
    CacheLookup,
    WriteCache,
    cache_key,
    count_events,
    mark_cached,
)
from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.transforms.llm import Key, LLMStage

__all__ = ["CachedLLMStage", "request_key", "result_from_value", "value_of"]


def request_key(identity: dict[str, Any], request: ChatRequest) -> str:
    """The cache key of one request: everything in it but the record id, and the stage."""
    content = asdict(request)
    del content["id"]
    return cache_key(identity, content)


# Not stored: the record id, and the token ids a server may return (--record_pairs), which
# would make each entry several times its answer's size.
_NOT_STORED = ("id", "token_ids", "prompt_token_ids")


def value_of(result: ChatResult) -> dict[str, Any]:
    """What is stored of an answer: all of it but the record id and token ids."""
    value = asdict(result)
    for name in _NOT_STORED:
        del value[name]
    return value


def result_from_value(value: dict[str, Any], record_id: str) -> ChatResult:
    """The stored answer, as the answer to the request of ``record_id``."""
    return ChatResult(id=record_id, **value)


class _CachedAnswers(beam.PTransform):
    """Answers hits from the cache and misses through ``answer``; see the module doc.

    Returns ``(answered, failed_batches)`` as ``answer`` does. After expansion,
    ``counts`` holds the ``(event, n)`` pairs of :func:`~beam_swallow.cache.count_events`.
    """

    def __init__(
        self, answer: beam.PTransform, cache: CacheConfig, stage: str, identity: dict[str, Any]
    ):
        super().__init__()
        self._answer = answer
        self._cache = cache
        self._stage = stage
        self._identity = identity
        self.counts: beam.PCollection | None = None

    def expand(self, ready: beam.PCollection) -> tuple[beam.PCollection, beam.PCollection]:
        stage, identity = self._stage, self._identity
        directory = self._cache.stage_dir(stage, identity)
        found = (
            ready
            | "Key" >> beam.Map(lambda pair: (request_key(identity, pair[1]), pair))
            | "Lookup" >> CacheLookup(directory, stage)
        )
        hits = found.hits | "FromCache" >> beam.Map(_hit, stage)
        # The cache key rides along through RunInference, inside the KeyedModelHandler's key.
        answered, failed = (
            found.misses
            | "CarryKey" >> beam.Map(lambda miss: ((miss[1][0], miss[0]), miss[1][1]))
            | "Answer" >> self._answer
        )
        entries = answered | "Entries" >> beam.FlatMap(_entry)
        entries | "WriteCache" >> WriteCache(directory, stage, self._cache)
        self.counts = count_events(
            ready.pipeline,
            {
                "hits": found.hits,
                "misses": found.misses,
                "written": entries,
                "corrupt": found.corrupt,
            },
        )
        fresh = answered | "DropKey" >> beam.Map(lambda pair: (pair[0][0], pair[1]))
        return (
            (hits, fresh) | "Answered" >> beam.Flatten(),
            failed | "DropKeyFromFailed" >> beam.Map(_without_keys),
        )


def _hit(
    hit: tuple[str, tuple[Key, ChatRequest], dict[str, Any]], stage: str
) -> tuple[Key, ChatResult]:
    _, ((record, sampling), request), value = hit
    return (mark_cached(record, stage), sampling), result_from_value(value, request.id)


def _entry(pair: tuple[tuple[Key, str | None], ChatResult]) -> Iterable[tuple[str, Any]]:
    (_, key), result = pair
    if key is not None and not result.failed:
        yield key, value_of(result)


def _without_keys(failed: tuple[Iterable[Any], Any]) -> tuple[list[Any], Any]:
    batch, error = failed
    return [(carried, request) for (carried, _key), request in batch], error


class CachedLLMStage(beam.PTransform):
    """``stage`` with its engine answers cached under ``cache``; returns a CachedResult."""

    def __init__(self, stage: LLMStage, cache: CacheConfig):
        super().__init__(label=stage.label)
        self.stage = stage.label
        self._llm = stage
        self._cache = cache

    @property
    def engine(self) -> EngineConfig:
        """The engine the wrapped stage asks."""
        return self._llm.engine

    @property
    def languages(self) -> frozenset[str] | None:
        """The languages the wrapped stage takes (None: every one)."""
        return getattr(self._llm, "languages", None)

    def expand(self, records: beam.PCollection) -> CachedResult:
        wrapped: list[_CachedAnswers] = []

        def wrap(answer: beam.PTransform) -> beam.PTransform:
            wrapped.append(_CachedAnswers(answer, self._cache, self.stage, self._llm.identity))
            return wrapped[0]

        result = records | self.stage >> self._llm.answering_through(wrap)
        return CachedResult(*result, wrapped[0].counts)
