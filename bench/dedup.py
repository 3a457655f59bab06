"""Benchmark: MinHash signatures vs datasketch and rensa, the dedup command, accuracy.

1. Signatures per CPU second on real standard-library files (1,657 by
   default), same ``num_perm``, best of 3 runs over the same texts, one
   process:

   - ours, timed from text to signature, as ``near_dedup`` signs:
     ``text_window_hashes`` (code points -> token boundaries -> one 64-bit
     polynomial per token -> a 32-bit hash per 5-token window, one pass
     in C), then ``signature`` (one-permutation hashing with optimal
     densification: a seeded rotation, ``num_perm`` bins, the
     minimum per bin, empty bins borrowing); and the window hashes alone,
     what any signer fed by our tokenizer pays first.
   - datasketch, timed from text to signature: ``tokenize`` (the regex that
     defines our tokens), the distinct shingles as strings (5 tokens joined
     by a space), UTF-8 encoded, into ``MinHash.generator`` (its bulk path:
     permutations built once and shared; default ``affine32`` scheme: SHA-1
     per shingle, then ``num_perm`` affine maps as one numpy matrix); again
     with the shingle bytes prepared before the clock starts.
   - datatrove, timed from text to signature: ``MinhashDedupSignature``'s own
     ``get_shingles`` (xxhash64 of each 5-token window, its default hash) and
     ``get_signature`` (``num_perm`` universal hashes modulo the Mersenne prime
     2**61-1, as one numpy matrix), with our tokens as its word tokenizer and
     its text normalization off, so its shingles are the same windows.
   - rensa (Rust) R-MinHash: from the same shingle bytes in one call for the
     corpus; and on our window hashes (``digest_matrix_from_flat_token_hashes``),
     one call per document as ``near_dedup`` would, and one call for all.
     rensa hands digests out as Python lists; reading them into numpy is timed.

   Both sides see the same shingle sets; the script checks the counts agree.
2. ``beam-swallow dedup`` in a fresh process: on one document (start-up and
   fixed costs) and on the planted corpus; seconds and peak RSS.
3. Estimation error of each signature against the exact Jaccard of the
   shingle-string sets, over real files and edited copies of them.
4. Whole stages on the FnApiRunner (in memory): exact_dedup + near_dedup over
   files with planted copies; docs/s and the process's peak RSS.
5. Accuracy of near_dedup against brute-force exact Jaccard.

Run: ``python bench/dedup.py [--files N] [--sign_files N] [--families N]``.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import apache_beam as beam
import numpy as np
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from datasketch import MinHash
from datatrove.pipeline.dedup.minhash import MinhashConfig as DatatroveConfig
from datatrove.pipeline.dedup.minhash import MinhashDedupSignature
from datatrove.utils.text import TextNormConfig
from datatrove.utils.word_tokenizers import WordTokenizer
from rensa import RMinHash, RMinHashDigestMatrix

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


class _OurTokens(WordTokenizer):
    """Our tokens as datatrove's word tokenizer, so both sides shingle the same windows."""

    def word_tokenize(self, text: str) -> list[str]:
        return tokenize(text)

    def sent_tokenize(self, text: str) -> list[str]:
        return [text]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))]


def _datatrove_signer(cfg: MinhashConfig, folder: str) -> MinhashDedupSignature:
    """datatrove's signing step with ``num_perm`` hashes, our tokens, no normalization."""
    config = DatatroveConfig(
        n_grams=cfg.shingle_size,
        num_buckets=cfg.bands,
        hashes_per_bucket=cfg.num_perm // cfg.bands,
        seed=cfg.seed,
        norm_config=TextNormConfig(
            lowercase=False,
            norm_whitespace=False,
            remove_punctuation=False,
            norm_unicode_diacritics=False,
            norm_numbers=False,
        ),
    )
    return MinhashDedupSignature(folder, config, language=_OurTokens())


def _datatrove_signature(signer: MinhashDedupSignature, text: str) -> np.ndarray | None:
    """datatrove's signature of ``text`` as one flat array; None when it has no shingle."""
    shingles = signer.get_shingles(text)
    if shingles.size == 0:
        return None
    return np.concatenate(signer.get_signature(shingles))


def _rate(sign: Callable[[], object], count: int) -> float:
    """Signatures per CPU second of the best of three runs of ``sign``."""
    seconds = []
    for _ in range(3):
        start = time.process_time()
        sign()
        seconds.append(time.process_time() - start)
    return count / min(seconds)


def _rensa_rows(matrix: RMinHashDigestMatrix) -> np.ndarray:
    """rensa's digests as one uint32 array (it hands them out as Python lists)."""
    return np.array(matrix.to_rows(), dtype=np.uint32)


