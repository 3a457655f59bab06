"""Benchmark: MinHash signatures vs datasketch, whole dedup stages, accuracy.

1. Signatures per second on real standard-library files, same ``num_perm``,
   same shingles, best of 3 runs over the same texts, one process:

   - ours, timed from text to signature, as ``near_dedup`` signs:
     ``text_window_hashes`` (code points -> token boundaries -> one 64-bit
     polynomial per token -> a 32-bit hash per 5-token window, all numpy
     array operations), then ``signature`` (one-permutation hashing with
     optimal densification: a seeded rotation, ``num_perm`` bins, the
     minimum per bin, empty bins borrowing).
   - datasketch, timed from text to signature: ``tokenize`` (the regex that
     defines our tokens), the distinct shingles as strings (5 tokens joined
     by a space), UTF-8 encoded, into ``MinHash.generator`` (its bulk path:
     permutations built once and shared; default ``affine32`` scheme: SHA-1
     per shingle, then ``num_perm`` affine maps as one numpy matrix).
   - datasketch again with the shingle bytes prepared before the clock
     starts: only its hashing and permutations are timed.

   Both sides see the same shingle sets; the script checks the counts agree.
2. Estimation error of both signatures against the exact Jaccard of the
   shingle-string sets, over real files and edited copies of them.
3. Whole stages on the FnApiRunner (in memory): exact_dedup + near_dedup over
   files with planted copies; docs/s and the process's peak RSS.
4. Accuracy of near_dedup against brute-force exact Jaccard.

Run: ``python bench/dedup.py [--files N] [--families N]``.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import apache_beam as beam
import numpy as np
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from datasketch import MinHash

from beam_swallow.dedup.minhash import (
    MinhashConfig,
    estimate_jaccard,
    shingle_hashes,
    signature,
    text_window_hashes,
    tokenize,
)
from beam_swallow.samples import code_sample_records
from beam_swallow.testing.accuracy import pair_accuracy
from beam_swallow.testing.planted import family_corpus, mutate, plant_copies
from beam_swallow.transforms.exact_dedup import ExactDedup
from beam_swallow.transforms.near_dedup import NearDedup


def _shingle_bytes(text: str, size: int) -> list[bytes]:
    """The text's distinct shingles as datasketch takes them: one bytes each."""
    tokens = tokenize(text)
    windows = {" ".join(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))}
    return [w.encode("utf-8", "surrogatepass") for w in windows if w]


def _rate(sign: Callable[[], object], count: int) -> float:
    """Signatures per second of the best of three runs of ``sign``."""
    seconds = []
    for _ in range(3):
        start = time.perf_counter()
        sign()
        seconds.append(time.perf_counter() - start)
    return count / min(seconds)


def _signature_table(texts: list[str], cfg: MinhashConfig) -> None:
    k, num_perm = cfg.shingle_size, cfg.num_perm
    prepared = [_shingle_bytes(t, k) for t in texts]
    ours_count = sum(shingle_hashes(t, k).size for t in texts)
    theirs_count = sum(len(p) for p in prepared)
    print(f"distinct shingles: ours {ours_count:,}, datasketch {theirs_count:,}\n")

    def ours() -> list[np.ndarray]:
        return [signature(text_window_hashes(t, k), cfg) for t in texts]

    def theirs() -> list[MinHash]:
        return list(MinHash.generator((_shingle_bytes(t, k) for t in texts), num_perm=num_perm))

    def theirs_prepared() -> list[MinHash]:
        return list(MinHash.generator(prepared, num_perm=num_perm))

    ours()  # warm up: character table, power table
    rates = [_rate(sign, len(texts)) for sign in (theirs, theirs_prepared, ours)]
    rows = [
        ("datasketch MinHash.generator", "text -> signature"),
        ("datasketch MinHash.generator", "shingle bytes -> signature"),
        ("beam-swallow signature(text_window_hashes())", "text -> signature"),
    ]
    print("| signer | timed | signatures/s | beam-swallow is |")
    print("|---|---|---|---|")
    for (name, timed), rate in zip(rows, rates, strict=True):
        print(f"| {name} | {timed} | {rate:,.0f} | {rates[-1] / rate:.1f}x |")
    print()


