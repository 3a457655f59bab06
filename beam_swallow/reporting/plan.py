"""``beam-swallow plan``: what a corpus will cost, before it runs.

Five lines of arithmetic, each from a named source:

- **fetch, worker-hours** (runs starting from The Stack v2's metadata): one GET
  per file at ``--fetch_per_s`` per worker (default: a stated rate, the order
  BENCHMARKS.md ``fetch`` measured per worker against a local server; replace
  it with your own against the real store); ``--fetch_workers`` turns the
  worker-hours into hours of wall time.
- **syntax + lint, core-hours**: files divided by the per-core rates measured
  on this project's benchmark machine (BENCHMARKS.md: ``syntax``, the pipeline
  with ``--stages syntax``; ``lint``, the lint stage on the FnApiRunner). With
  ``--avg_bytes`` the rates are scaled by file size (work grows about linearly
  with the bytes of a file); without it the benchmark corpora's own sizes stand.
- **sgcr + scor, GPU-hours**: files reaching each rewriting stage times the
  output tokens per file, divided by ``--tokens_per_s`` per GPU (decoding
  dominates: prompt tokens are read in parallel and cost far less).
  Defaults are the paper's: 24.1M of 41.0M files reach SGCR at 548 output
  tokens, 20.8M reach SCOR at 835, about 360 output tokens/s per H100, which
  lands near its 23,703 H100-hours with ``--feeding batch`` (the paper's
  2,048-prompt synchronous calls). beam-swallow feeds its engines continuously
  (``--feeding continuous``, the default), which the engine model of
  :mod:`~beam_swallow.reporting.engine_sim` puts at
  :data:`CONTINUOUS_FEEDING_GAIN` x the batch-fed throughput for the paper's
  load; the plan says so on its GPU line. A ``--tokens_per_s`` or ``--measured``
  figure is taken as it is.
- **dedup shuffle, GB**: the per-file volumes of the docs' dedup page (band keys, the
  signature joins, the records twice) for the files that reach dedup.
- **cost**: each figure times a unit price (flags; the defaults are round
  list prices to be replaced with your own).

With a language mix (``--languages_mix``, ``--languages_mix_from``:
:mod:`~beam_swallow.reporting.plan_languages`) ``--files`` is the whole corpus
and the lines above price its Python share, which is what the recipe takes.

Pass rates default to the paper's funnel (SPEC: 41,025,639 -> 36,695,625 after
syntax -> 24,100,915 after lint -> ~20.8M SGCR answers with a parsed score).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

from apache_beam.io.filesystems import FileSystems

from beam_swallow.reporting.gpu_bill import rewriter_rate
from beam_swallow.reporting.plan_languages import (
    add_mix_arguments,
    mix_from_args,
    planned_files,
    render_mix,
)
from beam_swallow.reporting.rewriters import GPUS, REWRITERS

__all__ = [
    "CONTINUOUS_FEEDING_GAIN",
    "Plan",
    "PlanInputs",
    "main",
    "make_plan",
    "measured_tokens_per_s",
    "render",
    "tokens_per_s",
]

# Paper funnel (SwallowCode on The Stack v2 Python).
PAPER_FILES = 41_025_639
PAPER_AFTER_SYNTAX = 36_695_625
PAPER_AFTER_LINT = 24_100_915
PAPER_AFTER_SGCR = 20_800_000
PAPER_SGCR_TOKENS = 548
PAPER_SCOR_TOKENS = 835
PAPER_H100_TOKENS_PER_S = 360.0
PAPER_GPU_HOURS = 23_703
# Batch-fed over continuously fed engine time for the paper's SGCR + SCOR load:
# engine_sim.feeding_gain()["gain"] (a test holds this figure to the model's).
CONTINUOUS_FEEDING_GAIN = 1.14
FEEDINGS = ("continuous", "batch")
# --layout: the paper's way of serving (16-bit, no speculation) or the recommended one
# (rewriters.LAYOUTS: FP8, replicas, speculation per stage).
LAYOUT_CHOICES = ("paper", "recommended")
PAPER_REWRITER = "llama-3.3-70b"

# BENCHMARKS.md, 2-core x86_64 VM, Python 3.11 (2026-11-27).
SYNTAX_FILES_PER_CORE_S = 260.0  # `syntax`: pipeline --stages syntax, in_memory = one core
SYNTAX_BENCH_BYTES = 28.4e6 / 1_775
LINT_FILES_PER_CORE_S = 7.96 / 2  # `lint`: the lint stage with 2 workers on 2 cores
LINT_BENCH_BYTES = 8.77e6 / 840

# Fetch (BENCHMARKS.md, fetch): a stated GET rate per worker with 32 GETs in flight.
FETCH_PER_WORKER_S = 200.0

# docs, Deduplication, "At 40M files": per file entering near_dedup.
BAND_KEY_BYTES = 10 + 40  # band key + node, per band
SIGNATURE_JOINS = 2  # signatures enter the verify join and the similarity join once each
RECORD_SHUFFLES = 2  # exact_dedup's group and near_dedup's final join


@dataclass(frozen=True)
class PlanInputs:
    """What the plan is computed from; defaults are the paper's."""

    files: int
    avg_bytes: float | None = None
    syntax_pass: float = PAPER_AFTER_SYNTAX / PAPER_FILES
    lint_pass: float = PAPER_AFTER_LINT / PAPER_AFTER_SYNTAX
    sgcr_pass: float = PAPER_AFTER_SGCR / PAPER_AFTER_LINT
    sgcr_tokens: float = PAPER_SGCR_TOKENS
    scor_tokens: float = PAPER_SCOR_TOKENS
    gpu: str = "H100"
    tokens_per_s: float | None = None  # None: the paper's, fed as ``feeding`` says
    feeding: str = FEEDINGS[0]
    rewriter: str = PAPER_REWRITER
    layout: str = LAYOUT_CHOICES[0]
    fetch_per_s: float = FETCH_PER_WORKER_S
    fetch_workers: int = 1
    bands: int = 32
    num_perm: int = 256
    core_hour_price: float = 0.04
    gpu_hour_price: float = 3.00
    shuffle_gb_price: float = 0.011

    def __post_init__(self) -> None:
        if not self.fetch_per_s > 0 or self.fetch_workers < 1:
            raise ValueError("--fetch_per_s must be positive and --fetch_workers at least 1")
        if self.tokens_per_s is None and _simulated(self) and self.gpu not in GPUS:
            raise ValueError(
                f"--rewriter and --layout are priced on {' or '.join(GPUS)} (--gpu), "
                "or give --tokens_per_s"
            )