def _rensa_flat(windows: list[np.ndarray], cfg: MinhashConfig) -> np.ndarray:
    """rensa's R-MinHash of each document's window hashes, all in one call."""
    offsets = np.zeros(len(windows) + 1, dtype=np.uint64)
    np.cumsum([w.size for w in windows], out=offsets[1:])
    flat = np.concatenate(windows).astype(np.uint64)
    return _rensa_rows(
        RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, cfg.num_perm, cfg.seed)
    )


def _signature_table(texts: list[str], cfg: MinhashConfig) -> None:
    k, num_perm = cfg.shingle_size, cfg.num_perm
    prepared = [_shingle_bytes(t, k) for t in texts]
    ours_count = sum(shingle_hashes(t, k).size for t in texts)
    theirs_count = sum(len(p) for p in prepared)
    print(f"distinct shingles: ours {ours_count:,}, datasketch {theirs_count:,}\n")

    def ours() -> list[np.ndarray]:
        return [signature(text_window_hashes(t, k), cfg) for t in texts]

    def windows_only() -> list[np.ndarray]:
        return [text_window_hashes(t, k) for t in texts]

    def rensa_per_doc() -> list[np.ndarray]:
        return [_rensa_flat([text_window_hashes(t, k)], cfg)[0] for t in texts]

    def rensa_batch() -> np.ndarray:
        return _rensa_flat([text_window_hashes(t, k) for t in texts], cfg)

    def rensa_text() -> np.ndarray:
        shingles = [_shingle_bytes(t, k) for t in texts]
        return _rensa_rows(
            RMinHash.digest_matrix_from_token_byte_sets(shingles, num_perm, cfg.seed)
        )

    def theirs() -> list[MinHash]:
        return list(MinHash.generator((_shingle_bytes(t, k) for t in texts), num_perm=num_perm))

    # datatrove's signer names an output folder; signing alone writes nothing to it
    folder = tempfile.TemporaryDirectory(prefix="datatrove-")  # removed when this returns
    signer = _datatrove_signer(cfg, folder.name)

    def datatrove() -> list[np.ndarray | None]:
        return [_datatrove_signature(signer, t) for t in texts]

    def theirs_prepared() -> list[MinHash]:
        return list(MinHash.generator(prepared, num_perm=num_perm))

    ours()  # warm up: character table, borrowing orders
    rows = [
        (
            f"datatrove {version('datatrove')} MinhashDedupSignature, our tokens",
            "text -> signature",
            datatrove,
        ),
        (f"datasketch {version('datasketch')} MinHash.generator", "text -> signature", theirs),
        (
            f"datasketch {version('datasketch')} MinHash.generator",
            "shingle bytes -> signature",
            theirs_prepared,
        ),
        (
            f"rensa {version('rensa')} digest_matrix_from_token_byte_sets, one call",
            "text -> signature",
            rensa_text,
        ),
        (
            f"rensa {version('rensa')} on our window hashes, one call per document",
            "text -> signature",
            rensa_per_doc,
        ),
        (
            f"rensa {version('rensa')} on our window hashes, one call for all",
            "text -> signature",
            rensa_batch,
        ),
        (
            "beam-swallow text_window_hashes() alone (no signature)",
            "text -> window hashes",
            windows_only,
        ),
        ("beam-swallow signature(text_window_hashes())", "text -> signature", ours),
    ]
    rates = [_rate(sign, len(texts)) for _, _, sign in rows]
    print("| signer | timed | signatures/s (CPU) | beam-swallow is |")
    print("|---|---|---|---|")
    for (name, timed, _), rate in zip(rows, rates, strict=True):
        print(f"| {name} | {timed} | {rate:,.0f} | {rates[-1] / rate:.2f}x |")
    print()


def _error_table(texts: list[str], cfg: MinhashConfig) -> None:
    k = cfg.shingle_size
    rng = random.Random(5)
    errors: dict[str, list[float]] = {"ours": [], "datasketch": [], "rensa": [], "datatrove": []}
    folder = tempfile.TemporaryDirectory(prefix="datatrove-")  # removed when this returns
    signer = _datatrove_signer(cfg, folder.name)
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
            rensa = _rensa_flat([shingle_hashes(text, k), shingle_hashes(copy, k)], cfg)
            errors["ours"].append(abs(ours - exact))
            errors["datasketch"].append(abs(left.jaccard(right) - exact))
            errors["rensa"].append(abs(estimate_jaccard(rensa[0], rensa[1]) - exact))
            left_dt, right_dt = (_datatrove_signature(signer, t) for t in (text, copy))
            errors["datatrove"].append(abs(float(np.mean(left_dt == right_dt)) - exact))
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


