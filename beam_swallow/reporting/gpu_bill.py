"""The GPU bill, simulated: any rewriter of :mod:`.rewriters` on any layout, priced.

No GPU ran for this module: it builds :mod:`.engine_sim`'s engine from the
roofline of a model on a GPU, with each efficiency calibrated on a published
measurement, and runs the paper's SGCR and SCOR load through it.

Per replica of ``tp`` GPUs (:func:`engine_for`):

- a decode step reads the weights once, ``a = weight bytes / (tp x bandwidth
  x`` :data:`BANDWIDTH_EFFICIENCY` ``)``, and each running sequence's KV cache,
  ``c_kv = KV bytes per token x context / (same)``; each token a sequence
  processes costs ``f = 2 x active parameters / (tp x BF16 FLOP/s x``
  :data:`DECODE_MFU` ``) x`` :data:`TP_COST` ``[tp]``: ``t(b) = a + b x
  (c_kv + f)``. That decode cost holds more than arithmetic (scheduling,
  sampling, attention), which is why :data:`DECODE_MFU` comes out low.
- speculation: each sequence also checks ``d`` proposed tokens per step, which
  are arithmetic only, as a prompt's tokens are: ``v = 2 x active parameters /
  (tp x FLOP/s x`` :data:`PREFILL_MFU` ``)`` each, so ``t(b) = a + b x (c_kv + f
  + d x v)``; the cost grows with the batch. That prices proposed tokens as
  a prompt's; where they cost what a decoded token does (``v = f``, the
  pessimistic bound, ``verify_mfu=DECODE_MFU``) speculation gains far less
  with a full batch (BENCHMARKS.md gives both).
- :data:`DECODE_MFU` is the value that gives back Lambda's 3,542.88 output
  tokens/s for Llama 3.1 70B, bf16, tensor parallel 4 on 4 x H100 SXM, 256
  sequences of at most 2,048 tokens (vLLM 0.6.0, 10 scheduler steps;
  LambdaLabsML/vllm-benchmark, ``benchmark_v0.md``), taking their mean context
  as :data:`LAMBDA_CONTEXT` (an assumption: half the 2,048 bound).
- FP8 weights (W8A8) halve ``a`` and divide ``f`` by :data:`FP8_COMPUTE_GAIN`,
  the value that gives back Lambda's FP8 70B over bf16 70B at tensor parallel 4
  on vLLM 0.5.4 (2,242.99 against 1,491.93 output tokens/s, 1.50x; vLLM's FP8
  W8A8 page: "up to a 1.6x improvement in throughput"). An FP8 KV cache
  (``--kv-cache-dtype fp8``) halves ``c_kv`` and the memory each sequence holds.
- :data:`DECODE_FLOOR_MS`: no model decodes a running sequence faster than
  Llama 3.1 8B did on one H100 in the same Lambda report (8,088.35 output
  tokens/s, 256 sequences, vLLM 0.6.0): its per-sequence cost beyond the KV
  read, which is scheduling and sampling as much as arithmetic, is the floor of
  ``f`` (the mixtures of experts, with 3-22B active parameters, would
  otherwise decode for almost nothing per sequence).
- :data:`TP_COST`: what tensor parallel costs beyond the roofline (all-reduces,
  smaller matrices per GPU), the factor on ``f`` that gives back Lambda's FP8
  70B output per GPU at tensor parallel 2 and 8 against 4 (1,727.69, 2,242.99
  and 2,572.8 tokens/s on 2, 4 and 8 H100s, 320 prompts: 1.54x and 0.57x per
  GPU). Tensor parallel 1 is given tensor parallel 2's cost (no figure; it has
  no all-reduce, so this leans pessimistic). These are vLLM 0.5.4's figures,
  whose per-step CPU work was heavier than today's (Lambda: 0.6.0 more than
  doubled the 70B's output), which favours more replicas of fewer GPUs: the
  layout ratio is the first figure a GPU run must check.
- a replica runs at most ``max_num_seqs`` sequences and no more than its KV
  cache holds beside the weights at vLLM's default memory utilisation
  (:func:`kv_slots`); a layout whose weights leave no room is refused.
- prefill is arithmetic at :data:`PREFILL_MFU` of the tensor throughput (the
  engine model's standing assumption), as are the proposed tokens above.
- speculation: per stage, tokens emitted and tokens proposed per step from the
  replay of vLLM's n-gram proposer over recorded answers
  (:data:`REPLAY_TABLE`, ``bench/spec_replay.py``). Those answers are
  SmolLM2-135M's on CPU, the only model this project can run: a 70B's
  rewrites copy their input differently, which a GPU run must measure
  (``--record_pairs`` and ``bench/spec_replay.py`` on its answers).

:func:`rewriting_hours` gives GPU-hours for a load; :func:`paper_gain` the
ratio to the paper's own set-up in the same model (Llama, bf16, tensor
parallel 4 on H100s, fed 2,048 prompts per call, no speculation), which
``beam-swallow plan`` multiplies into the paper's measured ~360 output tokens/s
per H100.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from beam_swallow.reporting.engine_sim import (
    LAMBDA_SATURATED_TOKENS_PER_S,
    LAMBDA_SLOTS,
    NO_SPECULATION,
    PAPER_CALL_SIZE,
    PAPER_STAGES,
    EngineModel,
    Speculation,
    StageLoad,
    answer_lengths,
    simulate,
)
from beam_swallow.reporting.rewriters import (
    GPUS,
    LAYOUTS,
    PAPER_LAYOUT,
    REWRITERS,
    GpuSpec,
    Layout,
    Rewriter,
)

__all__ = [
    "BANDWIDTH_EFFICIENCY",
    "DECODE_FLOOR_MS",
    "DECODE_MFU",
    "FP8_COMPUTE_GAIN",
    "LAMBDA_CONTEXT",
    "PREFILL_MFU",
    "DRAFT_LENGTHS",
    "REPLAY_TABLE",
    "TP_COST",
    "Bill",
    "engine_for",
    "kv_slots",
    "paper_gain",
    "rewriter_rate",
    "replay_speculation",
    "rewriting_hours",
    "sixteen_bit_layout",
    "speculation_gain",
]

# The engine model's standing roofline assumptions (engine_sim: weights at 80% of HBM
# bandwidth, prefill at 50% of the tensor throughput).
BANDWIDTH_EFFICIENCY = 0.8
PREFILL_MFU = 0.5
# vLLM's default --gpu-memory-utilization.
MEMORY_UTILIZATION = 0.9
# Assumed mean context of Lambda's runs (max-seq-len 2,048; their report gives no mean).
LAMBDA_CONTEXT = 1024.0
# Lambda, vLLM 0.5.4, 4 x H100 SXM, tensor parallel 4: Llama 3.1 70B bf16 (5,000 prompts) and
# Meta-Llama-3.1-70B-Instruct-FP8 (320 prompts), output tokens/s.
LAMBDA_V054_BF16_TP4 = 1491.93
LAMBDA_V054_FP8_TP4 = 2242.99
# Lambda's FP8 70B, vLLM 0.5.4, 320 prompts: output tokens/s of the whole system per tp.
LAMBDA_FP8_BY_TP = {2: 1727.69, 4: 2242.99, 8: 2572.8}
LAMBDA_FP8_PROMPTS = 320
# Lambda, vLLM 0.6.0, Llama 3.1 8B, tp 1, 1 x H100 SXM, 256 sequences of at most 2,048 tokens,
# 10 scheduler steps: output tokens/s; the 8B has 32 layers of 8 KV heads of 128.
LAMBDA_8B_TP1 = 8088.35
_LLAMA_8B = Rewriter(
    "Llama-3.1-8B-Instruct", 8.03e9, 8.03e9, 32, 8, 128, "meta-llama/Llama-3.1-8B model card"
)

_LLAMA = REWRITERS["llama-3.3-70b"]
_H100 = GPUS["H100"]


def _parts(
    model: Rewriter, gpu: GpuSpec, tp: int, fp8: bool, fp8_kv: bool, context: float
) -> tuple[float, float, float]:
    """Milliseconds: weights read per step, KV read per sequence, one token's compute at
    the full BF16 tensor throughput."""
    bandwidth = tp * gpu.bandwidth * BANDWIDTH_EFFICIENCY
    weights = model.weights(fp8) / bandwidth * 1000
    kv = model.kv_bytes_per_token * (0.5 if fp8_kv else 1.0) * context / bandwidth * 1000
    ideal = 2 * model.active_params / (tp * gpu.bf16_flops) * 1000
    return weights, kv, ideal


def kv_slots(model: Rewriter, gpu: GpuSpec, layout: Layout, context: float) -> int:
    """Sequences of ``context`` tokens whose KV cache fits one replica beside its weights."""
    free = layout.tp * gpu.memory * MEMORY_UTILIZATION - model.weights(layout.fp8)
    per_sequence = model.kv_bytes_per_token * (0.5 if layout.fp8_kv else 1.0) * context
    return max(0, int(free // per_sequence))


def _calibrate() -> tuple[float, float, dict[int, float]]:
    """DECODE_MFU, FP8_COMPUTE_GAIN and TP_COST from Lambda's figures (module doc)."""
    weights, kv, ideal = _parts(_LLAMA, _H100, 4, False, False, LAMBDA_CONTEXT)
    step = LAMBDA_SLOTS / LAMBDA_SATURATED_TOKENS_PER_S * 1000
    per_token = (step - weights) / LAMBDA_SLOTS - kv
    mfu = ideal / per_token
    weights8, kv8, _ = _parts(_LLAMA, _H100, 4, True, False, LAMBDA_CONTEXT)
    step8 = step / (LAMBDA_V054_FP8_TP4 / LAMBDA_V054_BF16_TP4)
    fp8_gain = per_token / ((step8 - weights8) / LAMBDA_SLOTS - kv8)

    def running(tp: int) -> int:
        layout = Layout(tp=tp, fp8=True, fp8_kv=False)
        slots = kv_slots(_LLAMA, _H100, layout, LAMBDA_CONTEXT)
        return min(LAMBDA_SLOTS, LAMBDA_FP8_PROMPTS, slots)

    def per_gpu(tp: int, cost: float) -> float:
        a, c_kv, unit = _parts(_LLAMA, _H100, tp, True, False, LAMBDA_CONTEXT)
        b = running(tp)
        return b * 1000 / (a + b * (c_kv + unit / mfu / fp8_gain * cost)) / tp

    reference = per_gpu(4, 1.0)
    cost = {4: 1.0}
    for tp in (2, 8):
        target = reference * (LAMBDA_FP8_BY_TP[tp] / tp) / (LAMBDA_FP8_BY_TP[4] / 4)
        a, c_kv, unit = _parts(_LLAMA, _H100, tp, True, False, LAMBDA_CONTEXT)
        b = running(tp)
        cost[tp] = ((b * 1000 / (target * tp) - a) / b - c_kv) / (unit / mfu / fp8_gain)
    cost[1] = cost[2]
    return mfu, fp8_gain, cost


