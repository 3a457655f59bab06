"""The flags of the v2 recipes, declared beside the configs that own their defaults.

``--recipe v1|v2`` picks the seed paper's pipeline (v1, the default) or the
authors' second one (v2) for ``beam-swallow code`` and ``beam-swallow math``;
the other flags here set the v2 stages
(:class:`~beam_swallow.languages.formatting.FormatConfig`,
:class:`~beam_swallow.languages.formatting.ruff.RuffConfig`,
:class:`~beam_swallow.transforms.length.LengthConfig`,
:class:`~beam_swallow.transforms.score.ScoreBands`,
:class:`~beam_swallow.transforms.math_styles.StyleConfig`) and the quality
measures every rewriting stage takes (:mod:`~beam_swallow.transforms.measured`).
:mod:`beam_swallow.options` adds this group to the one options class.
"""

from __future__ import annotations

import argparse

from beam_swallow.languages.formatting import FormatConfig
from beam_swallow.languages.formatting.ruff import RuffConfig
from beam_swallow.transforms.length import LengthConfig
from beam_swallow.transforms.math_styles import STYLE_CHOICES
from beam_swallow.transforms.score import ScoreBands

__all__ = ["DEFAULT_CODE_V2_STAGES", "DEFAULT_MATH_V2_STAGES", "RECIPES", "add_recipe_arguments"]

RECIPES = ("v1", "v2")
# syntax first: the authors' recipe starts with `ruff format`, whose parse refuses a broken
# Python file; most other formatters refuse nothing (clang-format) or little, so each language's
# own parser judges first (docs, Recipes).
DEFAULT_CODE_V2_STAGES = "syntax,format,length,score,rewrite,reformat,lint_errors"
DEFAULT_MATH_V2_STAGES = "length,math_extract,math_styles"

_FORMAT = FormatConfig()
_RUFF = RuffConfig()
_LENGTH = LengthConfig()
_BANDS = ScoreBands()


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``recipes`` flag group to ``parser``."""
    group = parser.add_argument_group("recipes (docs: Recipes)")
    group.add_argument(
        "--recipe",
        choices=RECIPES,
        default=RECIPES[0],
        help="v1: the seed paper's stages (code: syntax, lint, dedup, sgcr, scor, on Python "
        "files; math: dedup, math_rewrite). v2: the authors' second recipes (code, in every "
        "language: syntax, format, length, score, rewrite of the medium band, reformat, "
        "lint_errors; math: length, math_extract, math_styles). Default v1.",
    )
    group.add_argument(
        "--quality_measures",
        choices=("on", "off"),
        default="on",
        help="on: every rewriting stage records the quality of each rewrite before and "
        "after (code: parses in its language, length, and for Python pylint and penalized "
        "scores and comment ratio; math: length, formula share) under 'quality', and the "
        "report compares them.",
    )
    group.add_argument(
        "--format_batch_files",
        type=int,
        default=_FORMAT.batch_files,
        help="format, reformat: files of one language per formatter run (default "
        f"{_FORMAT.batch_files}).",
    )
    group.add_argument(
        "--format_timeout",
        type=float,
        default=_FORMAT.timeout_s,
        help="format, reformat: seconds one formatter run may take; then it is killed and "
        f"its files are dead letters (default {_FORMAT.timeout_s:g}).",
    )
    group.add_argument(
        "--ruff_batch_files",
        type=int,
        default=_RUFF.batch_files,
        help=f"lint_errors: files per ruff check run (default {_RUFF.batch_files}).",
    )
    group.add_argument(
        "--ruff_timeout",
        type=float,
        default=_RUFF.timeout_s,
        help="lint_errors: seconds one ruff check run may take; then its files are dead "
        f"letters (default {_RUFF.timeout_s:g}).",
    )
    group.add_argument(
        "--lint_error_rules",
        default=_RUFF.lint_rules,
        help="lint_errors: ruff rules whose findings reject a file (ruff's --select; "
        f"default {_RUFF.lint_rules}: syntax errors, broken comparisons, misplaced "
        "statements, undefined names).",
    )
    group.add_argument(
        "--length_min_chars",
        type=int,
        default=_LENGTH.min_chars,
        help="length: texts shorter than this many characters are rejected "
        f"'text_too_short' (default {_LENGTH.min_chars}).",
    )
    group.add_argument(
        "--length_max_chars",
        type=int,
        default=_LENGTH.max_chars,
        help="length: texts longer than this many characters are rejected "
        f"'text_too_long' (default {_LENGTH.max_chars:,}).",
    )
    group.add_argument(
        "--score_bands",
        default=str(_BANDS),
        help="score: LOW,HIGH on the 0-10 score: below LOW rejected 'low_score', from LOW "
        "to below HIGH the medium band (rewritten), from HIGH the high band (kept as it "
        f"is). Default {_BANDS} (the authors: medium from about 3-4, high from 7).",
    )
    group.add_argument(
        "--rewrite_bands",
        default="medium",
        help="rewrite: the bands whose files are rewritten, comma-separated "
        "(low, medium, high; default medium); the others pass unchanged.",
    )
    group.add_argument(
        "--math_style",
        choices=STYLE_CHOICES,
        default="alternate",
        help="math_styles: the style of each rewrite: textbook, qa (question and answer), "
        "or alternate (default: each page gets one, picked by its id, so both styles "
        "share the corpus).",
    )