@dataclass(frozen=True)
class Plan:
    """The computed plan: volumes per stage, hours and costs."""

    inputs: PlanInputs
    fetch_worker_hours: float
    syntax_core_hours: float
    lint_core_hours: float
    sgcr_files: float
    scor_files: float
    gpu_hours: float
    shuffle_gb: float

    @property
    def cpu_cost(self) -> float:
        hours = self.fetch_worker_hours + self.syntax_core_hours + self.lint_core_hours
        return hours * self.inputs.core_hour_price

    @property
    def gpu_cost(self) -> float:
        return self.gpu_hours * self.inputs.gpu_hour_price

    @property
    def shuffle_cost(self) -> float:
        return self.shuffle_gb * self.inputs.shuffle_gb_price


def tokens_per_s(inputs: PlanInputs) -> tuple[float, str]:
    """Output tokens/s per GPU for ``inputs``, and where the figure comes from."""
    if inputs.tokens_per_s is not None:
        return inputs.tokens_per_s, "given"
    if _simulated(inputs):
        return rewriter_rate(
            inputs.rewriter, inputs.gpu, inputs.layout, inputs.feeding, PAPER_H100_TOKENS_PER_S
        )
    if inputs.feeding == "batch":
        return PAPER_H100_TOKENS_PER_S, "the paper's, fed in 2,048-prompt calls"
    return (
        PAPER_H100_TOKENS_PER_S * CONTINUOUS_FEEDING_GAIN,
        f"the paper's {PAPER_H100_TOKENS_PER_S:.0f} x {CONTINUOUS_FEEDING_GAIN}: fed "
        "continuously, simulated; BENCHMARKS.md, engine feeding",
    )


def _simulated(inputs: PlanInputs) -> bool:
    """Whether the GPU rate is the engine model's: another rewriter, layout or known GPU
    than the paper's own 70B on H100s (any other GPU name only labels the paper's rate)."""
    paper = inputs.rewriter == PAPER_REWRITER and inputs.layout == "paper"
    return not paper or (inputs.gpu in GPUS and inputs.gpu != "H100")


def _scaled(rate: float, bench_bytes: float, avg_bytes: float | None) -> float:
    """A files/s rate measured at ``bench_bytes`` per file, moved to ``avg_bytes``."""
    return rate if avg_bytes is None else rate * bench_bytes / avg_bytes