DECODE_MFU, FP8_COMPUTE_GAIN, TP_COST = _calibrate()


def _floor() -> float:
    weights, kv, _ = _parts(_LLAMA_8B, _H100, 1, False, False, LAMBDA_CONTEXT)
    step = LAMBDA_SLOTS / LAMBDA_8B_TP1 * 1000
    return (step - weights) / LAMBDA_SLOTS - kv


DECODE_FLOOR_MS = _floor()

# Tokens per step and tokens proposed per step of vLLM's n-gram proposer (2- to 4-grams, the
# --speculative defaults) at each draft length, replayed over the finished answers a run of the
# pipeline recorded with --record_pairs: SmolLM2-135M-Instruct on vLLM's CPU build, temperature
# 0, 24 standard-library files and 14 FineMath pages (BENCHMARKS.md, speculative decoding,
# 2026-12-07; at draft length 4 the server's own counts gave the same tokens per step). A 135M
# model echoes more of its input than a 70B rewrites it: a GPU run must measure these again.
REPLAY_TABLE: dict[str, dict[int, Speculation]] = {
    "sgcr": {
        1: Speculation(1.59, 0.75),
        2: Speculation(1.98, 1.36),
        3: Speculation(2.23, 1.92),
        4: Speculation(2.41, 2.43),
        6: Speculation(2.68, 3.35),
        8: Speculation(2.85, 4.23),
    },
    "scor": {
        1: Speculation(1.87, 0.93),
        2: Speculation(2.61, 1.81),
        3: Speculation(3.35, 2.64),
        4: Speculation(4.05, 3.42),
        6: Speculation(4.96, 4.94),
        8: Speculation(6.15, 6.24),
    },
    "rewrite": {
        1: Speculation(1.59, 0.73),
        2: Speculation(1.99, 1.34),
        3: Speculation(2.26, 1.87),
        4: Speculation(2.48, 2.35),
        6: Speculation(2.74, 3.25),
        8: Speculation(2.91, 4.11),
    },
    "math_rewrite": {
        1: Speculation(1.47, 0.76),
        2: Speculation(1.73, 1.44),
        3: Speculation(1.86, 2.10),
        4: Speculation(1.99, 2.71),
        6: Speculation(2.10, 3.93),
        8: Speculation(2.17, 5.13),
    },
    "score": {k: Speculation(1.03, 0.36 * k) for k in (1, 2, 3, 4, 6, 8)},
}
DRAFT_LENGTHS = (1, 2, 3, 4, 6, 8)


