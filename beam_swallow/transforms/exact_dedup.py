"""Stage ``exact_dedup``: one record per group of identical texts.

Texts are grouped by a 128-bit BLAKE2b digest of the text under
``--exact_dedup_normalize``:

- ``python`` (default): the text's Python tokens. Spaces between tokens,
  blank lines and trailing spaces do not count; indentation (as
  indent/dedent steps, so tabs and spaces that nest alike match), the line
  breaks that end statements, comments and every string literal do. Two
  files match only when Python reads them alike: re-indenting a block
  changes what a program does, so it never makes a duplicate. A text that
  does not tokenize as Python (prose, a broken file) is compared as under
  ``whitespace``.
- ``whitespace``: every run of whitespace folded to one space, ends stripped,
  so re-wrapped prose matches (for math pages; it merges Python files that
  differ only in indentation).
- ``none``: the text exactly as it is. The kept record is the group's smallest
:func:`~beam_swallow.dedup.keep.rank_key` (``--dedup_keep``: smallest id, or
highest ``quality_score``), ties broken by a digest of the record's canonical
JSON (:func:`~beam_swallow.dedup.keep.canonical_digest`): the choice never
depends on bundle order.

The winner is found with a combiner (``CombinePerKey(min)``, lifted before the
shuffle) over ranks alone, then streamed past the group's records, so a text
repeated a million times (the empty ``__init__.py``) never sits in one
worker's memory. The join is the one shuffle that carries whole records, once.

Rejected records get reason ``exact_duplicate`` and ``duplicate_of`` (the
kept record's id). Counters: ``exact_dedup.kept``,
``exact_dedup.exact_duplicate``, ``exact_dedup.dead_letter``.
"""

from __future__ import annotations

import hashlib
import io
import tokenize
from collections.abc import Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from beam_swallow.dedup.keep import DEFAULT_KEEP, canonical_digest, check_keep, rank_key
from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_verdict,
    guarded,
)

__all__ = ["DEFAULT_NORMALIZE", "NORMALIZATIONS", "STAGE", "ExactDedup", "text_digest"]

STAGE = "exact_dedup"
NORMALIZATIONS = ("python", "whitespace", "none")
DEFAULT_NORMALIZE = "python"
_KEYED = "keyed"


_STRUCTURE = {tokenize.INDENT: "<indent>", tokenize.DEDENT: "<dedent>", tokenize.NEWLINE: "\n"}
_IGNORED = {tokenize.NL, tokenize.ENDMARKER}


def _python_tokens(text: str) -> list[str] | None:
    """The tokens that carry ``text``'s meaning as Python; None when it does not tokenize.

    Line endings are first made ``\\n``, as Python reads a source file.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    if any(token.type == tokenize.ERRORTOKEN for token in tokens):
        return None  # a stray quote or symbol: prose, not Python
    return [
        _STRUCTURE.get(token.type, token.string.rstrip())
        for token in tokens
        if token.type not in _IGNORED
    ]


def _digest(parts: Iterable[str]) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little") + data)  # length-prefixed: no ambiguity
    return digest.digest()


def text_digest(text: str, normalize: str) -> bytes:
    """The grouping key of a text under a normalization."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}")
    if normalize == "python":
        tokens = _python_tokens(text)
        if tokens is not None:
            return _digest(["python", *tokens])
        normalize = "whitespace"
    if normalize == "whitespace":
        text = " ".join(text.split())
    return _digest([normalize, text])


class _KeyDoFn(beam.DoFn):
    def __init__(self, normalize: str, keep: str):
        self._normalize = normalize
        self._keep = keep

    def process(self, record: Record) -> Iterator[pvalue.TaggedOutput]:
        keyed = guarded(STAGE, record, self._keyed, record)
        yield (
            keyed if isinstance(keyed, pvalue.TaggedOutput) else pvalue.TaggedOutput(_KEYED, keyed)
        )

    def _keyed(self, record: Record) -> tuple[bytes, tuple[tuple[Any, ...], Record]]:
        order = (*rank_key(record, self._keep), canonical_digest(record))
        return text_digest(record[TEXT], self._normalize), (order, record)


def _verdicts(item: tuple[bytes, dict[str, Iterable[Any]]]) -> Iterator[pvalue.TaggedOutput]:
    _, groups = item
    winner = next(iter(groups["winner"]))
    kept = False
    for order, record in groups["records"]:
        if order == winner and not kept:
            kept = True  # a record identical in every field to the winner is still a duplicate
            yield emit_verdict(STAGE, record, record)
        else:
            fields = {"duplicate_of": winner[1]}
            yield emit_verdict(STAGE, record, Reject(Reason.EXACT_DUPLICATE, fields))


class ExactDedup(beam.PTransform):
    """The exact_dedup stage as a PTransform returning a StageResult."""

    stage = STAGE

    def __init__(self, normalize: str = DEFAULT_NORMALIZE, keep: str = DEFAULT_KEEP):
        super().__init__(label=STAGE)
        if normalize not in NORMALIZATIONS:
            raise ValueError(f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}")
        self._normalize = normalize
        self._keep = check_keep(keep)

    def expand(self, records: beam.PCollection) -> StageResult:
        keyed = records | "Key" >> beam.ParDo(_KeyDoFn(self._normalize, self._keep)).with_outputs(
            _KEYED, DEAD_LETTER
        )
        winners = (
            keyed[_KEYED]
            | "Order" >> beam.Map(lambda kv: (kv[0], kv[1][0]))
            | "Winner" >> beam.CombinePerKey(min)
        )
        tagged = (
            {"records": keyed[_KEYED], "winner": winners}
            | "Join" >> beam.CoGroupByKey()
            | "Verdicts" >> beam.FlatMap(_verdicts).with_outputs(KEPT, REJECTED, DEAD_LETTER)
        )
        dead = (keyed[DEAD_LETTER], tagged[DEAD_LETTER]) | "AllDead" >> beam.Flatten()
        return StageResult(tagged[KEPT], tagged[REJECTED], dead)
