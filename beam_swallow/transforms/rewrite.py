"""Stage ``rewrite`` (SwallowCode-v2): one rewrite of the files the score put in the medium band.

The authors' second recipe replaced the paper's two rewrites (SGCR, then SCOR)
with one, applied only to files of middling score: high-band files are good
as they are, low-band ones were dropped by ``score``. Records of the bands in
``rewrite_bands`` (default ``medium``; a record without ``band``, when
``score`` did not run, counts as medium) go to the model with prompt
``rewrite``; the others leave by the kept exit untouched, with
``rewritten: false``. The answer is judged as scor's is: one program in one
fenced block (:data:`~beam_swallow.transforms.layouts.SCOR_GRAMMAR` with
``--structured on``), compiled again.

- kept: rewritten records (``text`` is the program, ``compiles``,
  ``rewritten: true``, the provenance of
  :mod:`~beam_swallow.transforms.rewriting`), and the records of other bands.
- rejected: ``no_code_block``, ``too_short``, ``does_not_compile``,
  ``truncated``, ``too_long``. The refused ``answer`` is kept.
- dead letter: engine errors, and anything that raises.

Counters: ``rewrite.kept`` (both kinds), ``rewrite.<reason>``,
``rewrite.dead_letter``.
"""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam
from apache_beam import pvalue

from beam_swallow.inference.base import ChatResult
from beam_swallow.records import Record, Reject
from beam_swallow.stage import KEPT, StageResult, emit_verdict
from beam_swallow.transforms.layouts import SCOR_GRAMMAR
from beam_swallow.transforms.rewriting import RewriteConfig, RewriteStage
from beam_swallow.transforms.scor import judge_program

__all__ = ["STAGE", "Rewrite", "RewriteModel", "judge_rewrite"]

STAGE = "rewrite"
_TO_MODEL = "to_model"


def judge_rewrite(record: Record, result: ChatResult, cfg: RewriteConfig) -> Record | Reject:
    """Keep the rewritten program as the new text, or reject the answer with a reason."""
    verdict = judge_program(record, result, cfg, STAGE)
    return verdict if isinstance(verdict, Reject) else {**verdict, "rewritten": True}


class RewriteModel(RewriteStage):
    """The model's part of the stage: every record it is given is rewritten."""

    stage = STAGE
    grammar = SCOR_GRAMMAR
    judge = staticmethod(judge_rewrite)


class _RouteDoFn(beam.DoFn):
    def __init__(self, bands: frozenset[str]):
        self._bands = bands

    def process(self, record: Record) -> Iterator[pvalue.TaggedOutput]:
        if record.get("band", "medium") in self._bands:
            yield pvalue.TaggedOutput(_TO_MODEL, record)
        else:
            yield emit_verdict(STAGE, record, {**record, "rewritten": False})


class Rewrite(beam.PTransform):
    """The rewrite stage: ``Rewrite(model_stage)``, where ``model_stage`` is a
    :class:`RewriteModel` (or the same behind the result cache); returns what it
    returns (a StageResult, or a CachedResult), its kept exit joined by the other
    bands."""

    stage = STAGE

    def __init__(
        self, model_stage: beam.PTransform, rewrite_bands: frozenset[str] = frozenset({"medium"})
    ):
        super().__init__(label=STAGE)
        self._model_stage = model_stage
        self._bands = rewrite_bands

    def expand(self, records: beam.PCollection) -> StageResult:
        routed = records | "Route" >> beam.ParDo(_RouteDoFn(self._bands)).with_outputs(
            _TO_MODEL, KEPT
        )
        result = routed[_TO_MODEL] | "Model" >> self._model_stage
        kept = (result.kept, routed[KEPT]) | "Kept" >> beam.Flatten()
        return result._replace(kept=kept)
