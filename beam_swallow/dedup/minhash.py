"""MinHash over code-aware token shingles: pure functions, no Beam.

One frozen :class:`MinhashConfig` feeds every sub-step (shingling, signing,
banding, verification) of ``near_dedup`` and the similarity test of
``decontaminate``, so the two can never disagree about what "similar" means.

Tokens are runs of word characters (identifiers and numbers alike) and single
symbol characters; whitespace only separates. Because a word run can only be
cut at its ends, any substring of a text tokenizes to the text's own tokens
except for the first and last one: ``decontaminate`` relies on that.

From text to window hashes is one pass over the code points, in C
(``_scan.c``; a Python step per token or shingle is where the time went, and
array steps cost ~10 passes over each text; see BENCHMARKS.md):

- tokens: each code point's class (space, word, symbol) comes from a table
  built once from the token regex itself;
- token codes: a 64-bit polynomial of each token's code points plus its
  length, so a code does not depend on the token's place;
- shingle hashes: a polynomial over each window of ``shingle_size`` token
  codes, a 64-bit finalizer, the high 32 bits;
- signature: one-permutation hashing with optimal densification (Li, Owen
  & Zhang 2012; Shrivastava 2017): the hashes, rotated by a seeded offset,
  fall into ``num_perm`` equal ranges, and each range keeps its smallest
  hash (no sort: ``near_dedup`` signs the unsorted window hashes, repeats
  and all); each empty range borrows from the first filled one in its own
  fixed pseudo-random order, orders built once per config so signing only
  looks them up. This is O(shingles + num_perm) where
  ``num_perm`` independent permutations cost O(shingles x num_perm). Each
  value still matches between two sets with probability equal to their
  Jaccard similarity; the measured estimation error is no larger than with
  ``num_perm`` independent permutations (``bench/dedup.py``).

Defaults and the LSH threshold: with ``b`` bands of ``r`` rows, two documents
of Jaccard ``s`` share a bucket with probability ``1 - (1 - s**r)**b``; the
curve's knee is about ``(1/b)**(1/r)``. Ours: 32 x 8 (256 hashes, the paper's
decontamination setting) gives ~0.65, below the similarity threshold 0.7 on
purpose: a pair at 0.75 becomes a candidate with probability ~0.97, and the
verification step (estimated or exact Jaccard >= 0.7) removes the candidates
below 0.7. (The curve assumes independent rows; bins of one set are close to
that, and a small set's borrowed bins repeat values, which only makes it a
candidate more often.) Peers without that verification set the knee at the threshold:
datatrove 14 x 8 (~0.72), NeMo Curator 20 x 13 (~0.79), data-juicer 25 x 10 (~0.72).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

import numpy as np

from beam_swallow.dedup import _scan

__all__ = [
    "VERIFY_MODES",
    "MinhashConfig",
    "band_keys",
    "distinct_hashes",
    "estimate_jaccard",
    "jaccard",
    "shingle_hashes",
    "signature",
    "text_window_hashes",
    "tokenize",
    "window_hashes",
]

VERIFY_MODES = ("none", "minhash", "exact")

_TOKEN = re.compile(r"\w+|[^\w\s]")
_MIX3 = np.uint32(0x85EBCA6B)
_MIX4 = np.uint32(0xC2B2AE35)
_EMPTY = np.uint32(0xFFFFFFFF)
_MAX_PERM = 1 << 16  # bins are numbered in 16 bits in the borrowing tables


@dataclass(frozen=True)
class MinhashConfig:
    """Everything MinHash-related, shared by near_dedup and decontaminate.

    ``bands * rows`` hashes of the ``num_perm`` drive LSH; all ``num_perm``
    estimate similarity. ``verify``: ``none`` (every LSH candidate pair is a
    duplicate), ``minhash`` (estimated Jaccard >= ``threshold``), ``exact``
    (exact Jaccard of the shingle sets >= ``threshold``).
    """

    shingle_size: int = 5
    num_perm: int = 256
    bands: int = 32
    rows: int = 8
    threshold: float = 0.7
    verify: str = "minhash"
    cc_rounds: int = 6
    seed: int = 2505_02881

    def __post_init__(self) -> None:
        for name in ("shingle_size", "num_perm", "bands", "rows", "cc_rounds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.num_perm > _MAX_PERM:
            raise ValueError(f"num_perm must be at most {_MAX_PERM}, got {self.num_perm}")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"--bands x --rows = {self.bands * self.rows} exceeds --num_perm = {self.num_perm}"
            )
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.verify not in VERIFY_MODES:
            raise ValueError(f"verify must be one of {VERIFY_MODES}, got {self.verify!r}")

    @property
    def lsh_threshold(self) -> float:
        """The knee of the banding S-curve, ``(1/bands) ** (1/rows)``."""
        return (1.0 / self.bands) ** (1.0 / self.rows)

    def candidate_probability(self, similarity: float) -> float:
        """Probability that a pair of this Jaccard shares at least one band."""
        return 1.0 - (1.0 - similarity**self.rows) ** self.bands


def tokenize(text: str) -> list[str]:
    """Identifiers, numbers (word runs) and single symbols; whitespace dropped.

    The definition of a token; :func:`shingle_hashes` finds the same tokens
    without making strings of them.
    """
    return _TOKEN.findall(text)


@functools.cache
def _char_classes() -> np.ndarray:
    """The class (space, word, symbol) of every code point, as ``_TOKEN`` sees it.

    Built once per process (~50 ms, 1.1 MB) by running the token pattern's own
    character classes over a string of every code point, so the scan
    (``_scan.c``) can never disagree with :func:`tokenize`.
    """
    every = (
        np.arange(_scan.CODE_POINTS, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    )
    table = np.full(_scan.CODE_POINTS, _scan.SYMBOL, dtype=np.uint8)
    for pattern, cls in ((r"\w+", _scan.WORD), (r"\s+", _scan.SPACE)):
        for match in re.finditer(pattern, every):
            table[match.start() : match.end()] = cls
    return table


def window_hashes(tokens: list[str], shingle_size: int) -> np.ndarray:
    """The 32-bit hash of the shingle starting at each token position, in order.

    ``tokens`` as :func:`tokenize` gives them (no whitespace inside a token).
    Fewer tokens than one shingle make one shingle of all of them; no tokens,
    none. Equal to what :func:`shingle_hashes` computes for the same tokens.
    """
    return text_window_hashes(" ".join(tokens), shingle_size)


def text_window_hashes(text: str, shingle_size: int) -> np.ndarray:
    """:func:`window_hashes` of the text's tokens: every shingle, in order, repeats kept.

    All that :func:`signature` needs, so the cheapest input to it. The
    definition, which ``_scan.c`` computes in one pass (arithmetic modulo
    2**64, ``P = 0x9E3779B97F4A7C15``):

    - a token's code: ``sum(ord(c_j) * P**j) + len(token)`` over its
      characters ``c_j``; a symbol's is thus ``ord(c) + 1``;
    - a window's hash: its ``shingle_size`` codes combined by Horner's rule
      with multiplier ``0x100000001B3``, SplitMix64's 64-bit finalizer, the
      high 32 bits.

    Returns uint32 of shape ``(max(tokens - shingle_size + 1, 1),)``, or
    ``(0,)`` for a text without tokens.
    """
    hashes = _scan.window_hashes(text, _char_classes(), shingle_size)
    return np.frombuffer(hashes, dtype=np.uint32)


def distinct_hashes(hashes: np.ndarray) -> np.ndarray:
    """The sorted distinct values (``np.unique``'s result, faster on small arrays)."""
    ordered = np.sort(hashes)
    first = np.empty(ordered.size, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def shingle_hashes(text: str, shingle_size: int) -> np.ndarray:
    """The sorted, distinct 32-bit hashes of the text's token shingles."""
    return distinct_hashes(text_window_hashes(text, shingle_size))


def _mix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h *= _MIX3
    h ^= h >> np.uint32(13)
    h *= _MIX4
    return h ^ (h >> np.uint32(16))


@functools.cache
def _sketch(num_perm: int, seed: int) -> tuple[np.uint32, np.uint32]:
    """The seeded rotation (the one permutation) and the densification salt."""
    rng = np.random.default_rng(seed)
    rotation, borrow_salt = rng.integers(0, 2**32, size=2, dtype=np.uint64)
    return np.uint32(rotation), np.uint32(borrow_salt)


@functools.cache
def _borrow_keys(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each bin's fixed pseudo-random order of all bins, as ranks and as a list.

    ``ranks[e, d]`` is where bin ``d`` stands in empty bin ``e``'s order
    (0 first); ``order[e]`` lists the bins in that order. Built once per config
    so signing only looks them up; 16-bit entries (``num_perm`` <= ``_MAX_PERM``),
    256 KB in all at 256, small enough to stay in cache beside the tokenizer's
    tables.
    """
    _, borrow_salt = _sketch(num_perm, seed)
    bins = np.arange(num_perm, dtype=np.uint32)
    keys = _mix32((bins[:, None] * np.uint32(num_perm) + bins[None, :]) ^ borrow_salt)
    order = np.argsort(keys, axis=1).astype(np.uint16)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order.astype(np.intp), bins.astype(np.uint16)[None, :], axis=1)
    return ranks, order


def _bins(permuted: np.ndarray, num_perm: int) -> np.ndarray:
    """The bin of each permuted hash: ``h * num_perm >> 32``, a shift for a power of two."""
    if num_perm & (num_perm - 1) == 0:
        return permuted >> np.uint32(32 - num_perm.bit_length() + 1)
    return ((permuted.astype(np.uint64) * np.uint64(num_perm)) >> np.uint64(32)).astype(np.intp)


def _densify(sig: np.ndarray, filled: np.ndarray, num_perm: int, seed: int) -> None:
    """Give each empty bin the value of the first filled bin in its own order.

    With many filled bins, walk the orders column by column (a quarter or more
    filled: each step settles that share of the pending bins, a few steps in
    all); with few, take the smallest key among the filled bins at once.
    """
    ranks, order = _borrow_keys(num_perm, seed)
    empty = np.flatnonzero(~filled)
    donors = np.flatnonzero(filled)
    if donors.size * 4 < num_perm:
        sig[empty] = sig[donors[ranks[empty[:, None], donors].argmin(axis=1)]]
        return
    for column in order.T:
        candidates = column[empty]
        found = filled[candidates]
        sig[empty[found]] = sig[candidates[found]]
        empty = empty[~found]
        if empty.size == 0:
            return


def signature(shingles: np.ndarray, cfg: MinhashConfig) -> np.ndarray:
    """The ``num_perm``-value MinHash signature (uint32) of a set of shingle hashes.

    One-permutation hashing: the 32-bit range is split into ``num_perm``
    equal bins and each bin's value is its smallest (permuted) hash, one
    ``np.minimum.at``, no sort. The permutation is a seeded rotation
    ``h + r mod 2**32``, enough because shingle hashes are avalanche-mixed
    already. An empty bin borrows the value of the non-empty bin that ranks
    first in its own fixed pseudo-random order of all bins ("optimal
    densification"; the orders are built once, :func:`_borrow_keys`). Two
    sets agree in a bin with probability equal to their
    Jaccard similarity, empty bins included, and a value carries its bin
    (its high bits), so a borrowed value never equals a bin's own value.
    Order and repeats in ``shingles`` do not matter. An empty set gets
    all-ones, so two empty texts look identical and nothing else does.
    """
    rotation, _ = _sketch(cfg.num_perm, cfg.seed)
    sig = np.full(cfg.num_perm, _EMPTY, dtype=np.uint32)
    if shingles.size == 0:
        return sig
    permuted = shingles.astype(np.uint32, copy=False) + rotation
    np.minimum.at(sig, _bins(permuted, cfg.num_perm), permuted)
    filled = sig != _EMPTY
    if not filled[-1]:  # all-ones is also a real hash, and only the last bin holds it
        filled[-1] = bool((permuted == _EMPTY).any())
    if not filled.all():
        _densify(sig, filled, cfg.num_perm, cfg.seed)
    return sig


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[bytes]:
    """One shuffle key per band: the band number and a 64-bit digest of its rows."""
    keys = []
    for band in range(bands):
        rows_bytes = sig[band * rows : (band + 1) * rows].tobytes()
        digest = hashlib.blake2b(rows_bytes, digest_size=8).digest()
        keys.append(band.to_bytes(2, "big") + digest)
    return keys


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The fraction of signature values (bins) that agree."""
    return float(np.count_nonzero(sig_a == sig_b)) / sig_a.size


_LOW_BYTE_COLLISION = 1.0 / 256  # two different hash values agree in their lowest byte


def low_bytes(sig: np.ndarray) -> bytes:
    """The lowest byte of each signature value: a quarter of the size, for signatures
    kept in state (b-bit minwise hashing with b = 8, Li and Koenig, WWW 2010)."""
    return sig.astype(np.uint8).tobytes()


def estimate_jaccard_low_bytes(a: bytes, b: bytes) -> float:
    """Estimated Jaccard of two :func:`low_bytes` signatures: the fraction that agree,
    less the 1/256 chance that two different values share their lowest byte
    (Li and Koenig's unbiased estimator for b = 8)."""
    x = np.frombuffer(a, dtype=np.uint8)
    y = np.frombuffer(b, dtype=np.uint8)
    agree = np.count_nonzero(x == y) / x.size
    return max(0.0, (agree - _LOW_BYTE_COLLISION) / (1.0 - _LOW_BYTE_COLLISION))


def jaccard(shingles_a: np.ndarray, shingles_b: np.ndarray) -> float:
    """Exact Jaccard of two sorted distinct shingle-hash arrays (1.0 if both empty)."""
    if shingles_a.size == 0 and shingles_b.size == 0:
        return 1.0
    common = np.intersect1d(shingles_a, shingles_b, assume_unique=True).size
    return common / (shingles_a.size + shingles_b.size - common)
