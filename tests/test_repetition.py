"""The repeat detector against a plain reference, on random and adversarial strings."""

from __future__ import annotations

import random
import re

import pytest

from beam_swallow.transforms.repetition import has_long_repeat


def reference(text: str, min_chunk: int, min_length: int) -> bool:
    """The definition, checked directly: every period, every start."""
    n = len(text)
    if n < min_length:
        return False
    return any(
        text[start : start + period] == text[start + period : start + 2 * period]
        for period in range(min_chunk, n // 2 + 1)
        for start in range(n - 2 * period + 1)
    )


@pytest.mark.parametrize("seed", range(8))
def test_random_strings_match_reference(seed):
    rng = random.Random(seed)
    for _ in range(300):
        alphabet = rng.choice(["a", "ab", "abc", "abcdefghij\n "])
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 70)))
        if text and rng.random() < 0.4:  # plant a square of a random period
            start = rng.randrange(len(text))
            period = rng.randint(1, 12)
            text = text[:start] + text[start : start + period] * 2 + text[start + period :]
        min_chunk = rng.randint(1, 9)
        assert has_long_repeat(text, min_chunk, 0) == reference(text, min_chunk, 0), (
            text,
            min_chunk,
        )


def test_matches_the_original_regex_on_small_cases():
    rng = random.Random(99)
    for _ in range(500):
        text = "".join(rng.choice("xy\n") for _ in range(rng.randint(0, 40)))
        expected = re.search(r"(.{4,})\1", text, re.DOTALL) is not None
        assert has_long_repeat(text, 4, 0) == expected, text


def test_paper_thresholds():
    rng = random.Random(3)
    chunk = "".join(rng.choice("abcdefgh") for _ in range(100))
    filler = "".join(rng.choice("abcdefgh") for _ in range(900))
    assert has_long_repeat(filler + chunk + chunk)
    assert not has_long_repeat(filler + chunk[:99] + chunk[:99])  # chunk under 100
    assert not has_long_repeat(chunk + chunk)  # 200 chars: under 1,000, never checked
    assert not has_long_repeat(filler + chunk + "!" + chunk)  # not back to back


def test_adversarial_near_misses():
    # Periodic text that breaks one character before a full second copy.
    base = "".join(random.Random(5).choice("ab") for _ in range(150))
    almost = base + base[:149] + "c" + base
    assert has_long_repeat(almost, 100, 0) == reference(almost, 100, 0)
    # Long runs of one character; Fibonacci words (many squares, of Fibonacci periods).
    assert has_long_repeat("z" * 5000)
    fib = ["a", "ab"]
    while len(fib[-1]) < 400:
        fib.append(fib[-1] + fib[-2])
    word = fib[-1][:400]
    for min_chunk in (8, 13, 21, 34, 55, 89, 144):
        assert has_long_repeat(word, min_chunk, 0) == reference(word, min_chunk, 0), min_chunk


def square_free_word(length: int) -> str:
    """A ternary word with no square at all: the runs of 1s between the 0s of Thue-Morse."""
    thue_morse = [bin(i).count("1") % 2 for i in range(4 * length + 8)]
    zeros = [i for i, bit in enumerate(thue_morse) if bit == 0]
    return "".join(str(b - a - 1) for a, b in zip(zeros, zeros[1:], strict=False))[:length]


def test_square_free_text_with_a_planted_square():
    word = square_free_word(3000)
    assert not reference(word[:300], 1, 0)
    assert not has_long_repeat(word, 1, 0)
    planted = word[:1500] + word[1200:1500] + word[1500:]
    assert has_long_repeat(planted, 300, 0)
    assert not has_long_repeat(planted, 301, 0)


def test_long_text_without_repeat_is_false_and_with_one_true():
    rng = random.Random(11)
    text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz \n") for _ in range(200_000))
    assert not has_long_repeat(text)
    assert has_long_repeat(text[:150_000] + text[149_800:])


def test_rejects_meaningless_chunk():
    with pytest.raises(ValueError):
        has_long_repeat("abc", 0, 0)