def _error_table(texts: list[str], cfg: MinhashConfig) -> None:
    k = cfg.shingle_size
    rng = random.Random(5)
    errors: dict[str, list[float]] = {"ours": [], "datasketch": []}
    for text in texts:
        for rate in (0.02, 0.1, 0.3):
            copy = mutate(text, rate, rng)
            a, b = set(_shingle_bytes(text, k)), set(_shingle_bytes(copy, k))
            if not a or not b:
                continue
            exact = len(a & b) / len(a | b)
            ours = estimate_jaccard(
                signature(shingle_hashes(text, k), cfg), signature(shingle_hashes(copy, k), cfg)
            )
            left, right = MinHash.bulk([a, b], num_perm=cfg.num_perm)
            errors["ours"].append(abs(ours - exact))
            errors["datasketch"].append(abs(left.jaccard(right) - exact))
    print(f"| estimator ({len(errors['ours'])} pairs) | mean abs error | p99 | max |")
    print("|---|---|---|---|")
    for name, values in errors.items():
        print(
            f"| {name} | {np.mean(values):.4f} | {np.percentile(values, 99):.4f} | "
            f"{max(values):.4f} |"
        )
    print()


def _stages(records: list[dict], cfg: MinhashConfig) -> float:
    start = time.perf_counter()
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        exact = pipeline | beam.Create(records) | ExactDedup()
        near = exact.kept | NearDedup(cfg)
        _ = near.kept | beam.combiners.Count.Globally()
    return len(records) / (time.perf_counter() - start)


def _clusters(records: list[dict], cfg: MinhashConfig) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        with beam.Pipeline(runner=FnApiRunner()) as pipeline:
            near = pipeline | beam.Create(records) | NearDedup(cfg)
            pairs = (
                near.kept | "K" >> beam.Map(lambda r: f"{r['id']}\t{r['id']}"),
                near.rejected | "R" >> beam.Map(lambda r: f"{r['id']}\t{r['duplicate_of']}"),
            ) | beam.Flatten()
            _ = pairs | beam.io.WriteToText(f"{tmp}/pairs")
        lines = [
            line for path in Path(tmp).glob("pairs*") for line in path.read_text().splitlines()
        ]
    return dict(line.split("\t") for line in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--families", type=int, default=40)
    args = parser.parse_args()
    cfg = MinhashConfig()
    texts = [r["text"] for r in code_sample_records(args.files)]
    words = sum(len(tokenize(t)) for t in texts) / len(texts)
    print(f"corpus: {len(texts)} stdlib files, {words:.0f} tokens/file on average")
    print(f"num_perm={cfg.num_perm}, shingle_size={cfg.shingle_size}")
    _signature_table(texts, cfg)
    _error_table([t for t in texts if t.strip()][:150], cfg)

    records = plant_copies(code_sample_records(args.files))
    rate = _stages(records, cfg)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| stages (FnApiRunner, in memory) | docs | docs/s | peak RSS MB |")
    print("|---|---|---|---|")
    print(f"| exact_dedup + near_dedup | {len(records)} | {rate:,.0f} | {peak_mb:,.0f} |\n")

    family_texts = [r["text"] for r in code_sample_records(600) if 2000 < len(r["text"]) < 20000]
    corpus = family_corpus(family_texts[: args.families], (0.01, 0.03, 0.06, 0.1, 0.15, 0.25, 0.4))
    print("| verify | pairs >= t+0.05 | recall | pairs < t-0.1 | merged | in-family | merged |")
    print("|---|---|---|---|---|---|---|")
    for verify in ("minhash", "exact", "none"):
        run_cfg = MinhashConfig(verify=verify)
        acc = pair_accuracy(corpus, _clusters(corpus, run_cfg), run_cfg.threshold, 5)
        print(
            f"| {verify} | {acc.high_pairs} | {acc.recall:.3f} | {acc.low_pairs} | "
            f"{acc.false_merge_rate:.2%} | {acc.low_family_pairs} | "
            f"{acc.family_false_merge_rate:.2%} |"
        )


if __name__ == "__main__":
    main()
