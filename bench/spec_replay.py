"""Tokens per step of draft-free speculation, replayed over a run's recorded answers.

A run with ``--record_pairs DIR`` writes each LLM stage's (prompt, answer)
pairs. This replays vLLM's own n-gram proposer (and suffix decoding's, where
arctic-inference is installed) over them, one engine step at a time
(:mod:`beam_swallow.testing.speculation`), at several draft lengths, and prints
per stage: tokens per step (what the engine emits per forward pass), tokens
proposed per step (what each step verifies on top of its own token) and the
acceptance rate. Where the run itself speculated, the server's own counts for
the same answers are printed beside the replay at the run's draft length: at
temperature 0 the two must agree.

Pairs carry their token ids when the vllm engine recorded them; otherwise the
prompt is rendered with ``--model``'s chat template and the answer tokenized
(``transformers``, installed with vLLM).

Only answers that finished (``finish_reason`` stop) are replayed unless
``--all_answers``: an answer cut at ``max_tokens`` is most often a small model
repeating itself, which a lookup proposer predicts all too well, and the stage
rejects it (``truncated``) anyway.

Usage: python bench/spec_replay.py --pairs DIR [--model CHECKPOINT]
       [--draft 1,2,3,4,6,8] [--ngram_min 2] [--ngram_max 4] [--run_draft 4] [--all_answers]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import defaultdict

from beam_swallow.testing.speculation import (
    NgramReplay,
    ReplayCounts,
    SuffixReplay,
    pair_tokens,
    read_pairs,
    replay_all,
)


def _tokenizer(model: str | None):
    if model is None:
        return None
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model)


def _row(stage: str, method: str, k: int, counts: ReplayCounts, pairs: int) -> str:
    return (
        f"| {stage} | {method} | {k} | {pairs} | {counts.tokens:,} | "
        f"{counts.tokens_per_step:.2f} | {counts.proposed_per_step:.2f} | "
        f"{counts.acceptance_rate:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", required=True, help="a --record_pairs folder")
    parser.add_argument("--model", default=None, help="checkpoint whose tokenizer reads pairs")
    parser.add_argument("--draft", default="1,2,3,4,6,8", help="draft lengths to replay")
    parser.add_argument("--ngram_min", type=int, default=2)
    parser.add_argument("--ngram_max", type=int, default=4)
    parser.add_argument("--run_draft", type=int, default=4, help="the run's --speculative_tokens")
    parser.add_argument("--all_answers", action="store_true", help="also answers cut short")
    args = parser.parse_args()
    drafts = [int(k) for k in args.draft.split(",")]
    tokenizer = _tokenizer(args.model)

    by_stage: dict[str, list[tuple[list[int], list[int]]]] = defaultdict(list)
    measured: dict[str, ReplayCounts] = defaultdict(ReplayCounts)
    speculated: set[str] = set()
    for pair in read_pairs(args.pairs):
        if pair["finish_reason"] != "stop" and not args.all_answers:
            continue
        prompt, answer = pair_tokens(pair, tokenizer)
        by_stage[pair["stage"]].append((prompt, answer))
        spec = pair["spec"]
        measured[pair["stage"]] += ReplayCounts(
            len(answer), spec["drafts"], spec["draft_tokens"], spec["accepted_tokens"]
        )
        if spec["drafts"]:
            speculated.add(pair["stage"])
    longest = max(len(p) + len(a) for pairs in by_stage.values() for p, a in pairs) + 1
    started = time.perf_counter()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; pairs from {args.pairs} "
        f"({'all answers' if args.all_answers else 'finished answers'}); "
        f"n-grams {args.ngram_min}-{args.ngram_max}"
    )
    print(
        "| stage | proposer | draft length | pairs | answer tokens | tokens per step | "
        "proposed per step | acceptance |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for stage, pairs in sorted(by_stage.items()):
        for k in drafts:
            replay = NgramReplay(k, args.ngram_min, args.ngram_max, longest + k)
            counts = replay_all(replay, pairs)
            print(_row(stage, "ngram (replay)", k, counts, len(pairs)))
            if k == args.run_draft and stage in speculated:
                print(_row(stage, "ngram (vLLM, measured)", k, measured[stage], len(pairs)))
        try:
            for k in drafts:
                counts = replay_all(SuffixReplay(k), pairs)
                print(_row(stage, "suffix (replay)", k, counts, len(pairs)))
        except ImportError:
            if stage == min(by_stage):
                print("| (all) | suffix | - | - | - | arctic-inference not installed | - | - |")
    print(f"\nreplayed in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
