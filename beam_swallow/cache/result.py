"""What a cached stage returns and says: its exits plus cache counts, and the provenance mark.

A cached stage returns a :class:`CachedResult`: the three exits of a
:class:`~beam_swallow.stage.StageResult` plus ``cache``, ``(event, n)`` pairs
that :class:`~beam_swallow.report.KeyExits` counts into report.json's
``stages.<stage>.cache``: ``{"hits", "misses", "written", "corrupt"}`` (each
present, 0 when nothing happened). Counts come from the collections, not from
metrics, like every count of the report.

A record whose stage result came from the cache lists that stage in
``from_cache`` (in stage order), on every exit it leaves by.
"""

from __future__ import annotations

from typing import NamedTuple

import apache_beam as beam

from beam_swallow.records import Record

__all__ = ["CACHE_EVENTS", "FROM_CACHE", "CachedResult", "count_events", "mark_cached"]

CACHE_EVENTS = ("hits", "misses", "written", "corrupt")
FROM_CACHE = "from_cache"


class CachedResult(NamedTuple):
    """A cached stage's three exits, plus ``cache``: ``(event, n)`` pairs (see CACHE_EVENTS)."""

    kept: beam.PCollection
    rejected: beam.PCollection
    dead_letter: beam.PCollection
    cache: beam.PCollection


def mark_cached(record: Record, stage: str) -> Record:
    """A copy of ``record`` whose ``from_cache`` names ``stage``."""
    return {**record, FROM_CACHE: [*record.get(FROM_CACHE, []), stage]}


def count_events(
    pipeline: beam.Pipeline, events: dict[str, beam.PCollection], label: str = "CacheCounts"
) -> beam.PCollection:
    """``(event, 1)`` per element of each collection in ``events``, plus ``(event, 0)`` for
    every event of CACHE_EVENTS, so each appears in the report even when it never happened."""
    unknown = set(events) - set(CACHE_EVENTS)
    if unknown:
        raise ValueError(f"unknown cache events: {sorted(unknown)}")
    ones = [
        pcoll | f"{label}{event.title()}" >> beam.Map(lambda _, e=event: (e, 1))
        for event, pcoll in events.items()
    ]
    zeros = pipeline | f"{label}Zeros" >> beam.Create([(event, 0) for event in CACHE_EVENTS])
    return (*ones, zeros) | f"{label}Flatten" >> beam.Flatten()
