"""Near-dedup accuracy against brute force: exact Jaccard of every pair.

A pair is *merged* when both records end in the same cluster (the same
representative). Against the exact Jaccard of their shingle sets:

- recall: the share of pairs at or above ``threshold + 0.05`` that are merged;
- false merges: the share of pairs below ``threshold - 0.1`` that are merged,
  over all pairs and over the harder set of pairs of one planted family.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from beam_swallow.dedup.minhash import jaccard, shingle_hashes
from beam_swallow.records import Record

__all__ = ["PairAccuracy", "pair_accuracy"]


@dataclass(frozen=True)
class PairAccuracy:
    """Counts and rates of one accuracy measurement."""

    high_pairs: int
    high_merged: int
    low_pairs: int
    low_merged: int
    low_family_pairs: int
    low_family_merged: int

    @property
    def recall(self) -> float:
        return self.high_merged / self.high_pairs if self.high_pairs else 1.0

    @property
    def false_merge_rate(self) -> float:
        return self.low_merged / self.low_pairs if self.low_pairs else 0.0

    @property
    def family_false_merge_rate(self) -> float:
        return self.low_family_merged / self.low_family_pairs if self.low_family_pairs else 0.0


def pair_accuracy(
    records: list[Record],
    representative: dict[str, str],
    threshold: float,
    shingle_size: int,
) -> PairAccuracy:
    """Score a clustering (id -> representative id) of ``records`` (with ``family``)."""
    shingles = {r["id"]: shingle_hashes(r["text"], shingle_size) for r in records}
    counts = [0] * 6
    for a, b in combinations(records, 2):
        similarity = jaccard(shingles[a["id"]], shingles[b["id"]])
        merged = representative[a["id"]] == representative[b["id"]]
        if similarity >= threshold + 0.05:
            counts[0] += 1
            counts[1] += merged
        elif similarity < threshold - 0.1:
            counts[2] += 1
            counts[3] += merged
            if a.get("family") == b.get("family"):
                counts[4] += 1
                counts[5] += merged
    return PairAccuracy(*counts)
