"""Stage ``score`` (SwallowCode-v2): an LLM's quality score from 0 to 10, and its band.

The model reads one file and answers two lines, ``Score: N`` and ``Reason: ...``
(prompt ``score``: readability, modularity, clarity, reusability; 0 for
configuration, data and generated files). With ``--structured on`` every
engine decodes the answer under :data:`SCORE_GRAMMAR`, so each answer that
finishes has a whole score from 0 to 10 and a one-line reason; off, the first
``Score: N`` (N from 0 to 10, ``7/10`` and ``7.5`` read too) is taken from a
free answer.

Bands (``--score_bands LOW,HIGH``; the authors' medium band starts at about
3-4 and their high band at 7, so the default is ``4,7``):
``low`` below LOW, rejected ``low_score``; ``medium`` from LOW up to HIGH,
kept and rewritten by stage ``rewrite``; ``high`` from HIGH, kept as it is.

- kept: ``llm_score``, ``score_reason``, ``band`` (medium or high), and the
  provenance of :mod:`~beam_swallow.transforms.rewriting` (``generation.score``
  with ``prompt_sha``). The text is unchanged.
- rejected: ``low_score`` (with the same fields), ``no_score`` (no score in the
  answer; ``answer`` kept), ``truncated`` and ``too_long`` (from LLMStage).
- dead letter: engine errors, and anything that raises.

Counters: ``score.kept``, ``score.<reason>``, ``score.dead_letter``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from beam_swallow.inference.base import ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.handler import ChatModelHandler
from beam_swallow.records import Reason, Record, Reject
from beam_swallow.transforms.llm import LLMStage
from beam_swallow.transforms.rewriting import RewriteConfig, build_request, refused

__all__ = [
    "BANDS",
    "SCORE_GRAMMAR",
    "STAGE",
    "Score",
    "ScoreBands",
    "band_of",
    "judge_score",
    "parse_score",
]

STAGE = "score"
BANDS = ("low", "medium", "high")
_REASON_CHARS = 300  # a one-line reason; the grammar stops it here

SCORE_GRAMMAR = (
    r"""root ::= "Score: " score "\nReason: " reason "\n"
score ::= [0-9] | "10"
reason ::= [^\n]"""
    + "{1,"
    + str(_REASON_CHARS)
    + "}\n"
)

_SCORE = re.compile(r"score\W{0,3}\s*(\d{1,2}(?:\.\d+)?)(?:\s*/\s*10)?", re.IGNORECASE)
_REASON = re.compile(r"^\W*reason\W*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class ScoreBands:
    """Where the bands start: ``medium`` at ``low`` and ``high`` at ``high`` (scores 0-10).

    ``ScoreBands.parse("4,7")`` reads ``--score_bands``; ValueError unless
    0 <= low <= high <= 10 (``low == high`` leaves no band to rewrite).
    """

    low: float = 4.0
    high: float = 7.0

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high <= 10:
            raise ValueError(f"score bands need 0 <= LOW <= HIGH <= 10, got {self.low},{self.high}")

    @classmethod
    def parse(cls, text: str) -> ScoreBands:
        parts = [part.strip() for part in text.split(",")]
        if len(parts) != 2:
            raise ValueError(f"--score_bands takes LOW,HIGH (e.g. 4,7), got {text!r}")
        return cls(float(parts[0]), float(parts[1]))

    def __str__(self) -> str:
        return f"{self.low:g},{self.high:g}"


def band_of(score: float, bands: ScoreBands) -> str:
    """``low``, ``medium`` or ``high`` for a score."""
    if score < bands.low:
        return "low"
    return "medium" if score < bands.high else "high"


def parse_score(answer: str) -> tuple[float | None, str]:
    """The score (0-10, None when the answer holds none) and the reason line of an answer."""
    found = _SCORE.search(answer)
    score = float(found.group(1)) if found else None
    if score is not None and not 0 <= score <= 10:
        score = None
    reason = _REASON.search(answer)
    return score, (reason.group(1).strip() if reason else "")


def judge_score(record: Record, result: ChatResult, bands: ScoreBands) -> Record | Reject:
    """Keep the record with its score and band, or reject it ``low_score`` / ``no_score``."""
    score, reason = parse_score(result.text or "")
    if score is None:
        return Reject(Reason.NO_SCORE, refused(result.text))
    fields = {"llm_score": score, "score_reason": reason, "band": band_of(score, bands)}
    if fields["band"] == "low":
        return Reject(Reason.LOW_SCORE, fields)
    return {**record, **fields}


class Score(LLMStage):
    """The score stage: ``Score(engine, cfg, bands)`` is a PTransform returning a StageResult.

    ``cfg`` is the stage's prompt and grammar (``cfg.grammar`` is
    :data:`SCORE_GRAMMAR`, or None with ``--structured off``).
    """

    stage = STAGE
    grammar = SCORE_GRAMMAR

    def __init__(
        self,
        engine: EngineConfig,
        cfg: RewriteConfig,
        bands: ScoreBands | None = None,
        *,
        handler: ChatModelHandler | None = None,
    ):
        super().__init__(
            STAGE,
            engine,
            partial(build_request, engine=engine, cfg=cfg),
            partial(judge_score, bands=bands or ScoreBands()),
            provenance={"prompt_sha": cfg.prompt.sha},
            handler=handler,
            record_pairs=cfg.record_pairs,
        )
