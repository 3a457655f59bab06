"""Stage ``scor``: self-contained optimizing rewriting (SwallowCode stage 4).

The input is SGCR's improved code (or any code, if run alone); the model turns
it into a self-contained, idiomatic program (prompt ``scor``). The answer's
first closed fenced block, of any language, is the new text
(:func:`~beam_swallow.transforms.parse.extract_code_block`).

The paper found 0.46% of SCOR outputs do not compile and kept them. Here each
rewrite is compiled again: ``compiles`` records the result, and rewrites that
do not compile are rejected ``does_not_compile`` unless ``--keep_uncompilable``
(the paper's behaviour) is given, since the syntax stage exists to keep such
files out of the data.

- kept: ``text`` is the rewrite; ``compiles``; the provenance of
  :mod:`~beam_swallow.transforms.rewriting`.
- rejected: ``no_code_block``, ``too_short`` (<= ``--too_short_chars``, paper
  50), ``does_not_compile``, ``truncated`` and ``too_long`` (from LLMStage).
  The refused ``answer`` is kept.
- dead letter: engine errors, and anything that raises.

Counters: ``scor.kept``, ``scor.<reason>``, ``scor.dead_letter``.
"""

from __future__ import annotations

from beam_swallow.inference.base import ChatResult
from beam_swallow.languages import PYTHON
from beam_swallow.languages.parsing import compile_verdict
from beam_swallow.records import Reason, Record, Reject
from beam_swallow.transforms.layouts import SCOR_GRAMMAR
from beam_swallow.transforms.parse import extract_code_block
from beam_swallow.transforms.rewriting import RewriteConfig, RewriteStage, refused, rewritten

__all__ = ["STAGE", "Scor", "judge_scor"]

STAGE = "scor"


def judge_scor(record: Record, result: ChatResult, cfg: RewriteConfig) -> Record | Reject:
    """Keep the rewritten program as the new text, or reject the answer with a reason."""
    code = extract_code_block(result.text or "")
    kept_on_reject = refused(result.text)
    if code is None:
        return Reject(Reason.NO_CODE_BLOCK, kept_on_reject)
    if len(code.strip()) <= cfg.short_chars:
        return Reject(Reason.TOO_SHORT, kept_on_reject)
    reason, error = compile_verdict(code)
    if reason is not None and not cfg.keep_uncompilable:
        return Reject(
            Reason.DOES_NOT_COMPILE, {**kept_on_reject, "compiles": False, "error": error[:500]}
        )
    out = rewritten(record, STAGE, cfg, code)
    out["compiles"] = reason is None
    return out


class Scor(RewriteStage):
    """The scor stage: ``Scor(engine, cfg)`` is a PTransform returning a StageResult."""

    stage = STAGE
    grammar = SCOR_GRAMMAR
    languages = frozenset({PYTHON.name})  # the paper's prompt and rules are Python's
    judge = staticmethod(judge_scor)