def replay_speculation(draft: int) -> dict[str, Speculation]:
    """Each stage's replayed speculation at one draft length (one server, one setting)."""
    return {stage: table[draft] for stage, table in REPLAY_TABLE.items()}


def engine_for(
    model: Rewriter,
    gpu: GpuSpec,
    layout: Layout,
    context: float,
    verify_mfu: float = PREFILL_MFU,
) -> EngineModel:
    """One replica's engine for a load whose running sequences hold ``context`` tokens;
    proposed tokens are checked at ``verify_mfu`` of the tensor throughput. ValueError
    when the weights leave no room for a sequence."""
    fp8 = layout.fp8 and model.fp8_weights
    weights, kv, ideal = _parts(model, gpu, layout.tp, fp8, layout.fp8_kv, context)
    fp8_speed = FP8_COMPUTE_GAIN if fp8 else 1.0
    tp_cost = TP_COST.get(layout.tp, TP_COST[8])
    per_token = max(ideal / (DECODE_MFU * fp8_speed) * tp_cost, DECODE_FLOOR_MS)
    verify = ideal / (verify_mfu * fp8_speed) * tp_cost
    slots = min(layout.max_num_seqs, kv_slots(model, gpu, layout, context))
    if slots < 1:
        raise ValueError(f"{model.name} does not fit {layout.describe()} on {gpu.name}")
    return EngineModel(
        a_ms=weights,
        c_ms=kv + per_token,
        slots=slots,
        prefill_tokens_per_s=1000 / verify,
        f_ms=verify,
    )


