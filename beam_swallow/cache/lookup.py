"""The cache lookup as part of the graph: records joined with cache entries by key.

::

    (key, item) --+
                  +-- CoGroupByKey --> hits   (key, item, value)
    entries ------+                --> misses (key, item)

The entries are read from the stage's cache directory by a Beam file read and
shuffled with the records: no side input holds the cache, no record makes a
remote call. An item whose key is ``None`` (a record that cannot be keyed, e.g.
one without a string text) is a miss without a key: the stage handles it as
usual and nothing of it is written. When several entries share a key (two
runs computed the same work), the one with the smallest canonical JSON is
taken, so a lookup never depends on file or bundle order.

Counters (namespace ``beam_swallow``): ``<stage>.cache_hits``,
``<stage>.cache_misses``, and ``<stage>.cache_corrupt`` from the read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from beam_swallow.cache.entries import digest
from beam_swallow.cache.files import CORRUPT, ENTRIES, ReadCache
from beam_swallow.stage import METRICS_NAMESPACE

__all__ = ["CacheLookup", "Lookup"]

_ITEMS = "items"
_MISS = "miss"


class Lookup(NamedTuple):
    """What a lookup found: hits ``(key, item, value)``, misses ``(key | None, item)``,
    and the paths of corrupt entry lines read (one element per line)."""

    hits: beam.PCollection
    misses: beam.PCollection
    corrupt: beam.PCollection


class _Split(beam.DoFn):
    def __init__(self, stage: str):
        self._hits = Metrics.counter(METRICS_NAMESPACE, f"{stage}.cache_hits")
        self._misses = Metrics.counter(METRICS_NAMESPACE, f"{stage}.cache_misses")

    def process(self, grouped: tuple[str, dict[str, Iterable[Any]]]) -> Iterator[Any]:
        key, joined = grouped
        items = list(joined[_ITEMS])
        if not items:
            return
        values = list(joined[ENTRIES])
        if not values:
            self._misses.inc(len(items))
            for item in items:
                yield pvalue.TaggedOutput(_MISS, (key, item))
            return
        value = min(values, key=digest)
        self._hits.inc(len(items))
        for item in items:
            yield key, item, value


class _CountMisses(beam.DoFn):
    def __init__(self, stage: str):
        self._misses = Metrics.counter(METRICS_NAMESPACE, f"{stage}.cache_misses")

    def process(self, pair: tuple[None, Any]) -> Iterator[tuple[None, Any]]:
        self._misses.inc()
        yield pair


class CacheLookup(beam.PTransform):
    """Join ``(key, item)`` pairs with the entries under ``directory``; returns a :class:`Lookup`."""

    def __init__(self, directory: str, stage: str):
        super().__init__()
        self._directory = directory
        self._stage = stage

    def expand(self, keyed: beam.PCollection) -> Lookup:
        read = keyed.pipeline | "ReadCache" >> ReadCache(self._directory, self._stage)
        keyable, unkeyable = keyed | "Keyable" >> beam.Partition(
            lambda pair, _: int(pair[0] is None), 2
        )
        unkeyed_misses = unkeyable | "CountUnkeyable" >> beam.ParDo(_CountMisses(self._stage))
        split = (
            {_ITEMS: keyable, ENTRIES: read[ENTRIES]}
            | "Join" >> beam.CoGroupByKey()
            | "Split" >> beam.ParDo(_Split(self._stage)).with_outputs(_MISS, main="hits")
        )
        misses = (split[_MISS], unkeyed_misses) | "Misses" >> beam.Flatten()
        return Lookup(split["hits"], misses, read[CORRUPT])
