"""The GPU bill's engine model gives back the published figures it is calibrated on.

No GPU here: these tests hold the simulated figures to their sources (Lambda's
vLLM tables), to the physics they claim (FP8 KV holds twice the sequences,
verification costs more as the batch grows), and ``plan --rewriter`` to the
model it prints.
"""

from __future__ import annotations

import re

import pytest

from beam_swallow.cli import main
from beam_swallow.reporting.engine_sim import EngineModel, Speculation
from beam_swallow.reporting.gpu_bill import (
    DECODE_MFU,
    LAMBDA_CONTEXT,
    LAMBDA_FP8_BY_TP,
    LAMBDA_FP8_PROMPTS,
    LAMBDA_V054_BF16_TP4,
    LAMBDA_V054_FP8_TP4,
    engine_for,
    kv_slots,
    paper_gain,
    rewriting_hours,
    speculation_gain,
)
from beam_swallow.reporting.plan import PAPER_FILES, PAPER_H100_TOKENS_PER_S
from beam_swallow.reporting.rewriters import GPUS, LAYOUTS, PAPER_LAYOUT, REWRITERS, Layout

LLAMA, H100 = REWRITERS["llama-3.3-70b"], GPUS["H100"]


def _tokens_per_s(engine: EngineModel, running: int) -> float:
    return running / engine.step_s(running)


def test_the_paper_layout_is_lambdas_measured_70b():
    """bf16, tensor parallel 4, 256 sequences: Lambda's 3,542.88 output tokens/s, and
    the engine model the feeding figure (1.14) stands on."""
    engine = engine_for(LLAMA, H100, PAPER_LAYOUT, LAMBDA_CONTEXT)
    assert _tokens_per_s(engine, 256) == pytest.approx(3542.88, rel=1e-9)
    default = EngineModel()
    assert engine.a_ms == pytest.approx(default.a_ms, rel=0.01)
    assert engine.c_ms == pytest.approx(default.c_ms, rel=0.01)


def test_fp8_and_tensor_parallel_give_back_lambdas_ratios():
    fp8 = engine_for(LLAMA, H100, Layout(tp=4, fp8=True, fp8_kv=False), LAMBDA_CONTEXT)
    bf16 = engine_for(LLAMA, H100, PAPER_LAYOUT, LAMBDA_CONTEXT)
    ratio = _tokens_per_s(fp8, 256) / _tokens_per_s(bf16, 256)
    assert ratio == pytest.approx(LAMBDA_V054_FP8_TP4 / LAMBDA_V054_BF16_TP4, rel=1e-6)
    per_gpu = {}
    for tp in (2, 4, 8):
        engine = engine_for(LLAMA, H100, Layout(tp=tp, fp8=True, fp8_kv=False), LAMBDA_CONTEXT)
        running = min(engine.slots, LAMBDA_FP8_PROMPTS)
        per_gpu[tp] = _tokens_per_s(engine, running) / tp
    for tp in (2, 8):
        measured = (LAMBDA_FP8_BY_TP[tp] / tp) / (LAMBDA_FP8_BY_TP[4] / 4)
        assert per_gpu[tp] / per_gpu[4] == pytest.approx(measured, rel=1e-6)


def test_an_fp8_kv_cache_holds_twice_the_sequences():
    layout = Layout(tp=2, fp8=True, fp8_kv=False)
    fp8_kv = Layout(tp=2, fp8=True, fp8_kv=True)
    plain = kv_slots(LLAMA, H100, layout, 1736)
    assert kv_slots(LLAMA, H100, fp8_kv, 1736) in (2 * plain, 2 * plain + 1)
    with pytest.raises(ValueError, match="does not fit"):
        engine_for(LLAMA, H100, Layout(tp=1, fp8=False, fp8_kv=False), 1736)


def test_verification_costs_more_as_the_batch_grows():
    """The same tokens per step buy less with more sequences running: each proposed
    token of each sequence is checked, and a full batch has no compute to spare."""
    engine = engine_for(LLAMA, H100, LAYOUTS[("llama-3.3-70b", "H100")], 1736)
    spec = Speculation(tokens_per_step=2.0, proposed_per_step=2.5)
    gains = [speculation_gain(spec, engine, running) for running in (1, 16, 64, 256)]
    assert gains == sorted(gains, reverse=True) and gains[0] > 1.8 and gains[-1] < gains[0]
    assert speculation_gain(Speculation(), engine, 64) == pytest.approx(1.0)


def test_a_stage_whose_speculation_loses_does_not_speculate():
    layout = LAYOUTS[("llama-3.3-70b", "H100")]
    plain = rewriting_hours(LLAMA, H100, layout, sample=1024)
    losing = {"sgcr": Speculation(1.05, 3.0), "scor": Speculation(1.05, 3.0)}
    assert rewriting_hours(LLAMA, H100, layout, losing, sample=1024).gpu_hours == plain.gpu_hours


def test_plan_prices_a_rewriter_as_simulated_with_its_layout(capsys):
    args = ["plan", "--files", str(PAPER_FILES), "--rewriter", "qwen3-235b-a22b"]
    assert main([*args, "--layout", "recommended"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("sgcr+scor"))
    assert "simulated: the paper's 360 x" in line and "Qwen3-235B-A22B-Instruct" in line
    assert "FP8 weights, FP8 KV" in line
    # a budget: proposed tokens priced as decoded ones, the prompt-priced gain beside it
    gain, _, _ = paper_gain("qwen3-235b-a22b", "H100", "recommended", verify_mfu=DECODE_MFU)
    optimistic, _, _ = paper_gain("qwen3-235b-a22b", "H100", "recommended")
    assert gain < optimistic and f"(x {optimistic:.2f} at a prompt token's)" in line
    rate = float(re.search(r"([\d,]+) output tokens/s", line).group(1).replace(",", ""))
    assert rate == pytest.approx(PAPER_H100_TOKENS_PER_S * gain, abs=1)
    assert main(["plan", "--files", "1000", "--gpu", "A100", "--layout", "recommended"]) == 2
    assert main(["plan", "--files", "1000", "--gpu", "A100", "--tokens_per_s", "500"]) == 0


def test_every_recommended_layout_fits_its_gpus():
    for (rewriter, gpu), layout in LAYOUTS.items():
        model, spec = REWRITERS[rewriter], GPUS[gpu]
        assert layout.tp * layout.replicas == 8
        assert kv_slots(model, spec, layout, 1736) >= 64, (rewriter, gpu)
