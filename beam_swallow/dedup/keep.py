"""Which record of a duplicate group is kept: a total order over records.

``smallest_id`` keeps the record with the smallest id; ``best`` keeps the
highest ``quality_score`` (records without a finite score rank last), ties
going to the smallest id. The rank is a ``(float, str)`` tuple so Beam can use
it as a deterministic shuffle key, and the choice never depends on the order
in which bundles arrive.
"""

from __future__ import annotations

import hashlib
import json
import math

from beam_swallow.records import ID, Record

__all__ = [
    "DEFAULT_KEEP",
    "KEEP_CHOICES",
    "Rank",
    "canonical",
    "canonical_digest",
    "check_keep",
    "rank_key",
]

KEEP_CHOICES = ("smallest_id", "best")
DEFAULT_KEEP = "smallest_id"
QUALITY = "quality_score"

Rank = tuple[float, str]


def check_keep(keep: str) -> str:
    """``keep`` itself, or ValueError when it names no keep rule."""
    if keep not in KEEP_CHOICES:
        raise ValueError(f"keep must be one of {KEEP_CHOICES}, got {keep!r}")
    return keep


def rank_key(record: Record, keep: str) -> Rank:
    """The record's place in the keep order: smaller is kept."""
    if keep == "smallest_id":
        return (0.0, str(record[ID]))
    check_keep(keep)
    score = record.get(QUALITY)
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        return (math.inf, str(record[ID]))
    return (-float(score), str(record[ID]))


def canonical(record: Record) -> str:
    """A stable serialization, to order records that share a rank."""
    return json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)


def canonical_digest(record: Record) -> bytes:
    """16 bytes (BLAKE2b) of :func:`canonical`: the same order of tied records, at a
    fixed size, so a shuffle that only breaks ties never carries a second copy of the record."""
    return hashlib.blake2b(
        canonical(record).encode("utf-8", "surrogatepass"), digest_size=16
    ).digest()