def _command(output: str, *flags: str) -> tuple[float, float, int]:
    """Wall seconds, peak RSS MB and documents read of ``beam-swallow dedup`` in a fresh process.

    Token counts are off: they tokenize every kept text per stage and would
    measure the tokenizer, not deduplication.
    """
    argv = ["dedup", "--output", output, "--no_token_counts", *flags]
    code = f"import sys; from beam_swallow.cli import main; sys.exit(main({argv!r}))"
    seconds, peak_mb = _fresh_process([sys.executable, "-c", code])
    report = json.loads(Path(output, "report.json").read_text())
    return seconds, peak_mb, report["input"]


def _datatrove_steps(input_dir: str, work: str) -> None:
    """datatrove's four MinHash steps over the JSONL under ``input_dir``, in this process.

    Signatures (as in :func:`_datatrove_signer`), buckets (one task per band),
    clusters, then the filter that writes the kept documents: the pipeline
    datatrove's MinHash example runs, with ``workers=1``.
    """
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter

    signer = _datatrove_signer(MinhashConfig(), f"{work}/signatures")
    config = signer.config
    steps = [
        ([JsonlReader(input_dir), signer], 1),
        ([MinhashDedupBuckets(f"{work}/signatures", f"{work}/buckets", config=config)], 0),
        ([MinhashDedupCluster(f"{work}/buckets", f"{work}/remove_ids", config=config)], 1),
        (
            [
                JsonlReader(input_dir),
                MinhashDedupFilter(f"{work}/remove_ids"),
                JsonlWriter(f"{work}/deduped"),
            ],
            1,
        ),
    ]
    for number, (pipeline, tasks) in enumerate(steps):
        LocalPipelineExecutor(
            pipeline=pipeline,
            tasks=tasks or config.num_buckets,
            workers=1,
            logging_dir=f"{work}/logs/{number}",
        ).run()


def _fresh_process(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS MB of ``cmd`` run to completion.

    The peak is the child's own high-water mark (``VmHWM``, read until it
    exits): ``getrusage`` would also count this process's pages at the fork.
    """
    log = tempfile.TemporaryFile()  # the child's stderr (datatrove logs every step there)
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
    peak_kb = 0
    while child.poll() is None:
        try:
            status = Path(f"/proc/{child.pid}/status").read_text()
        except OSError:
            break
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak_kb = max(peak_kb, int(line.split()[1]))
        time.sleep(0.05)
    with log:
        code = child.wait()
        seconds = time.perf_counter() - start
        if code != 0:
            log.seek(0)
            raise RuntimeError(f"{cmd} failed:\n{log.read().decode(errors='replace')[-3000:]}")
    return seconds, peak_kb / 1024


def _command_table(sample_size: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp, "one.jsonl")
        one.write_text(json.dumps({"id": "a", "text": "x = 1\n"}) + "\n")
        small = _command(str(Path(tmp, "one")), "--input", str(one))
        full = _command(str(Path(tmp, "planted")), "--sample_size", str(sample_size))
        child = [sys.executable, __file__, "--datatrove_steps"]
        peer_small = _fresh_process([*child, str(Path(tmp, "one.jsonl")), str(Path(tmp, "dt1"))])
        sample = str(Path(tmp, "planted", "sample"))
        peer_full = _fresh_process([*child, sample, str(Path(tmp, "dt"))])
    print("| run (fresh process) | docs | seconds | peak RSS MB |")
    print("|---|---|---|---|")
    peer = f"datatrove {version('datatrove')}, its 4 MinHash steps"
    for name, docs, (seconds, peak) in [
        ("`beam-swallow dedup` (default stages), one document", small[2], small[:2]),
        (f"{peer}, one document", small[2], peer_small),
        ("`beam-swallow dedup`, stdlib files with planted copies", full[2], full[:2]),
        (f"{peer}, the same files", full[2], peer_full),
    ]:
        print(f"| {name} | {docs} | {seconds:.1f} | {peak:.0f} |")
    for name, one_doc, many in [
        ("beam-swallow", small, full),
        ("datatrove", peer_small, peer_full),
    ]:
        per_doc = (many[0] - one_doc[0]) / max(1, full[2] - small[2]) * 1e3
        print(f"{name}, past start-up: {per_doc:.1f} ms per document")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--sign_files", type=int, default=1657, help="files for the signing table")
    parser.add_argument("--families", type=int, default=40)
    parser.add_argument(
        "--command_sample", type=int, default=733, help="dedup --sample_size (~1,100 documents)"
    )
    parser.add_argument("--datatrove_steps", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.datatrove_steps:
        _datatrove_steps(*args.datatrove_steps)
        return
    cfg = MinhashConfig()
    texts = [r["text"] for r in code_sample_records(args.sign_files)]
    words = sum(len(tokenize(t)) for t in texts) / len(texts)
    print(f"corpus: {len(texts)} stdlib files, {words:.0f} tokens/file on average")
    print(f"num_perm={cfg.num_perm}, shingle_size={cfg.shingle_size}")
    _signature_table(texts, cfg)
    _command_table(args.command_sample)
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
