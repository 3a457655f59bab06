"""The paper's rewriting on H100s, simulated: fed in 2,048-prompt calls against continuously.

No GPU here: :mod:`beam_swallow.reporting.engine_sim` models one vLLM engine
(Llama-3.1-70B, tensor parallel 4, 256 slots) from published figures, and runs
a sample of the paper's SGCR and SCOR requests through it fed both ways, scaled
to the paper's counts. Prints H100-hours for each feed next to the paper's
23,703, and the ratio. ``beam-swallow plan`` uses the same figure. Other
rewriters, FP8, replicas against tensor parallel and speculation: the same
engine model, built per layout, in ``bench/gpu_bill.py``.

Usage: python bench/engine_model.py [--ratio 3] [--sample 32768] [--seeds 3]
"""

from __future__ import annotations

import argparse

from beam_swallow.reporting.engine_sim import PAPER_STAGES, EngineModel, feeding_gain
from beam_swallow.reporting.plan import PAPER_GPU_HOURS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ratio", type=float, default=3.0, help="--max_tokens_ratio modelled")
    parser.add_argument("--sample", type=int, default=16 * 2048)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    engine = EngineModel()
    print(
        f"engine: step {engine.a_ms:.1f} ms + {engine.c_ms:.3f} ms per running sequence, "
        f"{engine.slots} slots, prefill {engine.prefill_tokens_per_s:,.0f} tokens/s"
    )
    for stage in PAPER_STAGES:
        print(
            f"{stage.name}: {stage.requests:,} requests, prompt {stage.prompt_tokens:.0f}, "
            f"answer mean {stage.answer_tokens:.0f} tokens"
        )
    print(
        "| seed | calls of 2,048 (H100-h) | continuous (H100-h) | continuous, capped | "
        "calls / continuous | paper |"
    )
    print("|---|---|---|---|---|---|")
    for seed in range(args.seeds):
        hours = feeding_gain(ratio=args.ratio, sample=args.sample, seed=seed)
        print(
            f"| {seed} | {hours['batch']:,.0f} | {hours['continuous']:,.0f} | "
            f"{hours['capped']:,.0f} | {hours['gain']:.2f} "
            f"(capped {hours['batch'] / hours['capped']:.2f}) | {PAPER_GPU_HOURS:,} |"
        )


if __name__ == "__main__":
    main()
