"""Speculative decoding without a draft model, for the ``vllm`` engine's server.

A rewrite copies much of its input: renamed names, added docstrings and type
hints around code that stays. A draft-free proposer guesses the next tokens
from text the request already holds, and the model checks the guess in one
forward pass, keeping the longest prefix that ordinary decoding would have
produced (plus one token of its own). At temperature 0 the answer is the same
token for token (``make test-vllm`` checks this on vLLM's CPU build); the
engine only takes fewer steps to reach it.

Methods (``--speculative``):

- ``off`` (default): one token per step, as the paper decoded.
- ``ngram``: vLLM's prompt-lookup proposer (``vllm.v1.spec_decode.ngram_proposer``):
  the longest n-gram of ``ngram_min`` to ``ngram_max`` tokens that ends the
  text so far is looked up earlier in the prompt and answer, and the
  ``num_tokens`` tokens after it are proposed.
- ``suffix``: suffix decoding (Oliaro et al., arXiv 2411.04975), which also
  learns from earlier answers of the same server; vLLM imports it from
  Snowflake's ``arctic-inference`` package. That package builds CUDA sources
  and does not install on vLLM's CPU build, so where vLLM is installed without
  it the flag is refused at once (:func:`suffix_unavailable`).

The server is started with vLLM's ``--speculative-config`` and with
``--per-request-spec-decode-metrics summary``, so each answer carries the
engine's own count of drafted and accepted tokens (the counts vLLM's
``/metrics`` sums over the server as ``vllm:spec_decode_num_drafts``,
``..._num_draft_tokens`` and ``..._num_accepted_tokens``); the stage counts
them and report.json gives each stage's tokens per step.

Where the defaults come from: ``bench/spec_replay.py`` replays vLLM's own
proposer over (prompt, answer) pairs the pipeline recorded
(``--record_pairs``) at several draft lengths; BENCHMARKS.md, "speculative
decoding", has the table. Speculation stays off by default, as the paper ran.
"""

from __future__ import annotations

import argparse
import importlib.util
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_DRAFT_TOKENS",
    "DEFAULT_NGRAM_MAX",
    "DEFAULT_NGRAM_MIN",
    "SPECULATIVE_METHODS",
    "SpeculativeConfig",
    "add_speculative_arguments",
    "suffix_unavailable",
]

SPECULATIVE_METHODS = ("off", "ngram", "suffix")
# Tokens proposed per step. The replay (BENCHMARKS.md, speculative decoding) finds tokens per
# step still growing past 4 on rewrites, but each proposed token is verified by every running
# sequence, so longer drafts cost compute that large batches no longer have spare.
DEFAULT_DRAFT_TOKENS = 4
# The shortest and longest n-gram looked up (vLLM's prompt_lookup_min/max); vLLM's own default
# is 5 and 5 when neither is set. Code repeats short runs of tokens (indentation, `self.`), so a
# 2-token match proposes often; the longest match wins, so 4 keeps proposals anchored.
DEFAULT_NGRAM_MIN = 2
DEFAULT_NGRAM_MAX = 4
# vLLM's per-request acceptance metrics, returned in each answer's `metrics` object.
PER_REQUEST_METRICS = "summary"


def suffix_unavailable() -> str | None:
    """Why ``--speculative suffix`` cannot run here, or None when it can.

    Checked only where vLLM is installed (the machine that runs the server): a
    launcher without vLLM cannot tell what its workers have.
    """
    if importlib.util.find_spec("vllm") is None:
        return None
    if importlib.util.find_spec("arctic_inference") is None:
        return (
            "--speculative suffix needs Snowflake's arctic-inference package next to vLLM "
            "(pip install arctic-inference on a CUDA machine); it does not build for vLLM's "
            "CPU build. Use --speculative ngram here (docs: LLM engines, speculative decoding)"
        )
    return None


@dataclass(frozen=True)
class SpeculativeConfig:
    """How the vllm engine's server speculates; ``method`` one of :data:`SPECULATIVE_METHODS`.

    ``num_tokens``: tokens proposed per step (vLLM's ``num_speculative_tokens``);
    ``ngram_min`` / ``ngram_max``: the n-gram lengths looked up (``ngram`` only;
    vLLM's ``prompt_lookup_min`` / ``prompt_lookup_max``). ValueError on
    impossible bounds.
    """

    method: str = "off"
    num_tokens: int = DEFAULT_DRAFT_TOKENS
    ngram_min: int = DEFAULT_NGRAM_MIN
    ngram_max: int = DEFAULT_NGRAM_MAX

    def __post_init__(self) -> None:
        if self.method not in SPECULATIVE_METHODS:
            raise ValueError(
                f"unknown --speculative {self.method!r}; known: {', '.join(SPECULATIVE_METHODS)}"
            )
        if self.num_tokens < 1:
            raise ValueError("--speculative_tokens must be at least 1")
        if not 1 <= self.ngram_min <= self.ngram_max:
            raise ValueError("--ngram_min and --ngram_max: 1 <= min <= max please")

    @property
    def enabled(self) -> bool:
        return self.method != "off"

    def server_kwargs(self) -> dict[str, Any]:
        """The vLLM server flags (as ``engine_kwargs`` entries) for this setting; {} when off."""
        if not self.enabled:
            return {}
        spec: dict[str, Any] = {"method": self.method, "num_speculative_tokens": self.num_tokens}
        if self.method == "ngram":
            spec.update(prompt_lookup_min=self.ngram_min, prompt_lookup_max=self.ngram_max)
        return {
            "speculative_config": spec,
            "per_request_spec_decode_metrics": PER_REQUEST_METRICS,
        }


def add_speculative_arguments(group: argparse._ArgumentGroup) -> None:
    """The speculation flags, beside the config whose defaults they show."""
    defaults = SpeculativeConfig()
    group.add_argument(
        "--speculative",
        choices=SPECULATIVE_METHODS,
        default=defaults.method,
        help="vllm: speculative decoding without a draft model on every LLM stage: ngram "
        "(vLLM's prompt lookup) or suffix (arctic-inference's suffix decoding; not on vLLM's "
        "CPU build). At temperature 0 the answers are the same; report.json gives each "
        "stage's tokens per step (default off, as in the paper).",
    )
    group.add_argument(
        "--speculative_tokens",
        type=int,
        default=defaults.num_tokens,
        help=f"vllm: tokens proposed per step (default {defaults.num_tokens}).",
    )
    group.add_argument(
        "--ngram_min",
        type=int,
        default=defaults.ngram_min,
        help=f"vllm, --speculative ngram: shortest n-gram looked up (default {defaults.ngram_min}).",
    )
    group.add_argument(
        "--ngram_max",
        type=int,
        default=defaults.ngram_max,
        help=f"vllm, --speculative ngram: longest n-gram looked up (default {defaults.ngram_max}).",
    )
