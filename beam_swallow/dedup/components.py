"""Connected components of a graph of duplicate pairs, as Beam transforms.

Beam graphs cannot loop, so the rounds are unrolled: ``rounds`` times the
alternating Large-Star / Small-Star steps of Kiveris et al. ("Connected
Components in MapReduce and Beyond", 2014), each one GroupByKey over edges,
then one labelling step. Nodes are any totally ordered, deterministically
encodable values (here :data:`~beam_swallow.dedup.keep.Rank` tuples); a
component's label is its smallest node, whatever the bundle order.

- Large-Star: every node links its larger neighbours to the smallest node of
  its neighbourhood.
- Small-Star: every node links itself and its smaller neighbours to the
  smallest of them.

Each pair of steps shrinks every component's depth; once a component is a
star around its minimum it stays one. Near-duplicate graphs start shallow
(LSH buckets emit star edges to their smallest member), so a few rounds
suffice (a shuffled chain of 64 nodes converges within the default 6). If
``rounds`` is too few for some component it is *under*-merged, never over-merged: every label is a node of
the node's own component, and the component's minimum always labels itself,
so each piece keeps a representative. The counter
``<stage>.cc_unconverged`` counts nodes left outside a star.

A cluster of 100,000 near-copies is a star of 100,000 edges around its
smallest member: that member's GroupByKey value holds 100,000 neighbours
(a few MB), one hot key per cluster, bounded by the cluster's size and not
the corpus's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from beam_swallow.stage import METRICS_NAMESPACE

__all__ = ["ConnectedComponents", "large_star", "small_star", "star_label"]

Node = Any
Edge = tuple[Node, Node]


def _both_ways(edge: Edge) -> Iterator[Edge]:
    u, v = edge
    yield u, v
    yield v, u


def _to_larger(edge: Edge) -> Edge:
    u, v = edge
    return (v, u) if u < v else (u, v)


def large_star(item: tuple[Node, Iterable[Node]]) -> Iterator[Edge]:
    """Link every larger neighbour of ``u`` to the minimum of ``u``'s neighbourhood."""
    u, neighbours = item
    others = set(neighbours)
    others.discard(u)
    if not others:
        return
    smallest = min(min(others), u)
    for v in others:
        if v > u:
            yield smallest, v


def small_star(item: tuple[Node, Iterable[Node]]) -> Iterator[Edge]:
    """Link ``u`` and its smaller neighbours to the smallest of them."""
    u, smaller = item
    group = set(smaller)
    group.add(u)
    smallest = min(group)
    for v in group:
        if v != smallest:
            yield smallest, v


def star_label(stage: str, item: tuple[Node, Iterable[Node]]) -> tuple[Node, Node]:
    """``(node, label)``: the smallest node among ``u`` and its neighbours."""
    u, neighbours = item
    others = set(neighbours)
    others.discard(u)
    label = min(min(others), u) if others else u
    if label != u and len(others) > 1:
        Metrics.counter(METRICS_NAMESPACE, f"{stage}.cc_unconverged").inc()
    return u, label


class ConnectedComponents(beam.PTransform):
    """Edges ``(u, v)`` -> ``(node, label)`` for every node on an edge."""

    def __init__(self, stage: str, rounds: int):
        super().__init__()
        if rounds <= 0:
            raise ValueError(f"rounds must be positive, got {rounds}")
        self._stage = stage
        self._rounds = rounds

    def expand(self, edges: beam.PCollection) -> beam.PCollection:
        for number in range(self._rounds):
            edges = (
                edges
                | f"LargeOut{number}" >> beam.FlatMap(_both_ways)
                | f"LargeGroup{number}" >> beam.GroupByKey()
                | f"LargeStar{number}" >> beam.FlatMap(large_star)
                | f"SmallOut{number}" >> beam.Map(_to_larger)
                | f"SmallGroup{number}" >> beam.GroupByKey()
                | f"SmallStar{number}" >> beam.FlatMap(small_star)
            )
        return (
            edges
            | "LabelOut" >> beam.FlatMap(_both_ways)
            | "LabelGroup" >> beam.GroupByKey()
            | "Label" >> beam.Map(lambda item, stage=self._stage: star_label(stage, item))
        )
