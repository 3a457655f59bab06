"""A content-addressed cache of expensive stage results (lint scores, LLM answers).

A rerun joins its records with the cache inside the graph and computes only
the misses; every miss's result is written back as soon as its bundle ends, so
a job that dies keeps what it finished. ``entries`` holds the keys and the line
format, ``files`` the reads and immutable writes, ``lookup`` the join,
``result`` what a cached stage returns and counts, ``config`` where it lives,
``record_stage`` the wiring of a record stage behind the cache (lint, fetch).
The stages' own wrappers are in :mod:`beam_swallow.transforms`
(``lint_cache``, ``llm_cache``).
"""

from beam_swallow.cache.config import FLUSH_ENTRIES, FLUSH_SECONDS, CacheConfig
from beam_swallow.cache.entries import cache_key, decode_entry, digest, encode_entry
from beam_swallow.cache.files import ReadCache, WriteCache
from beam_swallow.cache.lookup import CacheLookup, Lookup
from beam_swallow.cache.record_stage import cached_record_stage
from beam_swallow.cache.result import (
    CACHE_EVENTS,
    FROM_CACHE,
    CachedResult,
    count_events,
    mark_cached,
)

__all__ = [
    "CACHE_EVENTS",
    "FLUSH_ENTRIES",
    "FLUSH_SECONDS",
    "FROM_CACHE",
    "CacheConfig",
    "CacheLookup",
    "CachedResult",
    "Lookup",
    "ReadCache",
    "WriteCache",
    "cache_key",
    "cached_record_stage",
    "count_events",
    "decode_entry",
    "digest",
    "encode_entry",
    "mark_cached",
]
