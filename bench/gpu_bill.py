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
    DECODE_FLOOR_MS,
    DECODE_MFU,
    DRAFT_LENGTHS,
    FP8_COMPUTE_GAIN,
    LAMBDA_CONTEXT,
    PREFILL_MFU,
    REPLAY_TABLE,
    TP_COST,
    engine_for,
    paper_gain,
    replay_speculation,
    rewriting_hours,
    speculation_gain,
)
from beam_swallow.reporting.plan import PAPER_GPU_HOURS, PAPER_H100_TOKENS_PER_S
from beam_swallow.reporting.rewriters import GPUS, LAYOUTS, PAPER_LAYOUT, REWRITERS, Layout

PAPER_OUTPUT_TOKENS = 24_100_915 * 548 + 20_800_000 * 835


def _candidates(fp8_weights: bool) -> list[Layout]:
    out = []
    for tp, fp8, fp8_kv, seqs in itertools.product(
        (1, 2, 4, 8), (False, True), (False, True), (128, 256, 512, 1024)
    ):
        if fp8 and not fp8_weights:
            continue
        out.append(Layout(tp=tp, fp8=fp8, fp8_kv=fp8_kv, max_num_seqs=seqs))
    return out


def _best(rewriter: str, gpu: str, layout: Layout, sample: int, drafts) -> tuple[float, int]:
    """GPU-hours of the layout at its best draft length (0: no speculation), and that length."""
    model, spec = REWRITERS[rewriter], GPUS[gpu]
    best = (float("inf"), 0)
    for k in (0, *drafts):
        speculation = replay_speculation(k) if k else None
        hours = rewriting_hours(model, spec, layout, speculation, sample=sample).gpu_hours
        best = min(best, (hours, k))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=8192)
    parser.add_argument("--search_sample", type=int, default=4096)
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
        + f", decode floor {DECODE_FLOOR_MS:.4f} ms per sequence (Lambda 8B tp1)"
    )
    print(
        f"paper's set-up in the model, batch-fed: {base:,.0f} H100-h (paper: {PAPER_GPU_HOURS:,})"
    )

    print("\n## 70B on H100, one step at a time\n")
    print("| set-up | H100-h | gain over the paper's | output tok/s per H100 (x 360) |")
    print("|---|---|---|---|")
    tp2 = Layout(tp=2, fp8=True, fp8_kv=True)
    hours_spec, k_best = _best("llama-3.3-70b", "H100", tp2, args.sample, DRAFT_LENGTHS)
    steps = [
        ("paper: bf16, 2 x tp4, calls of 2,048", PAPER_LAYOUT, None, PAPER_CALL_SIZE),
        ("fed continuously", PAPER_LAYOUT, None, None),
        ("+ FP8 weights", Layout(tp=4, fp8=True, fp8_kv=False), None, None),
        ("+ FP8 KV cache", Layout(tp=4, fp8=True, fp8_kv=True), None, None),
        ("+ 4 replicas of tp2 instead of 2 of tp4", tp2, None, None),
    ]
    for label, layout, spec, calls in steps:
        bill = rewriting_hours(llama, h100, layout, spec, call_size=calls, sample=args.sample)
        gain = base / bill.gpu_hours
        print(
            f"| {label} | {bill.gpu_hours:,.0f} | {gain:.2f} | "
            f"{gain * PAPER_H100_TOKENS_PER_S:,.0f} |"
        )
    gain = base / hours_spec
    print(
        f"| + n-gram speculation, draft length {k_best} | {hours_spec:,.0f} | {gain:.2f} | "
        f"{gain * PAPER_H100_TOKENS_PER_S:,.0f} |"
    )

    print("\n## speculation's gain against running sequences (70B, FP8, 4 x tp2, H100)\n")
    running = (1, 16, 64, 128, 256)
    print("| stage | draft length | " + " | ".join(f"{b} running" for b in running) + " |")
    print("|---|---|" + "---|" * len(running))
    for stage in ("sgcr", "scor"):
        engine = engine_for(llama, h100, tp2, 1188 + 548 if stage == "sgcr" else 848 + 835)
        for k in DRAFT_LENGTHS:
            spec = REPLAY_TABLE[stage][k]
            gains = [speculation_gain(spec, engine, b) for b in running]
            print(f"| {stage} | {k} | " + " | ".join(f"{g:.2f}" for g in gains) + " |")

    print("\n## layouts of an 8-GPU node, best first (each at its best draft length)\n")
    print("| rewriter | GPU | layout | draft length | gain | recommended |")
    print("|---|---|---|---|---|---|")
    search_base = rewriting_hours(
        llama, h100, PAPER_LAYOUT, call_size=PAPER_CALL_SIZE, sample=args.search_sample
    ).gpu_hours
    for (rewriter, gpu), chosen in LAYOUTS.items():
        model = REWRITERS[rewriter]
        scored = []
        for layout in _candidates(model.fp8_weights):
            try:
                hours, k = _best(rewriter, gpu, layout, args.search_sample, (1, 2, 4))
            except ValueError:
                continue  # does not fit
            scored.append((search_base / hours, k, layout))
        scored.sort(key=lambda item: -item[0])
        for gain, k, layout in scored[: args.top]:
            print(f"| {rewriter} | {gpu} | {layout.describe(model)} | {k} | {gain:.2f} | |")
        hours, k = _best(rewriter, gpu, chosen, args.search_sample, (1, 2, 4))
        print(
            f"| {rewriter} | {gpu} | {chosen.describe(model)} | {k} | "
            f"{search_base / hours:.2f} | yes |"
        )

    print("\n## goals (simulated)\n")
    print(
        "| rewriter | proposed tokens checked as | tokens per step | gain over the paper's | "
        "output tok/s per H100 (x 360) | paper's corpus, H100-h |"
    )
    print("|---|---|---|---|---|---|")
    bounds = (("a prompt's (50% MFU)", PREFILL_MFU), ("a decoded token's", DECODE_MFU))
    for rewriter in REWRITERS:
        for label, verify in bounds:
            gain, _, bill = paper_gain(rewriter, "H100", sample=args.sample, verify_mfu=verify)
            hours = PAPER_OUTPUT_TOKENS / (gain * PAPER_H100_TOKENS_PER_S) / 3600
            steps = ", ".join(f"{k} {v:.2f}" for k, v in bill.tokens_per_step.items())
            print(
                f"| {rewriter} | {label} | {steps} | {gain:.2f} | "
                f"{gain * PAPER_H100_TOKENS_PER_S:,.0f} | {hours:,.0f} |"
            )
    no_spec = rewriting_hours(
        llama, h100, LAYOUTS[("llama-3.3-70b", "H100")], sample=args.sample
    ).gpu_hours
    print(f"\n70B on H100s, recommended layout without speculation: {base / no_spec:.2f}x")
    halved = {
        stage: {
            k: Speculation(1 + (s.tokens_per_step - 1) / 2, s.proposed_per_step)
            for k, s in table.items()
        }
        for stage, table in REPLAY_TABLE.items()
    }
    best = min(
        rewriting_hours(
            llama,
            h100,
            LAYOUTS[("llama-3.3-70b", "H100")],
            {stage: table[k] for stage, table in halved.items()},
            sample=args.sample,
        ).gpu_hours
        for k in DRAFT_LENGTHS
    )
    print(
        "70B on H100s, if a 70B's answers gain half of SmolLM2's tokens per step beyond 1: "
        f"{base / best:.2f}x"
    )


if __name__ == "__main__":
    main()