def make_plan(inputs: PlanInputs) -> Plan:
    """Compute the plan for ``inputs``."""
    after_syntax = inputs.files * inputs.syntax_pass
    after_lint = after_syntax * inputs.lint_pass
    syntax_rate = _scaled(SYNTAX_FILES_PER_CORE_S, SYNTAX_BENCH_BYTES, inputs.avg_bytes)
    lint_rate = _scaled(LINT_FILES_PER_CORE_S, LINT_BENCH_BYTES, inputs.avg_bytes)
    sgcr_files = after_lint
    scor_files = after_lint * inputs.sgcr_pass
    tokens = sgcr_files * inputs.sgcr_tokens + scor_files * inputs.scor_tokens
    record_bytes = inputs.avg_bytes if inputs.avg_bytes is not None else LINT_BENCH_BYTES
    per_file = (
        inputs.bands * BAND_KEY_BYTES
        + SIGNATURE_JOINS * inputs.num_perm * 4
        + RECORD_SHUFFLES * record_bytes
    )
    return Plan(
        inputs=inputs,
        fetch_worker_hours=inputs.files / inputs.fetch_per_s / 3600,
        syntax_core_hours=inputs.files / syntax_rate / 3600,
        lint_core_hours=after_syntax / lint_rate / 3600,
        sgcr_files=sgcr_files,
        scor_files=scor_files,
        gpu_hours=tokens / tokens_per_s(inputs)[0] / 3600,
        shuffle_gb=after_lint * per_file / 1e9,
    )


def _rate(inputs: PlanInputs) -> tuple[float, str, str]:
    rate, source = tokens_per_s(inputs)
    return rate, inputs.gpu, source


