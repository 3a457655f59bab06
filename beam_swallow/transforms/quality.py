"""Measures of a text's quality, taken before and after a rewrite.

A rewrite is worth its GPU time only if the text comes out better; these are
the numbers that say whether it did, computed on the text a rewriting stage was
given and on the text it kept (:class:`~beam_swallow.transforms.measured.Measured`).

Code (``code_measures``), in the record's language: ``chars``; ``parses``
(:func:`~beam_swallow.transforms.recheck.parse_check`: ``compile(text,
"<string>", "exec")`` for Python, the syntax stage's rule; the language's exact
parser for the others); for Python only, ``pylint_score``, ``comment_ratio`` and
``quality_score`` by the paper's rule (pylint with the paper's flags as its CLI
scores the file alone, the comment-token ratio, the penalized score; None where
pylint gives no score: pylint reads Python alone, so other languages have no
such measures); and, before the v2 rewrite, the ``llm_score`` the ``score``
stage gave (the recipe does not score the rewrite again).

Math (``math_measures``): ``chars`` and ``formula_share``, the share of
non-blank lines that hold a formula (LaTeX between ``$`` or ``\\(``/``\\[``, a
LaTeX command such as ``\\frac``, or an equation or inequality between terms)
or a step (``Step 2``, ``1.``/``1)``, a bullet).

:data:`DIRECTION` says which way is better: 1 for higher, -1 for lower, 0 where
neither is (length, comment ratio: the paper penalizes comments, so the
penalized ``quality_score`` already counts them). :func:`change` names a
before/after pair ``improved``/``same``/``worse``, or ``higher``/``same``/
``lower`` for a measure without a direction.
"""

from __future__ import annotations

import re
from typing import Any

from beam_swallow.languages import PYTHON
from beam_swallow.linting.score import LintResult, Status
from beam_swallow.transforms.recheck import parse_check

__all__ = [
    "DIRECTION",
    "HEADLINE",
    "change",
    "code_measures",
    "formula_share",
    "math_measures",
]

DIRECTION = {
    "parses": 1,
    "pylint_score": 1,
    "quality_score": 1,
    "llm_score": 1,
    "formula_share": 1,
    "comment_ratio": 0,
    "chars": 0,
}

# The measure whose change the report shows examples of, per kind of text.
HEADLINE = {"code": "quality_score", "math": "formula_share"}

_FORMULA = re.compile(
    r"\$|\\\(|\\\[|\\(?:frac|sqrt|cdot|times|sum|int|le|ge|neq|pi|alpha|theta)\b"
    r"|[\w)\]]\s*(?:=|<|>|\\le|\\ge|≤|≥|≠)\s*[-\w(\[]"
)
_STEP = re.compile(r"^\s*(?:step\s*\d+|\d+\s*[.)]\s|[-*•]\s)", re.IGNORECASE)


def formula_share(text: str) -> float:
    """The share of non-blank lines holding a formula or a step; 0 for a blank text."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return 0.0
    hits = sum(1 for line in lines if _FORMULA.search(line) or _STEP.match(line))
    return round(hits / len(lines), 4)


def math_measures(text: str) -> dict[str, Any]:
    """``{"chars", "formula_share"}`` of a math text."""
    return {"chars": len(text), "formula_share": formula_share(text)}


def code_measures(text: str, language: str, lint: LintResult | None) -> dict[str, Any]:
    """``{"chars", "parses"}`` of a file in ``language`` (a catalog name), and for Python
    ``"pylint_score", "comment_ratio", "quality_score"`` from its lint result (None
    unless pylint scored it; ``lint`` is None for other languages). Raises
    ToolMissing when the language's parser is not installed."""
    measures: dict[str, Any] = {"chars": len(text), "parses": parse_check(language, text).ok}
    if language != PYTHON.name:
        return measures
    scored = lint is not None and lint.status == Status.OK
    return {
        **measures,
        "pylint_score": lint.pylint_score if scored else None,
        "comment_ratio": lint.comment_ratio if scored else None,
        "quality_score": round(lint.score, 4) if scored and lint.score is not None else None,
    }


def change(measure: str, before: Any, after: Any) -> str | None:
    """How ``measure`` moved from ``before`` to ``after``; None when either is missing."""
    if before is None or after is None:
        return None
    direction = DIRECTION.get(measure, 0)
    delta = (float(after) - float(before)) * (direction or 1)
    if abs(delta) < 1e-9:
        return "same"
    if direction == 0:
        return "higher" if delta > 0 else "lower"
    return "improved" if delta > 0 else "worse"
