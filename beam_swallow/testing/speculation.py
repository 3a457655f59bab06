"""Replaying a draft-free proposer over recorded (prompt, answer) pairs.

At temperature 0 vLLM keeps a proposed token exactly when it is the token the
model would have decoded next, so which tokens a proposer gets accepted
depends only on the prompt, the answer and the proposer: replaying the
proposer over pairs the engine produced (``--record_pairs``) gives the steps
vLLM takes for them without running the model. At temperature T > 0 a token is
accepted with the probability that sampling emits it, so the replay of a
greedy answer is then an upper bound.

The proposers are vLLM's own, imported from the installed vLLM, never
reimplemented: :class:`NgramReplay` drives
``vllm.v1.spec_decode.ngram_proposer.NgramProposer`` one step at a time as
vLLM's model runner does (after each step, the text so far is the context it
matches in); :class:`SuffixReplay` drives arctic-inference's
``SuffixDecodingCache`` where that package is installed (vLLM's
``SuffixDecodingProposer`` imports the same class).

One step, as vLLM's scheduler counts it: the proposer drafts ``d`` tokens from
the context (``d`` may be 0: no match, a plain decode step); the model checks
them and keeps the longest prefix equal to the answer's next tokens plus one
token of its own. The first answer token comes from the prompt's own step,
with no draft. ``steps = answer tokens - accepted tokens``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = [
    "NgramReplay",
    "ReplayCounts",
    "SuffixReplay",
    "pair_tokens",
    "read_pairs",
    "replay_all",
]


@dataclass
class ReplayCounts:
    """What a proposer did over some answers, in vLLM's terms.

    ``tokens``: answer tokens; ``drafts``: steps that checked a proposal;
    ``draft_tokens``: tokens proposed; ``accepted``: proposed tokens kept.
    """

    tokens: int = 0
    drafts: int = 0
    draft_tokens: int = 0
    accepted: int = 0

    def __iadd__(self, other: ReplayCounts) -> ReplayCounts:
        self.tokens += other.tokens
        self.drafts += other.drafts
        self.draft_tokens += other.draft_tokens
        self.accepted += other.accepted
        return self

    @property
    def steps(self) -> int:
        return self.tokens - self.accepted

    @property
    def tokens_per_step(self) -> float:
        return self.tokens / self.steps if self.steps else 0.0

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.draft_tokens if self.draft_tokens else 0.0

    @property
    def proposed_per_step(self) -> float:
        """Tokens proposed per engine step: what each step verifies on top of its own."""
        return self.draft_tokens / self.steps if self.steps else 0.0


def read_pairs(folder: str | Path, stage: str | None = None) -> Iterator[dict[str, Any]]:
    """The pair lines under ``folder`` (``<stage>-*.jsonl.gz``), of one stage or all."""
    pattern = f"{stage}-*.jsonl.gz" if stage else "*.jsonl.gz"
    for path in sorted(Path(folder).glob(pattern)):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)


def pair_tokens(pair: dict[str, Any], tokenizer: Any = None) -> tuple[list[int], list[int]]:
    """``(prompt ids, answer ids)`` of a pair: the ids the server returned, else the
    messages through ``tokenizer``'s chat template and the answer through it, with its
    end-of-sequence token when the answer stopped (a re-tokenized answer can differ from
    the sampled ids where a text has two tokenizations)."""
    if "token_ids" in pair and "prompt_token_ids" in pair:
        return list(pair["prompt_token_ids"]), list(pair["token_ids"])
    if tokenizer is None:
        raise ValueError(f"pair {pair.get('id')!r} has no token ids: give a tokenizer")
    prompt = tokenizer.apply_chat_template(
        pair["messages"], add_generation_prompt=True, tokenize=True
    )
    answer = tokenizer.encode(pair["answer"] or "", add_special_tokens=False)
    if pair.get("finish_reason") == "stop" and tokenizer.eos_token_id is not None:
        answer.append(tokenizer.eos_token_id)
    return list(prompt), answer


def _accepted(draft: Sequence[int], answer: Sequence[int], at: int) -> int:
    """How many of ``draft`` equal ``answer[at:]``, from the first on."""
    kept = 0
    for token in draft:
        if at + kept >= len(answer) or answer[at + kept] != token:
            break
        kept += 1
    return kept


class NgramReplay:
    """vLLM's n-gram proposer over pairs: ``num_tokens`` per draft, n-grams of
    ``ngram_min`` to ``ngram_max`` tokens; ``max_len`` bounds prompt + answer."""

    def __init__(self, num_tokens: int, ngram_min: int, ngram_max: int, max_len: int):
        from vllm.v1.spec_decode.ngram_proposer import NgramProposer

        # the attributes NgramProposer reads of a VllmConfig, and no more (building a real
        # one loads a model's configuration)
        config = SimpleNamespace(
            speculative_config=SimpleNamespace(
                prompt_lookup_min=ngram_min,
                prompt_lookup_max=ngram_max,
                num_speculative_tokens=num_tokens,
            ),
            model_config=SimpleNamespace(max_model_len=max_len),
            scheduler_config=SimpleNamespace(max_num_seqs=1),
            parallel_config=SimpleNamespace(tensor_parallel_size=1),
        )
        self.num_tokens = num_tokens
        self._max_len = max_len
        self._proposer = NgramProposer(config)  # type: ignore[arg-type]
        self._context = np.zeros((1, max_len), dtype=np.int32)

    def replay(self, prompt: Sequence[int], answer: Sequence[int]) -> ReplayCounts:
        counts = ReplayCounts(tokens=len(answer))
        if not answer:
            return counts
        length = len(prompt) + 1
        if length + len(answer) > self._max_len:
            raise ValueError(f"a pair of {len(prompt) + len(answer)} tokens > max_len")
        self._context[0, : len(prompt)] = prompt
        self._context[0, len(prompt)] = answer[0]  # the prompt's step samples the first token
        at = 1
        while at < len(answer):
            draft = self._proposer.propose(
                self.num_tokens,
                [[int(answer[at - 1])]],
                np.array([length], dtype=np.int32),
                self._context,
            )[0]
            kept = _accepted(draft, answer, at)
            if draft:
                counts.drafts += 1
                counts.draft_tokens += len(draft)
                counts.accepted += kept
            emitted = min(kept + 1, len(answer) - at)
            self._context[0, length : length + emitted] = answer[at : at + emitted]
            length += emitted
            at += emitted
        return counts


class SuffixReplay:
    """Suffix decoding (arctic-inference's ``SuffixDecodingCache``, vLLM's defaults:
    tree depth 24, spec factor 1.0, min probability 0.1) over pairs in order: each
    answer joins the cache once replayed, as a server's would. ImportError where
    arctic-inference is not installed."""

    def __init__(self, num_tokens: int, max_tree_depth: int = 24, max_cached: int = 10000):
        from arctic_inference.suffix_decoding import SuffixDecodingCache

        self.num_tokens = num_tokens
        self._depth = max_tree_depth
        self._cache = SuffixDecodingCache(
            max_tree_depth=max_tree_depth, max_cached_requests=max_cached
        )
        self._next = 0

    def replay(self, prompt: Sequence[int], answer: Sequence[int]) -> ReplayCounts:
        counts = ReplayCounts(tokens=len(answer))
        if not answer:
            return counts
        request = f"r{self._next}"
        self._next += 1
        self._cache.start_request(request, np.asarray(prompt, dtype=np.int32))
        self._cache.add_active_response(request, [int(answer[0])])
        context = [*prompt, answer[0]]
        at = 1
        while at < len(answer):
            pattern = np.asarray(context[-self._depth :], dtype=np.int32)
            draft = self._cache.speculate(
                request,
                pattern,
                max_spec_tokens=self.num_tokens,
                max_spec_factor=1.0,
                min_token_prob=0.1,
            ).token_ids
            kept = _accepted(draft, answer, at)
            if len(draft):
                counts.drafts += 1
                counts.draft_tokens += len(draft)
                counts.accepted += kept
            emitted = [int(t) for t in answer[at : at + min(kept + 1, len(answer) - at)]]
            self._cache.add_active_response(request, emitted)
            context.extend(emitted)
            at += len(emitted)
        self._cache.stop_request(request)
        return counts


def replay_all(
    replay: NgramReplay | SuffixReplay, pairs: Iterable[tuple[list[int], list[int]]]
) -> ReplayCounts:
    """The summed counts of ``replay`` over ``(prompt, answer)`` token pairs."""
    total = ReplayCounts()
    for prompt, answer in pairs:
        total += replay.replay(prompt, answer)
    return total
