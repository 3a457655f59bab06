"""A record stage behind the cache: hits judged again, misses computed and written back.

The lint and fetch stages cache a result per record and route it through the
stage's own judge on every run; what differs between them is the key, how a
hit is judged, the stage that computes a miss and what its exits store. The
wiring, shared here::

    records -> (key, record) -> CacheLookup
      hits   -> judge_hits -> kept | rejected | dead letter
      misses -> compute    -> kept | rejected | dead letter
                kept + rejected -> entry -> WriteCache
    both -> the three exits, flattened, and the cache's counts
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import apache_beam as beam

from beam_swallow.cache.config import CacheConfig
from beam_swallow.cache.files import WriteCache
from beam_swallow.cache.lookup import CacheLookup
from beam_swallow.cache.result import CachedResult, count_events
from beam_swallow.records import Record
from beam_swallow.stage import DEAD_LETTER, KEPT, REJECTED

__all__ = ["cached_record_stage"]

# entry(record, identity, kept) -> the (key, value) pairs to store for one computed record
Entry = Callable[[Record, dict[str, Any], bool], Iterable[tuple[str, Any]]]


def cached_record_stage(
    records: beam.PCollection,
    stage: str,
    cache: CacheConfig,
    identity: dict[str, Any],
    key: Callable[[dict[str, Any], Record], str | None],
    judge_hits: beam.DoFn,
    compute: beam.PTransform,
    entry: Entry,
) -> CachedResult:
    """Expand ``stage`` over ``records`` with its results cached; see the module doc.

    ``judge_hits`` takes ``(key, record, stored value)`` and emits the three
    exits' tags; ``compute`` is the stage itself, returning a StageResult.
    """
    directory = cache.stage_dir(stage, identity)
    found = (
        records
        | "Key" >> beam.Map(lambda record: (key(identity, record), record))
        | "Lookup" >> CacheLookup(directory, stage)
    )
    hits = found.hits | "JudgeHits" >> beam.ParDo(judge_hits).with_outputs(
        KEPT, REJECTED, DEAD_LETTER
    )
    computed = found.misses | "Unkey" >> beam.Values() | compute
    entries = (
        computed.kept | "KeptEntries" >> beam.FlatMap(entry, identity, True),
        computed.rejected | "RejectedEntries" >> beam.FlatMap(entry, identity, False),
    ) | "Entries" >> beam.Flatten()
    entries | "WriteCache" >> WriteCache(directory, stage, cache)
    counts = count_events(
        records.pipeline,
        {
            "hits": found.hits,
            "misses": found.misses,
            "written": entries,
            "corrupt": found.corrupt,
        },
    )
    return CachedResult(
        (hits[KEPT], computed.kept) | "Kept" >> beam.Flatten(),
        (hits[REJECTED], computed.rejected) | "Rejected" >> beam.Flatten(),
        (hits[DEAD_LETTER], computed.dead_letter) | "DeadLetters" >> beam.Flatten(),
        counts,
    )
