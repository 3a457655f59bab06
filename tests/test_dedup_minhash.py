"""MinHash pieces without Beam: tokens, shingles, signatures, bands, config."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from beam_swallow.dedup.keep import rank_key
from beam_swallow.dedup.minhash import (
    MinhashConfig,
    _sketch,
    band_keys,
    estimate_jaccard,
    estimate_jaccard_low_bytes,
    jaccard,
    low_bytes,
    shingle_hashes,
    signature,
    text_window_hashes,
    tokenize,
    window_hashes,
)
from beam_swallow.samples import code_sample_records
from beam_swallow.testing.planted import mutate


def test_tokenizer_splits_identifiers_numbers_and_symbols():
    assert tokenize("x_1 = foo(3.5)+ bar[i]") == [
        "x_1", "=", "foo", "(", "3", ".", "5", ")", "+", "bar", "[", "i", "]",
    ]  # fmt: skip
    assert tokenize("  \n\t ") == []


def test_substring_keeps_interior_tokens():
    text = "result = compute_total(values, 42) * scale"
    part = text[5:]  # cuts the first identifier
    assert tokenize(part)[1:] == tokenize(text)[1:]


def test_shingles_ignore_whitespace_and_are_stable():
    a = shingle_hashes("def f(a, b):\n    return a + b\n", 5)
    b = shingle_hashes("def f(a,b):\n  return a+b", 5)
    assert a.dtype == np.uint32 and np.array_equal(a, b)
    assert np.all(np.diff(a.astype(np.int64)) > 0)  # sorted, distinct
    assert shingle_hashes("", 5).size == 0
    assert shingle_hashes("x", 5).size == 1  # shorter than a shingle: one shingle
    assert window_hashes(tokenize("a b c d e f"), 5).size == 2


def _reference_window_hashes(tokens: list[str], shingle_size: int) -> list[int]:
    """The window hashes' definition, one token and one window at a time in plain ints."""
    mask = (1 << 64) - 1
    codes = []
    for token in tokens:
        code = sum(ord(c) * pow(0x9E3779B97F4A7C15, j, 1 << 64) for j, c in enumerate(token))
        codes.append((code + len(token)) & mask)
    width = min(shingle_size, len(codes))
    hashes = []
    for start in range(len(codes) - width + 1 if codes else 0):
        h = 0
        for code in codes[start : start + width]:
            h = (h * 0x100000001B3 + code) & mask
        h ^= h >> 30
        h = (h * 0xBF58476D1CE4E5B9) & mask
        h ^= h >> 27
        h = (h * 0x94D049BB133111EB) & mask
        hashes.append((h ^ (h >> 31)) >> 32)
    return hashes


def test_window_hashes_follow_their_definition_over_the_tokens_of_tokenize():
    # the compiled scan must find the regex's tokens on real code and on every
    # Unicode code point (identifier letters, digits, spaces, symbols), and
    # hash them as defined; short texts take the one-shingle path
    every = [chr(c) for c in range(0x110000)]
    random.Random(2).shuffle(every)
    texts = [r["text"] for r in code_sample_records(60)]
    texts += ["".join(every[i : i + 50_000]) for i in range(0, len(every), 50_000)]
    texts += ["caf\u00e9 = \u540d\u524d + x\u00b2 \ud800 \u0663\u0664\u2028end"]
    texts += ["", " \n", "x", "a+b", "\u00e9t\u00e9 ", "a b c d e f"]
    for text in texts:
        tokens = tokenize(text)
        expected = _reference_window_hashes(tokens, 5)
        assert text_window_hashes(text, 5).tolist() == expected
        assert window_hashes(tokens, 5).tolist() == expected
        assert shingle_hashes(text, 5).tolist() == sorted(set(expected))


def test_signature_estimates_exact_jaccard():
    cfg = MinhashConfig()
    texts = [r["text"] for r in code_sample_records(40) if len(r["text"]) > 3000][:10]
    rng = random.Random(1)
    errors = []
    for text in texts:
        for rate in (0.05, 0.2, 0.5):
            a, b = shingle_hashes(text, 5), shingle_hashes(mutate(text, rate, rng), 5)
            exact = jaccard(a, b)
            estimate = estimate_jaccard(signature(a, cfg), signature(b, cfg))
            errors.append(abs(exact - estimate))
    # standard error at 256 permutations is at most 0.031; the mean error is below it
    assert np.mean(errors) < 0.031
    assert max(errors) < 0.13


