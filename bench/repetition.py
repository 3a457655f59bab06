"""Benchmark: the repeat detector against the original's backtracking regex.

Both answer "is a chunk of 100+ characters immediately repeated?" on the same
texts: real standard-library source cut to each length (no back-to-back
repeat: the worst case, since nothing stops the search early), and the same
text with one 150-character chunk doubled at the end. The baseline is the
regular expression ``(.{100,})\\1`` (with DOTALL, so both see newlines alike).
Prints a table with the ratio baseline / ours.
"""

from __future__ import annotations

import re
import sysconfig
import time
from pathlib import Path

from beam_swallow.transforms.repetition import has_long_repeat

SIZES = (2_000, 8_000, 32_000, 128_000)
_REGEX = re.compile(r"(.{100,})\1", re.DOTALL)


def _source_text(size: int) -> str:
    """Concatenated stdlib source, ``size`` characters, with no long repeat in it."""
    root = Path(sysconfig.get_paths()["stdlib"])
    text = ""
    for path in sorted(root.glob("*.py")):
        candidate = text + path.read_text("utf-8", errors="replace")
        text = candidate if not has_long_repeat(candidate[:size], 100, 0) else text
        if len(text) >= size:
            return text[:size]
    raise RuntimeError("not enough source")


def _best_of(fn, text: str, runs: int = 3) -> tuple[float, bool]:
    best, result = float("inf"), False
    for _ in range(runs):
        start = time.perf_counter()
        result = fn(text)
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    print(f"{'chars':>7} {'case':<9} {'regex s':>9} {'ours s':>8} {'ratio':>7}  agree")
    for size in SIZES:
        clean = _source_text(size)
        looped = clean[: size - 300] + clean[size - 450 : size - 300] * 2
        for case, text in (("clean", clean), ("repeated", looped)):
            runs = 1 if size >= 16_000 else 3
            regex_s, regex_hit = _best_of(lambda t: _REGEX.search(t) is not None, text, runs)
            ours_s, ours_hit = _best_of(lambda t: has_long_repeat(t, 100, 0), text, runs)
            print(
                f"{len(text):>7} {case:<9} {regex_s:>9.3f} {ours_s:>8.3f} "
                f"{regex_s / ours_s:>7.1f}  {regex_hit == ours_hit}"
            )


if __name__ == "__main__":
    main()
