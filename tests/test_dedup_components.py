"""Connected components on the FnApiRunner: chains, stars, several components."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from beam_swallow.dedup.components import ConnectedComponents, large_star, small_star


def _run(edges, rounds, expected):
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        labels = pipeline | beam.Create(edges) | ConnectedComponents("test", rounds)
        assert_that(labels, equal_to(expected))


def test_star_steps():
    assert sorted(large_star((3, [5, 1, 4, 3]))) == [(1, 4), (1, 5)]
    assert sorted(small_star((5, [2, 3]))) == [(2, 3), (2, 5)]


def test_shuffled_chain_of_64_converges_in_default_rounds():
    nodes = [f"n{i:03d}" for i in range(64)]
    order = nodes[::2] + nodes[1::2]  # a chain whose ids are not in path order
    edges = [(order[i + 1], order[i]) for i in range(63)]
    _run(edges, 6, [(n, "n000") for n in nodes])


def test_several_components_and_a_large_star():
    star = [((0.0, "s0000"), (0.0, f"s{i:04d}")) for i in range(1, 2000)]
    pair = [((0.0, "b"), (0.0, "a"))]
    triangle = [((0.0, "x"), (0.0, "y")), ((0.0, "y"), (0.0, "z")), ((0.0, "z"), (0.0, "x"))]
    expected = (
        [((0.0, f"s{i:04d}"), (0.0, "s0000")) for i in range(2000)]
        + [((0.0, "a"), (0.0, "a")), ((0.0, "b"), (0.0, "a"))]
        + [((0.0, n), (0.0, "x")) for n in "xyz"]
    )
    _run(star + pair + triangle, 6, expected)


def test_too_few_rounds_under_merge_but_keep_one_per_piece():
    nodes = [f"n{i:03d}" for i in range(64)]
    edges = [(nodes[i], nodes[i + 1]) for i in range(63)]
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        labels = pipeline | beam.Create(edges) | ConnectedComponents("test", 1)

        def check(pairs):
            label = dict(pairs)
            assert len(label) == 64
            assert label["n000"] == "n000"
            assert all(label[n] <= n for n in nodes)  # labels lie inside the component
            assert len({v for v in label.values()}) > 1  # not converged after one round

        assert_that(labels | beam.combiners.ToList(), lambda lists: check(lists[0]))