@pytest.mark.parametrize("size", [3, 40, 200])
def test_densified_bins_stay_unbiased_on_small_sets(size):
    # sets with fewer shingles than bins: most bins borrow; over many random
    # pairs of Jaccard exactly 1/3 the estimate must center on 1/3
    cfg = MinhashConfig()
    estimates = []
    for trial in range(200):
        rng = np.random.default_rng([size, trial])
        pool = rng.choice(2**32, size=3 * size, replace=False).astype(np.uint32)
        a, b = np.sort(pool[: 2 * size]), np.sort(pool[size:])
        assert jaccard(a, b) == pytest.approx(1 / 3)
        estimates.append(estimate_jaccard(signature(a, cfg), signature(b, cfg)))
    assert np.mean(estimates) == pytest.approx(1 / 3, abs=0.02)
    # spread as with 256 independent permutations (sqrt(J(1-J)/256) = 0.029),
    # not that of a few borrowed bins
    assert np.std(estimates) < 0.045


def test_signature_is_deterministic_and_order_free():
    cfg = MinhashConfig(num_perm=64, bands=8, rows=8)
    shingles = np.unique(np.arange(100_000, dtype=np.uint32) * np.uint32(2654435761))
    first = signature(shingles, cfg)
    again = signature(shingles, MinhashConfig(num_perm=64, bands=8, rows=8))
    shuffled = np.random.default_rng(0).permutation(np.concatenate([shingles, shingles[:99]]))
    assert np.array_equal(first, again)
    assert np.array_equal(first, signature(shuffled, cfg))  # order, duplicates
    assert not np.array_equal(
        first, signature(shingles, MinhashConfig(seed=7, num_perm=64, bands=8, rows=8))
    )
    # with every bin filled in both halves, bin minima merge like MinHash's
    half = signature(shingles[::2], cfg)
    other = signature(shingles[1::2], cfg)
    assert np.array_equal(first, np.minimum(half, other))
    text = code_sample_records(1)[0]["text"]
    windows = text_window_hashes(text, 5)  # every window, repeats kept
    assert windows.size > shingle_hashes(text, 5).size
    assert np.array_equal(signature(windows, cfg), signature(shingle_hashes(text, 5), cfg))
    single = signature(shingles[:1], cfg)
    assert np.all(single == single[0])  # one shingle fills every bin
    empty = signature(np.empty(0, dtype=np.uint32), cfg)
    assert np.all(empty == 0xFFFFFFFF)


def _reference_signature(shingles: list[int], cfg: MinhashConfig) -> list[int]:
    """The signature's definition, one bin and one borrowing at a time in plain ints."""

    def mix32(h: int) -> int:
        h ^= h >> 16
        h = (h * 0x85EBCA6B) & 0xFFFFFFFF
        h ^= h >> 13
        h = (h * 0xC2B2AE35) & 0xFFFFFFFF
        return h ^ (h >> 16)

    rotation, salt = (int(v) for v in _sketch(cfg.num_perm, cfg.seed))
    bins: dict[int, int] = {}
    for h in shingles:
        permuted = (h + rotation) & 0xFFFFFFFF
        b = permuted * cfg.num_perm >> 32
        bins[b] = min(bins.get(b, permuted), permuted)
    if not bins:
        return [0xFFFFFFFF] * cfg.num_perm
    return [
        bins[e]
        if e in bins
        else bins[min(bins, key=lambda d: mix32((e * cfg.num_perm + d) ^ salt))]
        for e in range(cfg.num_perm)
    ]


