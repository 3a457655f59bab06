"""The recipes: which stages ``--recipe v1|v2`` gives ``beam-swallow code`` and ``math``.

v1 is the seed paper's pipeline as :mod:`~beam_swallow.pipelines.registry`
builds it; v2 is the authors' second one (docs, Recipes):

- code: ``format`` -> ``length`` -> ``score`` (bands) -> ``rewrite`` (the
  medium band) -> ``reformat`` -> ``lint_errors``;
- math: ``length`` -> ``math_extract`` -> ``math_styles``.

Each recipe's table also holds the dedup stages (and v2 code the syntax stage),
for ``--stages`` to add. With ``--quality_measures on`` (the default) every
rewriting stage of either recipe is wrapped in
:class:`~beam_swallow.transforms.measured.Measured`, so each rewrite carries its
quality before and after.
"""

from __future__ import annotations

from dataclasses import replace

import apache_beam as beam

from beam_swallow.languages.formatting import FormatConfig
from beam_swallow.languages.formatting.ruff import RuffConfig
from beam_swallow.options import DEFAULT_CODE_STAGES, DEFAULT_MATH_STAGES, SwallowOptions
from beam_swallow.pipelines.registry import (
    CODE_STAGES,
    MATH_STAGES,
    StageFactory,
    cache_config,
    engine_config,
    lint_config,
    rewrite_config,
)
from beam_swallow.prompts import load_prompt
from beam_swallow.transforms import (
    Format,
    Length,
    LintErrors,
    MathExtract,
    MathRewrite,
    MathStyles,
    Reformat,
    Rewrite,
    Scor,
    Score,
    Sgcr,
    Syntax,
)
from beam_swallow.transforms.length import LengthConfig
from beam_swallow.transforms.llm import LLMStage
from beam_swallow.transforms.llm_cache import CachedLLMStage
from beam_swallow.transforms.math_styles import StyleConfig
from beam_swallow.transforms.measured import Measured
from beam_swallow.transforms.recipe_flags import DEFAULT_CODE_V2_STAGES, DEFAULT_MATH_V2_STAGES
from beam_swallow.transforms.rewrite import RewriteModel
from beam_swallow.transforms.score import BANDS, ScoreBands

__all__ = [
    "CODE_RECIPES",
    "MATH_RECIPES",
    "format_config",
    "length_config",
    "rewrite_bands",
    "ruff_config",
    "score_bands",
    "style_config",
]

Recipe = tuple[dict[str, StageFactory], str]


def format_config(opts: SwallowOptions) -> FormatConfig:
    """How format and reformat run each language's formatter."""
    return FormatConfig(batch_files=opts.format_batch_files, timeout_s=opts.format_timeout)


def ruff_config(opts: SwallowOptions) -> RuffConfig:
    """How lint_errors runs ruff check."""
    return RuffConfig(
        batch_files=opts.ruff_batch_files,
        timeout_s=opts.ruff_timeout,
        lint_rules=opts.lint_error_rules,
    )


def length_config(opts: SwallowOptions) -> LengthConfig:
    """The length stage's bounds."""
    return LengthConfig(min_chars=opts.length_min_chars, max_chars=opts.length_max_chars)


def score_bands(opts: SwallowOptions) -> ScoreBands:
    """Where the score's medium and high bands start."""
    return ScoreBands.parse(opts.score_bands)


def rewrite_bands(opts: SwallowOptions) -> frozenset[str]:
    """The bands the v2 rewrite sends to the model; ValueError on an unknown band."""
    bands = frozenset(part.strip() for part in opts.rewrite_bands.split(",") if part.strip())
    if not bands or not bands <= set(BANDS):
        raise ValueError(f"--rewrite_bands takes bands among {', '.join(BANDS)}")
    return bands


def style_config(opts: SwallowOptions) -> StyleConfig:
    """The two styles' prompts and the style each page gets."""
    cfg = replace(
        rewrite_config(opts, MathExtract),  # the shared settings; the prompt is the style's
        prompt=load_prompt("math_textbook", opts.math_textbook_prompt),
        max_prompt_chars=opts.max_prompt_chars,
    )
    qa = load_prompt("math_qa", opts.math_qa_prompt)
    return StyleConfig(cfg=cfg, qa_prompt=qa, style=opts.math_style)


def _cached(opts: SwallowOptions, stage: LLMStage) -> beam.PTransform:
    cache = cache_config(opts)
    return stage if cache is None else CachedLLMStage(stage, cache)


def _measured(factory: StageFactory, kind: str) -> StageFactory:
    def build(opts: SwallowOptions) -> beam.PTransform:
        stage = factory(opts)
        if opts.quality_measures == "off":
            return stage
        return Measured(stage, kind, lint_config(opts))

    return build


def _score(opts: SwallowOptions) -> beam.PTransform:
    return _cached(opts, Score(engine_config(opts), rewrite_config(opts, Score), score_bands(opts)))


def _rewrite(opts: SwallowOptions) -> beam.PTransform:
    model = RewriteModel(engine_config(opts), rewrite_config(opts, RewriteModel))
    return Rewrite(_cached(opts, model), rewrite_bands(opts))


def _math_extract(opts: SwallowOptions) -> beam.PTransform:
    cfg = replace(rewrite_config(opts, MathExtract), max_prompt_chars=opts.max_prompt_chars)
    return _cached(opts, MathExtract(engine_config(opts), cfg))


def _math_styles(opts: SwallowOptions) -> beam.PTransform:
    return _cached(opts, MathStyles(engine_config(opts), style_config(opts)))


CODE_V1_STAGES: dict[str, StageFactory] = {
    **CODE_STAGES,
    Sgcr.stage: _measured(CODE_STAGES[Sgcr.stage], "code"),
    Scor.stage: _measured(CODE_STAGES[Scor.stage], "code"),
}

MATH_V1_STAGES: dict[str, StageFactory] = {
    **MATH_STAGES,
    MathRewrite.stage: _measured(MATH_STAGES[MathRewrite.stage], "math"),
}

CODE_V2_STAGES: dict[str, StageFactory] = {
    "fetch": CODE_STAGES["fetch"],  # The Stack v2's blobs, first (--input_format stack_v2)
    Format.stage: lambda opts: Format(format_config(opts)),
    Length.stage: lambda opts: Length(length_config(opts)),
    Score.stage: _score,
    Rewrite.stage: _measured(_rewrite, "code"),
    Reformat.stage: lambda opts: Reformat(format_config(opts)),
    LintErrors.stage: lambda opts: LintErrors(ruff_config(opts)),
    Syntax.stage: CODE_STAGES[Syntax.stage],
    **{name: CODE_STAGES[name] for name in ("exact_dedup", "near_dedup", "decontaminate")},
}

MATH_V2_STAGES: dict[str, StageFactory] = {
    Length.stage: lambda opts: Length(length_config(opts)),
    MathExtract.stage: _measured(_math_extract, "math"),
    MathStyles.stage: _measured(_math_styles, "math"),
    **{name: MATH_STAGES[name] for name in ("exact_dedup", "near_dedup")},
}

# recipe -> (its stages, its default --stages)
CODE_RECIPES: dict[str, Recipe] = {
    "v1": (CODE_V1_STAGES, DEFAULT_CODE_STAGES),
    "v2": (CODE_V2_STAGES, DEFAULT_CODE_V2_STAGES),
}
MATH_RECIPES: dict[str, Recipe] = {
    "v1": (MATH_V1_STAGES, DEFAULT_MATH_STAGES),
    "v2": (MATH_V2_STAGES, DEFAULT_MATH_V2_STAGES),
}
