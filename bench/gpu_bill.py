"""The GPU bill, simulated: rewriters, GPUs and layouts for the paper's SGCR + SCOR load.

No GPU here: :mod:`beam_swallow.reporting.gpu_bill` builds the engine model of
each rewriter on each GPU and layout from the roofline, calibrated on Lambda's
published vLLM figures, with speculation's tokens per step from the replay of
vLLM's n-gram proposer over recorded answers. Prints:

1. the calibrated constants;
2. the 70B step by step from the paper's set-up: continuous feeding, FP8
   weights, FP8 KV cache, replicas instead of tensor parallel 4, speculation;
3. speculation's gain against the number of running sequences (verification
   costs compute for every proposed token of every sequence);
4. every layout of an 8-GPU node per rewriter and GPU, best first (the
   recommended table, docs/gpus.md, is the best of these);
5. the goals: the paper's 70B at >= 2.5x the paper's output tokens per H100,
   a v2-class rewriter at >= 5x, the paper's corpus under 10,000 H100-hours.

Gains are GPU-hours of the paper's set-up in the model (Llama 70B, bf16,
tensor parallel 4 on H100s, 2,048-prompt calls) over the layout's; ``beam-swallow
plan`` multiplies them into the paper's measured ~360 output tokens/s per H100.

Usage: python bench/gpu_bill.py [--sample 8192] [--top 3]
"""

from __future__ import annotations

import argparse
import itertools

from beam_swallow.reporting.engine_sim import PAPER_CALL_SIZE, Speculation
from beam_swallow.reporting.gpu_bill import (
    DECODE_MFU,
    FP8_COMPUTE_GAIN,
    LAMBDA_CONTEXT,
    REPLAY_SPECULATION,
    TP_COST,
    engine_for,
    paper_gain,
    rewriting_hours,
    speculation_gain,
)
from beam_swallow.reporting.plan import PAPER_GPU_HOURS, PAPER_H100_TOKENS_PER_S
from beam_swallow.reporting.rewriters import GPUS, LAYOUTS, PAPER_LAYOUT, REWRITERS, Layout

PAPER_OUTPUT_TOKENS = 24_100_915 * 548 + 20_800_000 * 835


def _candidates(fp8_weights: bool) -> list[Layout]:
    out = []
    for tp, fp8, fp8_kv, seqs in itertools.product(
        (1, 2, 4, 8), (False, True), (False, True), (256, 512, 1024)
    ):
        if fp8 and not fp8_weights:
            continue
        out.append(Layout(tp=tp, fp8=fp8, fp8_kv=fp8_kv, max_num_seqs=seqs))
    return out


