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

DEFAULT_CODE_STAGES = "syntax"
DEFAULT_MATH_STAGES = ""


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
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
            default=200,
            help="Without --input: how many sample records to build and run on.",
        )
        io.add_argument(
            "--stages",
            default=None,
            help="Comma-separated stages to run, in order. Defaults: code: "
            f"{DEFAULT_CODE_STAGES or '(none)'}; math: {DEFAULT_MATH_STAGES or '(none)'}.",
        )

    def validate_swallow(self) -> list[str]:
        """Errors in the combination of flags, as messages (empty when fine)."""
        errors = []
        if not self.output:
            errors.append("--output must not be empty")
        if not self.text_field:
            errors.append("--text_field must not be empty")
        return errors
