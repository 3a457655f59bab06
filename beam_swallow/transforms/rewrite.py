"""Stage ``rewrite`` (SwallowCode-v2): one rewrite of the files the score put in the medium band.

The authors' second recipe replaced the paper's two rewrites (SGCR, then SCOR)
with one, applied only to files of middling score: high-band files are good
as they are, low-band ones were dropped by ``score``. Records of the bands in
``rewrite_bands`` (default ``medium``; a record without ``band``, when
``score`` did not run, counts as medium) go to the model with prompt
``rewrite``; the others leave by the kept exit untouched, with
``rewritten: false``.

The stage rewrites every language of the catalog. The prompt names the
record's ``language`` and the code-fence tag to answer with
(:func:`~beam_swallow.transforms.rewriting.prompt_fields`); with
``--structured on`` the answer is decoded under that language's layout (one
block opened with its tag, :func:`~beam_swallow.transforms.layouts.program_grammar`).
The answer is judged in four steps:

1. its first closed fenced block is the program
   (:func:`~beam_swallow.transforms.parse.first_code_block`); none:
   ``no_code_block``;
2. the block's tag must be one of the language's (``Language.fences``: ``go``
   or ``golang`` for Go); a block tagged for another language is rejected
   ``wrong_language`` (``fence`` holds the tag). An untagged block is accepted:
   the language is the record's, and step 4 checks the code in it;
3. at most ``--too_short_chars`` characters: ``too_short``;
4. the program is parsed again by its language's exact parser
   (:func:`~beam_swallow.transforms.recheck.parse_check`: ``compile()`` for
   Python): one that does not parse is rejected ``does_not_parse`` (``error``
   with the first error's line and column), unless ``--keep_uncompilable``.

- kept: rewritten records (``text`` is the program, ``parses``,
  ``parse_checker``, ``rewritten: true``, the provenance of
  :mod:`~beam_swallow.transforms.rewriting`), and the records of other bands.
- rejected: ``no_code_block``, ``wrong_language``, ``too_short``,
  ``does_not_parse``, ``truncated``, ``too_long``. The refused ``answer`` is kept.
- dead letter: engine errors; a language whose parser is missing
  (``tool_missing``; the run's preflight stops that before anything is read);
  anything that raises.

Counters: ``rewrite.kept`` (both kinds), ``rewrite.<reason>``,
``rewrite.dead_letter``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

import apache_beam as beam
from apache_beam import pvalue

from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.languages.routing import record_language
from beam_swallow.records import ID, TEXT, Reason, Record, Reject
from beam_swallow.stage import KEPT, StageResult, emit_verdict
from beam_swallow.transforms.layouts import SCOR_GRAMMAR, program_grammar
from beam_swallow.transforms.parse import first_code_block
from beam_swallow.transforms.recheck import parse_check, recheck_preflight
from beam_swallow.transforms.rewriting import (
    RewriteConfig,
    RewriteStage,
    prompt_fields,
    refused,
    rewritten,
)

__all__ = ["STAGE", "Rewrite", "RewriteModel", "build_rewrite_request", "judge_rewrite"]

STAGE = "rewrite"
_TO_MODEL = "to_model"


def build_rewrite_request(record: Record, engine: EngineConfig, cfg: RewriteConfig) -> ChatRequest:
    """The ``rewrite`` prompt naming the record's language, the text as the user turn, and
    with structured generation (``cfg.grammar`` set) that language's block layout."""
    language = record_language(record)
    text = record[TEXT]
    messages = cfg.prompt.messages(text, prompt_fields(language))
    grammar = None if cfg.grammar is None else program_grammar(language.fences[0])
    return engine.request(record[ID], messages, grammar, source=text)


def judge_rewrite(record: Record, result: ChatResult, cfg: RewriteConfig) -> Record | Reject:
    """Keep the rewritten program as the new text, or reject the answer with a reason."""
    language = record_language(record)
    kept_on_reject = refused(result.text)
    block = first_code_block(result.text or "")
    if block is None:
        return Reject(Reason.NO_CODE_BLOCK, kept_on_reject)
    tag, code = block
    if tag and tag not in language.fences:
        return Reject(Reason.WRONG_LANGUAGE, {**kept_on_reject, "fence": tag})
    if len(code.strip()) <= cfg.short_chars:
        return Reject(Reason.TOO_SHORT, kept_on_reject)
    check = parse_check(language.name, code)
    parsed = {"parses": check.ok, "parse_checker": check.checker}
    if not check.ok and not cfg.keep_uncompilable:
        return Reject(
            Reason.DOES_NOT_PARSE, {**kept_on_reject, **parsed, "error": check.error[:500]}
        )
    return {**rewritten(record, STAGE, cfg, code), **parsed, "rewritten": True}


class RewriteModel(RewriteStage):
    """The model's part of the stage: every record it is given is rewritten.

    ``grammar`` stands for structured generation on; each request carries its own
    language's layout (:func:`build_rewrite_request`).
    """

    stage = STAGE
    grammar = SCOR_GRAMMAR
    judge = staticmethod(judge_rewrite)
    build = staticmethod(build_rewrite_request)


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

    def tools_preflight(self, languages: Collection[str]) -> None:
        """ToolMissing when a parser the rewrites of ``languages`` are checked with is missing."""
        recheck_preflight(languages)

    def expand(self, records: beam.PCollection) -> StageResult:
        routed = records | "Route" >> beam.ParDo(_RouteDoFn(self._bands)).with_outputs(
            _TO_MODEL, KEPT
        )
        result = routed[_TO_MODEL] | "Model" >> self._model_stage
        kept = (result.kept, routed[KEPT]) | "Kept" >> beam.Flatten()
        return result._replace(kept=kept)
