"""Stage ``format`` (SwallowCode-v2): every file through ``ruff format`` before it is scored.

The authors' second recipe formats each file with ruff's formatter first, so
the score and the rewrite see one layout, and formats again after the rewrite
(stage ``reformat``). Records go to ruff in batches
(:class:`~beam_swallow.transforms.ruff_stage.RuffStage`).

- kept: ``text`` is ruff's output, byte for byte what ``ruff format`` writes
  (``--isolated``: no configuration file applies); ``format_changed`` says
  whether it differs from the input.
- rejected ``unformattable``: ruff cannot parse the file; ``error`` is ruff's
  message (``Failed to parse 0.py:1:5: ...``; line and column are the file's).
- dead letter: ruff failed the whole batch (``ruff_error``), or the record has
  no string text.

Counters: ``format.kept``, ``format.unformattable``, ``format.dead_letter``.
"""

from __future__ import annotations

from beam_swallow.linting.ruff import FormatOutcome, format_sources
from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.transforms.ruff_stage import RuffStage

__all__ = ["STAGE", "Format", "format_verdict"]

STAGE = "format"


def format_verdict(record: Record, outcome: FormatOutcome, stage: str) -> Record | Reject:
    """ruff's formatted text as the record's text, or ``unformattable`` with ruff's message."""
    if outcome.text is None:
        return Reject(Reason.UNFORMATTABLE, {"error": outcome.error})
    return {**record, TEXT: outcome.text, f"{stage}_changed": outcome.text != record[TEXT]}


class Format(RuffStage):
    """The format stage: ``Format(RuffConfig)`` returns a StageResult."""

    stage = STAGE
    run = staticmethod(format_sources)
    verdict = staticmethod(format_verdict)