def _gain(rewriter: str, gpu: str, layout: Layout, spec, sample: int, base: float) -> float:
    bill = rewriting_hours(REWRITERS[rewriter], GPUS[gpu], layout, spec, sample=sample)
    return base / bill.gpu_hours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=8192)
    parser.add_argument("--top", type=int, default=3)
    args = parser.parse_args()
    llama, h100 = REWRITERS["llama-3.3-70b"], GPUS["H100"]
    base = rewriting_hours(
        llama, h100, PAPER_LAYOUT, call_size=PAPER_CALL_SIZE, sample=args.sample
    ).gpu_hours
    print(
        f"calibration: decode MFU {DECODE_MFU:.3f} (Lambda 70B bf16 tp4, context "
        f"{LAMBDA_CONTEXT:.0f}), FP8 compute x{FP8_COMPUTE_GAIN:.2f}, tensor-parallel cost "
        + ", ".join(f"tp{tp} x{cost:.2f}" for tp, cost in sorted(TP_COST.items()))
    )
    for name, spec in REPLAY_SPECULATION.items():
        print(
            f"speculation {name}: {spec.tokens_per_step:.2f} tokens per step, "
            f"{spec.proposed_per_step:.2f} proposed per step (CPU replay)"
        )
    print(
        f"paper's set-up in the model, batch-fed: {base:,.0f} H100-h (paper: {PAPER_GPU_HOURS:,})"
    )

    print("\n## 70B on H100, one step at a time\n")
    print("| set-up | H100-h | gain over the paper's | output tok/s per H100 (x 360) |")
    print("|---|---|---|---|")
    steps = [
        ("paper: bf16, 2 x tp4, calls of 2,048", PAPER_LAYOUT, None, PAPER_CALL_SIZE),
        ("fed continuously", PAPER_LAYOUT, None, None),
        ("+ FP8 weights", Layout(tp=4, fp8=True, fp8_kv=False), None, None),
        ("+ FP8 KV cache", Layout(tp=4, fp8=True, fp8_kv=True), None, None),
        ("+ 4 replicas of tp2", Layout(tp=2, fp8=True, fp8_kv=True), None, None),
        ("+ n-gram speculation", Layout(tp=2, fp8=True, fp8_kv=True), REPLAY_SPECULATION, None),
    ]
    for label, layout, spec, calls in steps:
        bill = rewriting_hours(llama, h100, layout, spec, call_size=calls, sample=args.sample)
        gain = base / bill.gpu_hours
        print(
            f"| {label} | {bill.gpu_hours:,.0f} | {gain:.2f} | "
            f"{gain * PAPER_H100_TOKENS_PER_S:,.0f} |"
        )

    print("\n## speculation's gain against running sequences (70B, FP8, tp2, H100)\n")
    print("| stage | " + " | ".join(f"{b} running" for b in (1, 16, 64, 128, 256)) + " |")
    print("|---|" + "---|" * 5)
    layout = LAYOUTS[("llama-3.3-70b", "H100")]
    engine = engine_for(llama, h100, layout, 1188 + 548)
    for name, spec in REPLAY_SPECULATION.items():
        gains = [speculation_gain(spec, engine, b) for b in (1, 16, 64, 128, 256)]
        print(f"| {name} | " + " | ".join(f"{g:.2f}" for g in gains) + " |")
    demo = Speculation(tokens_per_step=2.0, proposed_per_step=2.5)
    gains = [speculation_gain(demo, engine, b) for b in (1, 16, 64, 128, 256)]
    print("| (2.0 per step, 2.5 proposed) | " + " | ".join(f"{g:.2f}" for g in gains) + " |")

    print("\n## layouts of an 8-GPU node, best first\n")
    print("| rewriter | GPU | layout | gain | recommended |")
    print("|---|---|---|---|---|")
    for (rewriter, gpu), chosen in LAYOUTS.items():
        model = REWRITERS[rewriter]
        scored = []
        for layout in _candidates(model.fp8_weights):
            try:
                gain = _gain(rewriter, gpu, layout, REPLAY_SPECULATION, args.sample, base)
            except ValueError:
                continue  # does not fit
            scored.append((gain, layout))
        scored.sort(key=lambda item: -item[0])
        mine = _gain(rewriter, gpu, chosen, REPLAY_SPECULATION, args.sample, base)
        for gain, layout in scored[: args.top]:
            print(f"| {rewriter} | {gpu} | {layout.describe(model)} | {gain:.2f} | |")
        print(f"| {rewriter} | {gpu} | {chosen.describe(model)} | {mine:.2f} | yes |")

    print("\n## goals (simulated)\n")
    llama_gain, _, llama_bill = paper_gain("llama-3.3-70b", "H100", sample=args.sample)
    v2_gain, _, _ = paper_gain("qwen3-235b-a22b", "H100", sample=args.sample)
    corpus_hours = PAPER_OUTPUT_TOKENS / (llama_gain * PAPER_H100_TOKENS_PER_S) / 3600
    print(f"- 70B on H100s: {llama_gain:.2f}x the paper's output tokens per H100 (goal 2.5x)")
    print(f"- Qwen3-235B-A22B on H100s: {v2_gain:.2f}x (goal 5x)")
    print(f"- the paper's corpus with the 70B: {corpus_hours:,.0f} H100-hours (goal < 10,000)")


if __name__ == "__main__":
    main()