@dataclass(frozen=True)
class Bill:
    """GPU-hours of a load on one layout, its output tokens, each stage's slots and the
    speculation each stage ran with (tokens per step; 1.0: none)."""

    gpu_hours: float
    output_tokens: float
    slots: dict[str, int]
    tokens_per_step: dict[str, float]

    @property
    def tokens_per_gpu_s(self) -> float:
        return self.output_tokens / (self.gpu_hours * 3600)


def rewriting_hours(
    model: Rewriter,
    gpu: GpuSpec,
    layout: Layout,
    speculation: dict[str, Speculation] | None = None,
    call_size: int | None = None,
    stages: tuple[StageLoad, ...] = PAPER_STAGES,
    sample: int = 8192,
    seed: int = 0,
    verify_mfu: float = PREFILL_MFU,
) -> Bill:
    """GPU-hours for ``stages`` on ``layout``: ``sample`` simulated requests per stage
    (log-normal answers, the same draws for every layout at one seed), scaled to each
    stage's count; ``call_size`` prompts per synchronous call, or None (continuous).
    A stage speculates (``speculation`` by stage name) only where that gains with the
    replica's slots full, as --speculative would be set per run of that stage."""
    rng = np.random.default_rng(seed)
    hours, tokens, slots, steps = 0.0, 0.0, {}, {}
    for stage in stages:
        answers = answer_lengths(sample, stage.answer_tokens, rng)
        prompts = np.full(sample, stage.prompt_tokens)
        context = stage.prompt_tokens + stage.answer_tokens
        engine = engine_for(model, gpu, layout, context, verify_mfu)
        slots[stage.name] = engine.slots
        spec = (speculation or {}).get(stage.name, NO_SPECULATION)
        if speculation_gain(spec, engine, engine.slots) <= 1.0:
            spec = NO_SPECULATION  # the stage speculates only where a full batch gains
        steps[stage.name] = spec.tokens_per_step
        seconds = simulate(engine, answers, prompts, call_size, spec)
        hours += seconds * stage.requests / sample * layout.tp / 3600
        tokens += answers.sum() * stage.requests / sample
    return Bill(gpu_hours=hours, output_tokens=tokens, slots=slots, tokens_per_step=steps)


def sixteen_bit_layout(model: Rewriter, gpu: GpuSpec) -> Layout:
    """The paper's way of serving, for any model: 16-bit weights and KV cache, the fewest
    GPUs per replica (1, 2, 4, 8) that hold 256 sequences of the paper's SGCR load."""
    context = PAPER_STAGES[0].prompt_tokens + PAPER_STAGES[0].answer_tokens
    for tp in (1, 2, 4, 8):
        layout = Layout(tp=tp, fp8=False, fp8_kv=False)
        if kv_slots(model, gpu, layout, context) >= layout.max_num_seqs:
            return layout
    raise ValueError(f"{model.name} in 16 bits does not fit 8 x {gpu.name}")


