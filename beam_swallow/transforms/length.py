"""Stage ``length`` (both v2 recipes): keep texts whose length is within bounds.

The authors' second recipes bound each file or page by its length in
characters before any LLM sees it: a text too long for the rewrite to hold
costs a generation that would be cut short, and a text of a few characters
has nothing to rewrite. Bounds are ``--length_min_chars`` and
``--length_max_chars``, both inclusive, counted in Python characters (code
points) of the text as it enters the stage (after ``format`` in the code
recipe).

- kept: the record, unchanged.
- rejected ``text_too_short`` / ``text_too_long``, with ``chars``.
- dead letter: a record whose text is not a string.

Counters: ``length.kept``, ``length.text_too_short``, ``length.text_too_long``,
``length.dead_letter``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.stage import RecordStage

__all__ = ["STAGE", "Length", "LengthConfig", "judge_length"]

STAGE = "length"


@dataclass(frozen=True)
class LengthConfig:
    """Inclusive bounds on a text's length in characters; ValueError when empty.

    Defaults are ours (the dataset cards name a character bound, not its value):
    50 characters at least, as the paper's shortest kept rewrite; 20,000 at most,
    about 5,000 tokens, a file whose rewrite still fits an 8,192-token answer.
    """

    min_chars: int = 50
    max_chars: int = 20_000

    def __post_init__(self) -> None:
        if self.min_chars < 0 or self.max_chars < self.min_chars:
            raise ValueError(
                f"length bounds must satisfy 0 <= min <= max, got {self.min_chars}..{self.max_chars}"
            )


def judge_length(record: Record, cfg: LengthConfig) -> Record | Reject:
    """Keep the record when its text's length is within ``cfg``'s bounds."""
    text = record[TEXT]
    if not isinstance(text, str):
        raise TypeError(f"text is {type(text).__name__}, not str")
    chars = len(text)
    if chars < cfg.min_chars:
        return Reject(Reason.TEXT_TOO_SHORT, {"chars": chars})
    if chars > cfg.max_chars:
        return Reject(Reason.TEXT_TOO_LONG, {"chars": chars})
    return record


class Length(RecordStage):
    """The length stage: ``Length(LengthConfig)`` returns a StageResult."""

    stage = STAGE

    def __init__(self, cfg: LengthConfig | None = None):
        super().__init__(partial(judge_length, cfg=cfg or LengthConfig()))
