"""The rewriter as a priced choice: models, GPUs and the layouts of an 8-GPU node.

Facts only, each with its source; :mod:`~beam_swallow.reporting.engine_sim`
turns them into step times and ``beam-swallow plan --rewriter`` into GPU-hours.
Nothing here ran on a GPU for this project: every throughput derived from these
tables is simulated (BENCHMARKS.md, "the GPU bill").

- :data:`GPUS`: memory, bandwidth and dense tensor throughput per GPU, from
  NVIDIA's H100 and H200 Tensor Core GPU datasheets (SXM, dense: the sparse
  figures are twice these).
- :data:`REWRITERS`: parameters (total; active per token for mixtures of
  experts), the KV cache one token takes (layers x KV heads x head size x K and
  V), and the bytes of the weights as served, from each model's card and
  configuration on its publisher's page.
- :data:`LAYOUTS`: how each rewriter is served on 8 GPUs: tensor parallel per
  replica (``tp``), replicas per node (8 / tp: vLLM's ``data_parallel_size``),
  FP8 weights and FP8 KV cache, the most sequences a replica runs
  (``max_num_seqs``). docs/gpus.md gives the same settings as server flags.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GPUS", "LAYOUTS", "REWRITERS", "GpuSpec", "Layout", "Rewriter", "layout_for"]


@dataclass(frozen=True)
class GpuSpec:
    """One GPU: memory (bytes), HBM bandwidth (bytes/s), dense BF16 and FP8 FLOP/s."""

    name: str
    memory: float
    bandwidth: float
    bf16_flops: float
    fp8_flops: float
    source: str


# NVIDIA H100 Tensor Core GPU datasheet (H100 SXM: 80 GB HBM3, 3.35 TB/s, BF16 989 TFLOPS and
# FP8 1,979 TFLOPS dense); NVIDIA H200 Tensor Core GPU datasheet (141 GB HBM3e, 4.8 TB/s, the
# same Hopper tensor cores).
GPUS: dict[str, GpuSpec] = {
    "H100": GpuSpec("H100", 80e9, 3.35e12, 989e12, 1979e12, "NVIDIA H100 datasheet, SXM"),
    "H200": GpuSpec("H200", 141e9, 4.8e12, 989e12, 1979e12, "NVIDIA H200 datasheet, SXM"),
}


@dataclass(frozen=True)
class Rewriter:
    """A rewriting model: parameters, KV bytes per token at 16 bits, weights as served.

    ``weight_bytes``: the checkpoint as served at 16 bits (``None``: 2 bytes per
    parameter); a model shipped quantized (gpt-oss's MXFP4 experts) gives its
    own size and ``fp8_weights`` False (no FP8 step below it).
    ``paper``: the paper's or the authors' own choice (shown in the plan).
    """

    name: str
    total_params: float
    active_params: float
    layers: int
    kv_heads: int
    head_dim: int
    source: str
    weight_bytes: float | None = None
    fp8_weights: bool = True
    weight_format: str = "16-bit"
    paper: str = ""

    @property
    def kv_bytes_per_token(self) -> float:
        """KV cache of one token at 16 bits: K and V, each layers x heads x head size x 2 B."""
        return 2 * self.layers * self.kv_heads * self.head_dim * 2

    def weights(self, fp8: bool) -> float:
        """Bytes of the weights as served: FP8 halves 16-bit weights."""
        if self.weight_bytes is not None:
            return self.weight_bytes
        return self.total_params * (1 if fp8 and self.fp8_weights else 2)


REWRITERS: dict[str, Rewriter] = {
    # meta-llama/Llama-3.3-70B-Instruct, config.json: 80 layers, 8 KV heads of 128; 70.6B.
    "llama-3.3-70b": Rewriter(
        "Llama-3.3-70B-Instruct",
        70.6e9,
        70.6e9,
        80,
        8,
        128,
        "meta-llama/Llama-3.3-70B-Instruct model card and config.json",
        paper="the paper's rewriter (SwallowCode, SwallowMath)",
    ),
    # Qwen/Qwen3-235B-A22B model card: 235B total, 22B activated, 94 layers, GQA 64 Q / 4 KV
    # heads, head size 128 (config.json), 128 experts with 8 activated.
    "qwen3-235b-a22b": Rewriter(
        "Qwen3-235B-A22B-Instruct",
        235e9,
        22e9,
        94,
        4,
        128,
        "Qwen/Qwen3-235B-A22B model card and config.json",
        paper="the authors' SwallowCode-v2 rewriter",
    ),
    # openai/gpt-oss-120b model card: 117B total, 5.1B active per token, 36 layers, 8 KV heads
    # of 64, MoE weights in MXFP4: a 60.8 GiB checkpoint that fits one 80 GB GPU. Half its
    # layers attend a 128-token window; KV is counted here as if all were full (an upper bound).
    "gpt-oss-120b": Rewriter(
        "gpt-oss-120b",
        117e9,
        5.1e9,
        36,
        8,
        64,
        "openai/gpt-oss-120b model card (gpt-oss model card, OpenAI 2025)",
        weight_bytes=60.8 * 2**30,
        fp8_weights=False,
        weight_format="MXFP4 (as shipped)",
    ),
    # Qwen/Qwen3-30B-A3B model card: 30.5B total, 3.3B activated, 48 layers, GQA 32 Q / 4 KV
    # heads, head size 128, 128 experts with 8 activated.
    "qwen3-30b-a3b": Rewriter(
        "Qwen3-30B-A3B-Instruct",
        30.5e9,
        3.3e9,
        48,
        4,
        128,
        "Qwen/Qwen3-30B-A3B model card and config.json",
    ),
}


@dataclass(frozen=True)
class Layout:
    """How one rewriter is served on one 8-GPU node: ``tp`` GPUs per replica,
    ``8 // tp`` replicas, FP8 weights and KV cache, ``max_num_seqs`` per replica."""

    tp: int
    fp8: bool
    fp8_kv: bool
    max_num_seqs: int = 256
    node_gpus: int = 8

    @property
    def replicas(self) -> int:
        return self.node_gpus // self.tp

    def describe(self, model: Rewriter | None = None) -> str:
        """The layout in words; ``model`` names weights shipped in their own format."""
        if model is not None and not model.fp8_weights:
            weights = model.weight_format
        else:
            weights = "FP8" if self.fp8 else "16-bit"
        kv = "FP8 KV" if self.fp8_kv else "16-bit KV"
        return (
            f"{self.replicas} x tp{self.tp}, {weights} weights, {kv}, "
            f"max_num_seqs {self.max_num_seqs}"
        )


# The paper's layout: bf16, tensor parallel 4 (SPEC), two replicas on an 8-GPU node.
PAPER_LAYOUT = Layout(tp=4, fp8=False, fp8_kv=False)

# Recommended per rewriter and GPU: the best layout bench/gpu_bill.py finds for the paper's load
# among tensor parallel 1-8, FP8 weights and KV cache on or off, max_num_seqs 128-1024 (each
# at its best n-gram draft length), or one within 1% of it (BENCHMARKS.md, the GPU bill).
# Simulated: more replicas of fewer GPUs win through TP_COST, measured on vLLM 0.5.4.
LAYOUTS: dict[tuple[str, str], Layout] = {
    ("llama-3.3-70b", "H100"): Layout(tp=2, fp8=True, fp8_kv=True, max_num_seqs=512),
    ("llama-3.3-70b", "H200"): Layout(tp=2, fp8=True, fp8_kv=True, max_num_seqs=1024),
    ("qwen3-235b-a22b", "H100"): Layout(tp=4, fp8=True, fp8_kv=True, max_num_seqs=512),
    ("qwen3-235b-a22b", "H200"): Layout(tp=4, fp8=True, fp8_kv=True, max_num_seqs=1024),
    ("gpt-oss-120b", "H100"): Layout(tp=2, fp8=False, fp8_kv=True, max_num_seqs=1024),
    ("gpt-oss-120b", "H200"): Layout(tp=1, fp8=False, fp8_kv=True, max_num_seqs=1024),
    ("qwen3-30b-a3b", "H100"): Layout(tp=1, fp8=True, fp8_kv=True, max_num_seqs=1024),
    ("qwen3-30b-a3b", "H200"): Layout(tp=1, fp8=True, fp8_kv=True, max_num_seqs=1024),
}


def layout_for(rewriter: str, gpu: str) -> Layout:
    """The recommended layout; KeyError naming the known pairs otherwise."""
    try:
        return LAYOUTS[(rewriter, gpu)]
    except KeyError:
        known = ", ".join(f"{r} on {g}" for r, g in LAYOUTS)
        raise KeyError(f"no layout for {rewriter} on {gpu}; known: {known}") from None
