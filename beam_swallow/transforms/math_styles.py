"""Stage ``math_styles`` (SwallowMath-v2): the extracted mathematics rewritten in a style.

The authors' second math recipe rewrites the mathematics ``math_extract``
copied out of each page in one of the two styles that served best in their ablations:
``textbook`` (a short section: idea, definitions, a worked example) and
``qa`` (one question and a stepwise answer), each with its own prompt
(``math_textbook``, ``math_qa``).

Departure: the authors wrote both styles of every page, two records per page.
Here each page leaves by exactly one exit, so ``--math_style`` picks one:
``textbook``, ``qa``, or ``alternate`` (default), which gives each page the style
its id's SHA-1 picks (even: textbook, odd: qa), so a corpus gets both styles
in about equal parts and a rerun gives each page the same one.

- kept: ``text`` is the rewrite, ``style`` (``textbook`` or ``qa``), the
  provenance (``generation.math_styles.prompt_sha`` maps each style to the
  SHA-256 of its prompt).
- rejected: ``too_short``, ``too_long``, ``truncated``.

- dead letter: engine errors, and anything that raises.

Counters: ``math_styles.kept``, ``math_styles.<reason>``, ``math_styles.dead_letter``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial

from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.handler import ChatModelHandler
from beam_swallow.prompts import Prompt
from beam_swallow.records import ID, Reason, Record, Reject
from beam_swallow.transforms.llm import LLMStage
from beam_swallow.transforms.math_rewrite import build_math_request
from beam_swallow.transforms.rewriting import RewriteConfig, refused, rewritten

__all__ = [
    "STAGE",
    "STYLES",
    "STYLE_CHOICES",
    "MathStyles",
    "StyleConfig",
    "judge_style",
    "style_of",
]

STAGE = "math_styles"
STYLES = ("textbook", "qa")
PROMPTS = {"textbook": "math_textbook", "qa": "math_qa"}  # each style's prompt
STYLE_CHOICES = (*STYLES, "alternate")


@dataclass(frozen=True)
class StyleConfig:
    """The two styles' settings: ``cfg`` (prompt: textbook's) and ``qa_prompt``, and
    which style each page gets (``style``, one of :data:`STYLE_CHOICES`)."""

    cfg: RewriteConfig
    qa_prompt: Prompt
    style: str = "alternate"

    def __post_init__(self) -> None:
        if self.style not in STYLE_CHOICES:
            raise ValueError(f"--math_style must be one of {', '.join(STYLE_CHOICES)}")

    def for_style(self, style: str) -> RewriteConfig:
        return self.cfg if style == "textbook" else replace(self.cfg, prompt=self.qa_prompt)

    @property
    def prompt_shas(self) -> Mapping[str, str]:
        return {"textbook": self.cfg.prompt.sha, "qa": self.qa_prompt.sha}


def style_of(record: Record, choice: str) -> str:
    """The style a page is written in: ``choice``, or by its id with ``alternate``."""
    if choice != "alternate":
        return choice
    return STYLES[hashlib.sha1(str(record[ID]).encode("utf-8")).digest()[-1] % 2]


def _build(record: Record, engine: EngineConfig, styles: StyleConfig) -> ChatRequest | Reject:
    return build_math_request(record, engine, styles.for_style(style_of(record, styles.style)))


def judge_style(record: Record, result: ChatResult, styles: StyleConfig) -> Record | Reject:
    """The rewrite in the page's style as the new text, or ``too_short``."""
    style = style_of(record, styles.style)
    answer = (result.text or "").strip()
    if len(answer) <= styles.cfg.short_chars:
        return Reject(Reason.TOO_SHORT, {**refused(result.text), "style": style})
    return {**rewritten(record, STAGE, styles.cfg, answer), "style": style}


class MathStyles(LLMStage):
    """The math_styles stage: ``MathStyles(engine, StyleConfig)`` returns a StageResult."""

    stage = STAGE

    def __init__(
        self, engine: EngineConfig, styles: StyleConfig, *, handler: ChatModelHandler | None = None
    ):
        super().__init__(
            STAGE,
            engine,
            partial(_build, engine=engine, styles=styles),
            partial(judge_style, styles=styles),
            provenance={"prompt_sha": dict(styles.prompt_shas)},
            handler=handler,
            record_pairs=styles.cfg.record_pairs,
        )
