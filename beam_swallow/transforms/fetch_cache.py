"""The fetch stage behind the result cache: a rerun fetches nothing it fetched before.

``CachedFetch(cfg, cache)`` is a PTransform returning a
:class:`~beam_swallow.cache.CachedResult`::

    records -> key (fetch identity, [blob_id, src_encoding]) -> CacheLookup
      hits   -> apply_value(record, cached value)
      misses -> Fetch(cfg) -> its kept and rejected outputs -> value -> WriteCache

A blob id names its bytes for good (Software Heritage's ids hash the content),
so the key is the blob id, with the ``src_encoding`` it is decoded by and
:func:`fetch_identity` (the store's URL, the size bound, the format of the
value). The cache holds the value :func:`~beam_swallow.transforms.fetch.blob_value`
gave: the decoded text, or the rejection reason. Dead letters (a missing
blob, a corrupt one, a GET that failed) are not cached: a rerun tries again.
Hits leave through the same exits, with ``from_cache`` naming ``fetch``.

Counters: those of :mod:`~beam_swallow.transforms.fetch` (hits included),
plus ``fetch.cache_hits``, ``fetch.cache_misses``, ``fetch.cache_written``,
``fetch.cache_corrupt``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from beam_swallow.cache import (
    CacheConfig,
    CachedResult,
    cache_key,
    cached_record_stage,
    mark_cached,
)
from beam_swallow.records import REASON, TEXT, Record
from beam_swallow.sources.blobs import BLOB_BYTES, DECODED_AS
from beam_swallow.sources.stack_v2 import BLOB_ID
from beam_swallow.stage import emit_judged
from beam_swallow.transforms.fetch import STAGE, Fetch, FetchConfig, apply_value

__all__ = ["CachedFetch", "fetch_identity", "value_of"]

VALUE_FORMAT = 1  # bump when blob_value's judgement changes
# The fields of a fetched record that its value set (see blob_value).
_VALUE_FIELDS = {True: (TEXT, DECODED_AS), False: (REASON, BLOB_BYTES)}


def fetch_identity(cfg: FetchConfig) -> dict[str, Any]:
    """Everything besides the blob id and its encoding that decides a fetched value."""
    return {
        "stage": STAGE,
        "content_url": cfg.content_url,
        "max_bytes": cfg.max_bytes,
        "format": VALUE_FORMAT,
    }


def _key(identity: dict[str, Any], record: Record) -> str | None:
    blob_id = record.get(BLOB_ID)
    if not isinstance(blob_id, str):
        return None
    return cache_key(identity, [blob_id, record.get("src_encoding")])


def value_of(record: Record, kept: bool) -> dict[str, Any]:
    """The value behind one of Fetch's kept (``kept``) or rejected outputs."""
    return {name: record[name] for name in _VALUE_FIELDS[kept] if name in record}


class _JudgeHit(beam.DoFn):
    def process(self, hit: tuple[str, Record, dict[str, Any]]) -> Iterator[pvalue.TaggedOutput]:
        _, record, value = hit
        yield emit_judged(STAGE, mark_cached(record, STAGE), apply_value, value)


def _entry(record: Record, identity: dict[str, Any], kept: bool) -> Iterator[tuple[str, Any]]:
    key = _key(identity, record)
    if key is not None:
        yield key, value_of(record, kept)


class CachedFetch(beam.PTransform):
    """The fetch stage with its values cached under ``cache``; returns a CachedResult."""

    stage = STAGE

    def __init__(self, cfg: FetchConfig, cache: CacheConfig):
        super().__init__(label=STAGE)
        self._cfg = cfg
        self._cache = cache
        self._identity = fetch_identity(cfg)

    def expand(self, records: beam.PCollection) -> CachedResult:
        return cached_record_stage(
            records,
            STAGE,
            self._cache,
            self._identity,
            _key,
            _JudgeHit(),
            "Fetch" >> Fetch(self._cfg),
            _entry,
        )
