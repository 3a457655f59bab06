"""A discrete-event model of one continuous-batching engine, fed two ways.

What it answers: how much GPU time the paper's rewriting would take if the
engine were fed as the paper fed it (2,048 prompts per synchronous call, the
next call only after the last answer of the previous one) against fed
continuously (a new request admitted whenever a sequence finishes), with
nothing else changed. No GPU runs here, so the engine is a model:

- **Decode step time** ``t(b) = a + c*b`` milliseconds for ``b`` running
  sequences: decoding is memory-bound, so each step reads the weights once
  (``a``) plus each sequence's KV cache (``c`` per sequence). Calibrated for
  Llama-3.1-70B, bf16, tensor parallel 4 on H100-80GB SXM, the paper's set-up:
  ``c`` from the saturated point Lambda published for vLLM 0.6.0
  (LambdaLabsML/vllm-benchmark, ``benchmark_v0.md``: 3,542.88 output tokens/s
  with ``max-num-seq`` 256, 10 scheduler steps), ``a`` from the roofline (141 GB
  of weights over 4 x 3.35 TB/s at 80% of peak: 13.2 ms), since that report gives
  no single-sequence figure.
- **Prefill**: a sequence's prompt is read when it is admitted, at
  :data:`PREFILL_TOKENS_PER_S` (compute-bound: 2 x 70e9 FLOPs per token on 4 x
  989 TFLOP/s at 50% utilisation), added to the step that admits it.
- **Answers**: output lengths drawn from a log-normal with the paper's mean
  (SGCR 548, SCOR 835 tokens), spread :data:`LENGTH_SIGMA`, plus a
  :data:`RUNAWAY_SHARE` of answers that run to ``max_tokens`` (8,192): most
  short, a long tail, as real rewrites are.

Between events every running sequence decodes one token per step, so the time
to the next finish is exact: ``k`` steps of ``t(b)`` where ``k`` is the fewest
tokens any running sequence still needs.

Speculative decoding (:class:`Speculation`): a sequence emits ``tokens_per_step``
tokens per step on average and each step checks ``proposed_per_step`` tokens per
sequence on top of its own, each costing ``f_ms`` of compute per sequence. The
engine for any rewriter, GPU and layout is built in :mod:`.gpu_bill`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "NO_SPECULATION",
    "EngineModel",
    "Speculation",
    "LENGTH_SIGMA",
    "PAPER_STAGES",
    "PREFILL_TOKENS_PER_S",
    "RUNAWAY_SHARE",
    "StageLoad",
    "answer_lengths",
    "feeding_gain",
    "simulate",
]

# Lambda, vLLM 0.6.0, Llama 3.1 70B, tp=4, 4 x H100-80GB SXM, max-num-seq 256: output tok/s.
LAMBDA_SATURATED_TOKENS_PER_S = 3542.88
LAMBDA_SLOTS = 256
# Roofline: 141e9 bytes of bf16 weights / (4 x 3.35e12 B/s x 0.8), in ms.
WEIGHTS_STEP_MS = 141e9 / (4 * 3.35e12 * 0.8) * 1000
PREFILL_TOKENS_PER_S = 4 * 989e12 * 0.5 / (2 * 70e9)
LENGTH_SIGMA = 0.9
RUNAWAY_SHARE = 0.01
PAPER_MAX_TOKENS = 8192
PAPER_CALL_SIZE = 2048
GPUS_PER_ENGINE = 4


@dataclass(frozen=True)
class Speculation:
    """Speculative decoding as the engine model sees it: ``tokens_per_step`` emitted
    per sequence per step, ``proposed_per_step`` tokens checked on top of its own."""

    tokens_per_step: float = 1.0
    proposed_per_step: float = 0.0


NO_SPECULATION = Speculation()


@dataclass(frozen=True)
class EngineModel:
    """Step time ``a_ms + c_ms * b + f_ms * d * b`` for ``b`` running sequences that
    each check ``d`` proposed tokens (``f_ms``: checking one proposed token), ``slots``
    at most."""

    a_ms: float = WEIGHTS_STEP_MS
    c_ms: float = (
        LAMBDA_SLOTS / LAMBDA_SATURATED_TOKENS_PER_S * 1000 - WEIGHTS_STEP_MS
    ) / LAMBDA_SLOTS
    slots: int = LAMBDA_SLOTS
    prefill_tokens_per_s: float = PREFILL_TOKENS_PER_S
    f_ms: float = 0.0

    def step_s(self, running: int, proposed: float = 0.0) -> float:
        return (self.a_ms + (self.c_ms + self.f_ms * proposed) * running) / 1000


@dataclass(frozen=True)
class StageLoad:
    """One rewriting stage of the paper: requests, mean prompt, source and answer tokens
    (the source is the text being rewritten, which ``--max_tokens_ratio`` scales)."""

    name: str
    requests: int
    prompt_tokens: float
    source_tokens: float
    answer_tokens: float


# The paper's two code rewrites (SPEC): SGCR reads the linted files (20.2B tokens over
# 24.1M files) under a ~350-token prompt; SCOR reads SGCR's code under a ~300-token one.
PAPER_STAGES = (
    StageLoad("sgcr", 24_100_915, 838 + 350, 838, 548),
    StageLoad("scor", 20_800_000, 548 + 300, 548, 835),
)


def answer_lengths(
    n: int, mean: float, rng: np.random.Generator, max_tokens: int = PAPER_MAX_TOKENS
) -> np.ndarray:
    """``n`` answer lengths: log-normal around ``mean``, a runaway share at ``max_tokens``."""
    mu = math.log(mean) - LENGTH_SIGMA**2 / 2
    lengths = np.clip(np.rint(rng.lognormal(mu, LENGTH_SIGMA, n)), 1, max_tokens)
    lengths[rng.random(n) < RUNAWAY_SHARE] = max_tokens
    return lengths.astype(np.int64)


def _drain(
    engine: EngineModel, answers: np.ndarray, prompts: np.ndarray, proposed: float = 0.0
) -> float:
    """Seconds for the engine to answer these requests, admitted as slots free;
    ``answers`` counts the steps each needs, ``proposed`` the tokens each step checks."""
    clock, queued = 0.0, 0
    running = np.empty(0, dtype=np.int64)
    while queued < len(answers) or running.size:
        admit = min(engine.slots - running.size, len(answers) - queued)
        if admit:
            clock += prompts[queued : queued + admit].sum() / engine.prefill_tokens_per_s
            running = np.concatenate([running, answers[queued : queued + admit]])
            queued += admit
        steps = int(running.min())
        clock += steps * engine.step_s(running.size, proposed)
        running = running[running > steps] - steps
    return clock


def simulate(
    engine: EngineModel,
    answers: np.ndarray,
    prompts: np.ndarray,
    call_size: int | None,
    speculation: Speculation = NO_SPECULATION,
) -> float:
    """Engine seconds for the requests: ``call_size`` per synchronous call (the next
    call after the last answer of this one), or ``None``: fed continuously. With
    ``speculation`` an answer of ``n`` tokens takes ``ceil(n / tokens_per_step)`` steps."""
    steps = np.ceil(answers / speculation.tokens_per_step).astype(np.int64)
    proposed = speculation.proposed_per_step
    if call_size is None:
        return _drain(engine, steps, prompts, proposed)
    return sum(
        _drain(engine, steps[i : i + call_size], prompts[i : i + call_size], proposed)
        for i in range(0, len(steps), call_size)
    )


def feeding_gain(
    stages: tuple[StageLoad, ...] = PAPER_STAGES,
    ratio: float | None = 3.0,
    sample: int = 16 * PAPER_CALL_SIZE,
    seed: int = 0,
) -> dict[str, float]:
    """H100-hours for ``stages`` fed in the paper's calls (``batch``), continuously
    (``continuous``), and continuously with each answer capped at ``floor + ratio x
    source tokens`` (``capped``: ``--max_tokens_ratio``; a capped answer is one the
    stage rejects ``truncated``, as it would a runaway), from ``sample`` simulated
    requests per stage scaled to each stage's count; ``gain`` is batch / continuous."""
    from beam_swallow.inference.config import MAX_TOKENS_FLOOR

    engine = EngineModel()
    rng = np.random.default_rng(seed)
    hours = {"batch": 0.0, "continuous": 0.0, "capped": 0.0}
    for stage in stages:
        answers = answer_lengths(sample, stage.answer_tokens, rng)
        prompts = np.full(sample, stage.prompt_tokens)
        scale = stage.requests / sample * GPUS_PER_ENGINE / 3600
        hours["batch"] += simulate(engine, answers, prompts, PAPER_CALL_SIZE) * scale
        hours["continuous"] += simulate(engine, answers, prompts, None) * scale
        if ratio is not None:
            cap = MAX_TOKENS_FLOOR + math.ceil(ratio * stage.source_tokens)
            capped = np.minimum(answers, cap)
            hours["capped"] += simulate(engine, capped, prompts, None) * scale
    hours["gain"] = hours["batch"] / hours["continuous"]
    return hours