@cache
def _paper_hours(sample: int, seed: int) -> float:
    return rewriting_hours(
        _LLAMA, _H100, PAPER_LAYOUT, call_size=PAPER_CALL_SIZE, sample=sample, seed=seed
    ).gpu_hours


def paper_gain(
    rewriter: str,
    gpu: str,
    layout: str = "recommended",
    feeding: str = "continuous",
    sample: int = 8192,
    seed: int = 0,
    verify_mfu: float = PREFILL_MFU,
) -> tuple[float, Layout, Bill]:
    """GPU-hours of the paper's set-up over those of ``rewriter`` on ``gpu``, both in the
    model: ``layout`` "recommended" (:data:`~.rewriters.LAYOUTS`, with the replay's
    speculation per stage) or "paper" (:func:`sixteen_bit_layout`, no speculation);
    ``feeding`` "continuous" or "batch" (the paper's 2,048-prompt calls). The
    recommended layout speculates at the draft length that bills least (one per run:
    the stages share the server), on the stages where that gains."""
    model, spec = REWRITERS[rewriter], GPUS[gpu]
    call_size = PAPER_CALL_SIZE if feeding == "batch" else None
    if layout == "recommended":
        chosen = LAYOUTS[(rewriter, gpu)]
        bill = min(
            (
                rewriting_hours(
                    model,
                    spec,
                    chosen,
                    replay_speculation(k),
                    call_size,
                    sample=sample,
                    seed=seed,
                    verify_mfu=verify_mfu,
                )
                for k in DRAFT_LENGTHS
            ),
            key=lambda b: b.gpu_hours,
        )
    else:
        chosen = sixteen_bit_layout(model, spec)
        bill = rewriting_hours(model, spec, chosen, None, call_size, sample=sample, seed=seed)
    return _paper_hours(sample, seed) / bill.gpu_hours, chosen, bill


def speculation_gain(speculation: Speculation, engine: EngineModel, running: int) -> float:
    """Output tokens/s with ``speculation`` over without, ``running`` sequences per step."""
    spec_step = engine.step_s(running, speculation.proposed_per_step)
    return speculation.tokens_per_step * engine.step_s(running) / spec_step


def rewriter_rate(
    rewriter: str, gpu: str, layout: str, feeding: str, paper_rate: float
) -> tuple[float, str]:
    """Output tokens/s per GPU for ``beam-swallow plan``: the paper's measured
    ``paper_rate`` times :func:`paper_gain`, and a sentence saying where it comes from.

    A plan is a budget, so where the layout speculates the rate is the pessimistic
    bound (proposed tokens checked at a decoded token's cost, ``verify_mfu=DECODE_MFU``),
    and the sentence gives the optimistic one (a prompt token's cost) beside it: which
    holds at a full batch is what a GPU run must measure. ValueError for a GPU or
    rewriter without figures here."""
    if gpu not in GPUS or rewriter not in REWRITERS:
        raise ValueError(
            f"no figures for {rewriter} on {gpu}: rewriters {', '.join(REWRITERS)}, GPUs "
            f"{', '.join(GPUS)} (or give --tokens_per_s)"
        )
    model = REWRITERS[rewriter]
    if layout == "recommended":
        gain, chosen, _ = paper_gain(rewriter, gpu, layout, feeding, verify_mfu=DECODE_MFU)
        optimistic, _, _ = paper_gain(rewriter, gpu, layout, feeding)
        speculation = (
            "n-gram speculation at the CPU replay's tokens per step, proposed tokens "
            f"checked at a decoded token's cost (x {optimistic:.2f} at a prompt token's)"
        )
    else:
        gain, chosen, _ = paper_gain(rewriter, gpu, layout, feeding)
        speculation = "no speculation"
    return paper_rate * gain, (
        f"simulated: the paper's {paper_rate:.0f} x {gain:.2f} for {model.name} on "
        f"{chosen.describe(model)}, {speculation}, "
        f"{'fed continuously' if feeding == 'continuous' else 'fed in 2,048-prompt calls'}; "
        "engine model calibrated "
        "on published figures, BENCHMARKS.md, the GPU bill"
    )
