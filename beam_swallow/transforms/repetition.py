"""Detect degenerate output: a long chunk of text repeated back to back.

After SGCR the original pipeline drops outputs of 1,000 characters or more in
which some chunk of 100 or more characters is immediately followed by itself,
the typical loop of a model that lost its way. It tests this with a
backtracking regular expression, ``(.{100,})\\1``, which takes minutes on long
outputs. :func:`has_long_repeat` answers the same question (over any
characters, newlines included) in O(n log n) time.

Method. A chunk of length ``L`` repeated at ``i`` means ``text[p] ==
text[p + L]`` for the ``L`` positions ``p`` in ``[i, i + L)``. Any ``L``
consecutive positions hold exactly one multiple of ``L``, so it suffices to
look around the anchors ``j = 0, L, 2L, ...``: a repeat of period ``L`` covers
anchor ``j`` exactly when the matching run forward from ``(j, j + L)`` plus the
run backward from ``(j - 1, j + L - 1)`` is at least ``L`` long. There are
about ``n ln(n / 2m)`` anchors for all periods ``L >= m``. Run lengths come
from a binary search on polynomial prefix hashes, vectorised over anchors with
numpy. Hashing can only over-estimate a run, never miss one, and every hit is
confirmed by comparing the characters, so the answer is exact.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["has_long_repeat"]

_MOD = (1 << 31) - 1  # keeps every product of two residues below 2**62
_BASE = 911_382_323
_BATCH = 1 << 17  # anchors examined per vectorised step, bounding memory


def _prefix_hashes(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``h[k]`` hashes ``text[:k]``; ``power[k]`` is ``BASE**k`` (both mod ``_MOD``)."""
    h = [0] * (len(text) + 1)
    power = [1] * (len(text) + 1)
    value, scale = 0, 1
    for index, char in enumerate(text):
        value = (value * _BASE + ord(char)) % _MOD
        scale = scale * _BASE % _MOD
        h[index + 1] = value
        power[index + 1] = scale
    return np.array(h, dtype=np.uint64), np.array(power, dtype=np.uint64)


def _span_hash(
    h: np.ndarray, power: np.ndarray, start: np.ndarray, length: np.ndarray
) -> np.ndarray:
    """Hash of ``text[start:start + length]``, per element."""
    mod = np.uint64(_MOD)
    return (h[start + length] + mod - h[start] * power[length] % mod) % mod


def _agreement(
    h: np.ndarray,
    power: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    cap: np.ndarray,
    backward: bool = False,
) -> np.ndarray:
    """Per pair, how far the text at ``left`` and at ``right`` agrees, at most ``cap``.

    Forward compares ``text[left:left + k]`` with ``text[right:right + k]``;
    backward compares the ``k`` characters before each position. A binary
    search on hashes: equal text always hashes equal, so the result is never
    short of the true run (a collision can only make it longer).
    """
    low = np.zeros_like(cap)
    high = cap.copy()
    while (open_ := low < high).any():
        mid = np.where(open_, (low + high + 1) // 2, low)
        shift = mid if backward else 0
        same = _span_hash(h, power, left - shift, mid) == _span_hash(h, power, right - shift, mid)
        low = np.where(open_ & same, mid, low)
        high = np.where(open_ & ~same, mid - 1, high)
    return low


def _confirmed(text: str, anchor: int, period: int) -> bool:
    """The exact check behind a hashing hit: does a repeat of ``period`` cover ``anchor``?"""
    forward = 0
    forward_cap = min(period, len(text) - anchor - period)
    while forward < forward_cap and text[anchor + forward] == text[anchor + period + forward]:
        forward += 1
    backward = 0
    backward_cap = min(period, anchor)
    while (
        backward < backward_cap
        and text[anchor - 1 - backward] == text[anchor + period - 1 - backward]
    ):
        backward += 1
    return forward + backward >= period


def _anchors(n: int, min_chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(anchor, period)`` arrays for every period >= min_chunk, in batches."""
    anchors: list[np.ndarray] = []
    periods: list[np.ndarray] = []
    size = 0
    for period in range(min_chunk, n // 2 + 1):
        starts = np.arange(0, n - period, period, dtype=np.int64)
        anchors.append(starts)
        periods.append(np.full(len(starts), period, dtype=np.int64))
        size += len(starts)
        if size >= _BATCH:
            yield np.concatenate(anchors), np.concatenate(periods)
            anchors, periods, size = [], [], 0
    if anchors:
        yield np.concatenate(anchors), np.concatenate(periods)


def has_long_repeat(text: str, min_chunk: int = 100, min_length: int = 1000) -> bool:
    """True when ``text`` (of at least ``min_length`` chars) holds a chunk of at
    least ``min_chunk`` chars immediately followed by the same chunk."""
    if min_chunk < 1:
        raise ValueError("min_chunk must be at least 1")
    n = len(text)
    if n < max(min_length, 2 * min_chunk):
        return False
    h, power = _prefix_hashes(text)
    for anchor, period in _anchors(n, min_chunk):
        other = anchor + period
        forward = _agreement(h, power, anchor, other, np.minimum(period, n - other))
        backward = _agreement(h, power, anchor, other, np.minimum(period, anchor), backward=True)
        for index in np.flatnonzero(forward + backward >= period):
            if _confirmed(text, int(anchor[index]), int(period[index])):
                return True
    return False
