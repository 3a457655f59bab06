"""Stage ``reformat`` (SwallowCode-v2): each file through its language's formatter again,
after the rewrite.

The same stage as :mod:`~beam_swallow.transforms.format` under its own name, so
a rewritten file is laid out as an original one and its exits are counted
apart: kept (``formatter``, ``reformat_changed``), rejected ``unformattable`` (a
rewrite its formatter refuses), dead letter.

Counters: ``reformat.kept``, ``reformat.unformattable``, ``reformat.dead_letter``.
"""

from __future__ import annotations

from beam_swallow.transforms.format import Format

__all__ = ["STAGE", "Reformat"]

STAGE = "reformat"


class Reformat(Format):
    """The reformat stage: ``Reformat(FormatConfig)`` returns a StageResult."""

    stage = STAGE