@pytest.mark.parametrize("num_perm", [256, 100])
def test_signature_follows_its_definition_in_every_densification_path(num_perm):
    # few filled bins (smallest key at once), many (walking the orders), all; a
    # power of two (bins by shift) and not (bins by multiply); the all-ones hash
    cfg = MinhashConfig(num_perm=num_perm, bands=10, rows=10)
    rotation = int(_sketch(num_perm, cfg.seed)[0])
    rng = random.Random(num_perm)
    for size in (1, 5, 40, 70, 200, 600, 3000):
        shingles = [rng.getrandbits(32) for _ in range(size)]
        if size == 5:
            shingles.append((0xFFFFFFFF - rotation) & 0xFFFFFFFF)
        got = signature(np.array(shingles, dtype=np.uint32), cfg)
        assert got.tolist() == _reference_signature(shingles, cfg), size


def test_signature_is_the_same_in_another_process():
    script = (
        "from beam_swallow.dedup.minhash import MinhashConfig, shingle_hashes, signature\n"
        "from beam_swallow.samples import code_sample_records\n"
        "text = code_sample_records(1)[0]['text']\n"
        "print(signature(shingle_hashes(text, 5), MinhashConfig()).tobytes().hex())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    child = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    text = code_sample_records(1)[0]["text"]
    assert (
        child.stdout.strip() == signature(shingle_hashes(text, 5), MinhashConfig()).tobytes().hex()
    )


def test_band_keys_match_only_on_equal_bands():
    sig = np.arange(256, dtype=np.uint32)
    other = sig.copy()
    other[0] += 1  # changes band 0 only
    keys, other_keys = band_keys(sig, 32, 8), band_keys(other, 32, 8)
    assert len(keys) == 32 and len(set(keys)) == 32
    assert keys[0] != other_keys[0] and keys[1:] == other_keys[1:]


@pytest.mark.parametrize(
    ("bands", "rows", "expected"),
    [(14, 8, 0.72), (20, 13, 0.79), (25, 10, 0.72), (32, 8, 0.65)],
)
def test_lsh_threshold_matches_peer_table(bands, rows, expected):
    cfg = MinhashConfig(num_perm=max(256, bands * rows), bands=bands, rows=rows)
    assert cfg.lsh_threshold == pytest.approx(expected, abs=0.01)


def test_default_curve_catches_pairs_above_threshold():
    cfg = MinhashConfig()
    assert cfg.candidate_probability(cfg.threshold + 0.05) > 0.95


@pytest.mark.parametrize(
    "kwargs",
    [{"bands": 40, "rows": 8}, {"threshold": 0.0}, {"verify": "maybe"}, {"shingle_size": 0}],
)
def test_config_rejects_impossible_values(kwargs):
    with pytest.raises(ValueError):
        MinhashConfig(**kwargs)


def test_rank_key_orders_by_id_or_quality():
    a = {"id": "b", "quality_score": 9.0}
    b = {"id": "a", "quality_score": 7.5}
    c = {"id": "0", "quality_score": "n/a"}
    assert min([a, b, c], key=lambda r: rank_key(r, "smallest_id")) is c
    assert min([a, b, c], key=lambda r: rank_key(r, "best")) is a
    assert json.dumps(rank_key(c, "best")) == '[Infinity, "0"]'
    with pytest.raises(ValueError):
        rank_key(a, "largest")


def test_low_byte_signatures_estimate_what_full_ones_do():
    """b-bit signatures (b = 8), as streaming near_dedup keeps them in state: on real files
    and their edited copies the estimate stays within a few points of the full one."""
    cfg = MinhashConfig()
    rng = random.Random(4)
    gaps = []
    for record in code_sample_records(40, max_bytes=20_000):
        text = record["text"]
        for other in (text, mutate(text, 0.1, rng), mutate(text, 0.4, rng)):
            a = signature(text_window_hashes(text, cfg.shingle_size), cfg)
            b = signature(text_window_hashes(other, cfg.shingle_size), cfg)
            full = estimate_jaccard(a, b)
            low = estimate_jaccard_low_bytes(low_bytes(a), low_bytes(b))
            if other is text:
                assert low == 1.0
            gaps.append(low - full)
    assert max(abs(gap) for gap in gaps) < 0.05
    assert abs(sum(gaps) / len(gaps)) < 0.01  # no bias