def render(plan: Plan) -> str:
    """The plan as a plain-text table, with where each rate comes from."""
    p = plan.inputs
    size = "benchmark corpora's sizes" if p.avg_bytes is None else f"{p.avg_bytes:,.0f} B/file"
    wall = plan.fetch_worker_hours / p.fetch_workers
    rows = [
        (
            "fetch",
            f"{p.files:,.0f} GETs",
            f"{plan.fetch_worker_hours:,.1f} worker-h",
            f"${plan.fetch_worker_hours * p.core_hour_price:,.0f}",
            f"{p.fetch_per_s:,.0f} GETs/s per worker (stated); {wall:,.1f} h on "
            f"{p.fetch_workers} worker(s)",
        ),
        (
            "syntax",
            f"{p.files:,.0f} files",
            f"{plan.syntax_core_hours:,.1f} core-h",
            f"${plan.syntax_core_hours * p.core_hour_price:,.0f}",
            f"BENCHMARKS.md syntax, {SYNTAX_FILES_PER_CORE_S:.0f} files/s/core ({size})",
        ),
        (
            "lint",
            f"{p.files * p.syntax_pass:,.0f} files",
            f"{plan.lint_core_hours:,.1f} core-h",
            f"${plan.lint_core_hours * p.core_hour_price:,.0f}",
            f"BENCHMARKS.md lint, {LINT_FILES_PER_CORE_S:.2f} files/s/core ({size})",
        ),
        (
            "dedup",
            f"{plan.sgcr_files:,.0f} files",
            f"{plan.shuffle_gb:,.1f} GB shuffled",
            f"${plan.shuffle_cost:,.0f}",
            f"docs' dedup volumes, {p.bands} bands, {p.num_perm} perms",
        ),
        (
            "sgcr",
            f"{plan.sgcr_files:,.0f} files",
            f"{plan.sgcr_files * p.sgcr_tokens / 1e9:,.2f}B out tokens",
            "",
            f"{p.sgcr_tokens:.0f} output tokens/file",
        ),
        (
            "scor",
            f"{plan.scor_files:,.0f} files",
            f"{plan.scor_files * p.scor_tokens / 1e9:,.2f}B out tokens",
            "",
            f"{p.scor_tokens:.0f} output tokens/file",
        ),
        (
            "sgcr+scor",
            "",
            f"{plan.gpu_hours:,.0f} {p.gpu}-h",
            f"${plan.gpu_cost:,.0f}",
            "{:,.0f} output tokens/s per {} ({})".format(*_rate(p)),
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        + "  "
        + row[4]
        for row in rows
    ]
    total = plan.cpu_cost + plan.gpu_cost + plan.shuffle_cost
    lines.append(
        f"total ${total:,.0f} (cores ${p.core_hour_price}/h, {p.gpu} ${p.gpu_hour_price}/h, "
        f"shuffle ${p.shuffle_gb_price}/GB: set your own prices)"
    )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    defaults = PlanInputs(files=0)
    parser = argparse.ArgumentParser(
        prog="beam-swallow plan",
        description="Core-hours, GPU-hours, dedup shuffle volume and cost of a SwallowCode run. "
        "Pass rates and token counts default to the paper's.",
    )
    parser.add_argument("--files", type=int, required=True, help="Input files.")
    parser.add_argument(
        "--avg_bytes",
        type=float,
        default=None,
        help="Average file size in bytes; CPU rates scale with it (default: the benchmark "
        "corpora's sizes, ~16 KB syntax, ~10 KB lint).",
    )
    parser.add_argument(
        "--gpu",
        default=defaults.gpu,
        help="GPU: H100 (default) or H200 are priced by the engine model with --rewriter and "
        "--layout; any other name only labels --tokens_per_s.",
    )
    parser.add_argument(
        "--tokens_per_s",
        type=float,
        default=defaults.tokens_per_s,
        help="Output tokens/s one GPU generates (default: the paper's H100 figure, 360, "
        f"times {CONTINUOUS_FEEDING_GAIN} with --feeding continuous).",
    )
    parser.add_argument(
        "--feeding",
        choices=FEEDINGS,
        default=defaults.feeding,
        help="How the engine is fed: continuous (beam-swallow's openai and vllm engines) or "
        "batch (the paper's 2,048-prompt synchronous calls); sets the default --tokens_per_s.",
    )
    parser.add_argument(
        "--rewriter",
        choices=list(REWRITERS),
        default=defaults.rewriter,
        help="The rewriting model priced: "
        + ", ".join(f"{key} ({model.name})" for key, model in REWRITERS.items())
        + f"; default {defaults.rewriter}, the paper's. Any but the paper's on its own "
        "layout is simulated (docs: Running on GPUs).",
    )
    parser.add_argument(
        "--layout",
        choices=LAYOUT_CHOICES,
        default=defaults.layout,
        help="paper: 16-bit weights and KV cache, the fewest GPUs per replica that fit, no "
        "speculation (the paper's 70B: tensor parallel 4); recommended: the settings "
        "docs/gpus.md gives per rewriter and GPU (FP8, replicas, n-gram speculation).",
    )
    parser.add_argument(
        "--measured",
        metavar="DIR",
        default=None,
        help="Take --tokens_per_s from a run's report.json (its engine's completion tokens "
        "over summed request time), e.g. a short run on one GPU of the kind planned for.",
    )
    parser.add_argument(
        "--fetch_per_s",
        type=float,
        default=defaults.fetch_per_s,
        help="Stack v2 contents: GETs/s one worker completes (default "
        f"{defaults.fetch_per_s:g}: a stated rate; measure your own with bench/fetch.py "
        "against the store you read).",
    )
    parser.add_argument(
        "--fetch_workers",
        type=int,
        default=defaults.fetch_workers,
        help="Workers fetching at once, for the fetch line's wall time (default 1).",
    )
    for flag, help_text in (
        ("syntax_pass", "fraction of files that compile (paper 0.894)"),
        ("lint_pass", "fraction of compiling files scoring >= 7.0 (paper 0.657)"),
        ("sgcr_pass", "fraction of SGCR inputs that reach SCOR (paper 0.863)"),
        ("sgcr_tokens", "output tokens per SGCR answer (paper 548)"),
        ("scor_tokens", "output tokens per SCOR answer (paper 835)"),
        ("core_hour_price", "price of one core-hour"),
        ("gpu_hour_price", "price of one GPU-hour"),
        ("shuffle_gb_price", "price of one GB shuffled"),
    ):
        parser.add_argument(
            f"--{flag}",
            type=float,
            default=getattr(defaults, flag),
            help=f"{help_text.capitalize()}.",
        )
    add_mix_arguments(parser)
    return parser


def measured_tokens_per_s(output_dir: str) -> float:
    """The engine throughput a run measured (report.json ``timing.engines``)."""
    from beam_swallow.report import REPORT_NAME

    with FileSystems.open(FileSystems.join(output_dir, REPORT_NAME)) as handle:
        engines = json.loads(handle.read()).get("timing", {}).get("engines", {})
    rates = [e["tokens_per_s"] for e in engines.values() if e.get("tokens_per_s")]
    if not rates:
        raise ValueError(f"{output_dir}: the run's report.json has no engine throughput")
    return rates[0]


def main(argv: list[str]) -> int:
    """Print the plan; returns the exit status."""
    args = vars(_parser().parse_args(argv))
    measured = args.pop("measured")
    if measured:
        try:
            args["tokens_per_s"] = measured_tokens_per_s(measured)
        except (ValueError, OSError) as exc:
            print(f"beam-swallow plan: error: {exc}")
            return 2
        print(f"tokens/s measured by the run in {measured}: {args['tokens_per_s']:,.1f}")
    try:
        mix = mix_from_args(args)  # with a language mix, the plan prices its Python share
        if mix is not None:
            print(render_mix(args["files"], mix))
            args["files"] = planned_files(args["files"], mix)
        inputs = PlanInputs(**args)
    except (ValueError, OSError) as exc:
        print(f"beam-swallow plan: error: {exc}")
        return 2
    print(render(make_plan(inputs)))
    return 0
