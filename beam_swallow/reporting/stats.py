"""Counts and distributions for the report, gathered in the pipeline and kept small.

A 40M-file run cannot be re-read to draw a histogram, so the pipeline bins as
it goes: each stage's exits are turned into ``(stage, kind, bin)`` keys in the
same step that keys them for the counts (:class:`beam_swallow.report.KeyExits`),
summed with the counts by one combiner and written with them as JSON lines
under ``DIR/_counts/``, with a few dead letters of each error type as
examples. One step, one combiner and one file for both: each step of a Beam
graph costs every record a call and the run a fixed set-up (BENCHMARKS.md,
syntax). Kinds, none of them a count's (``report.COUNT_KINDS``):

- ``chars``: text length of each stage's kept records, in powers of two
  (bin ``k`` holds lengths in ``[2**k, 2**(k+1))``); before and after a
  rewrite are the stage before it and the rewriting stage itself;
- ``quality_score`` (lint, bins of 0.25) and ``sgcr_score`` (sgcr, bins of
  0.5), from every record the stage scored, kept or rejected;
- ``cluster_size`` (near_dedup): how many near-duplicate clusters have each
  size (the kept representative plus its rejected copies);
- ``error_type``: dead letters per stage and error type;
- ``quality_before:<measure>``, ``quality_after:<measure>``,
  ``quality_change:<measure>`` and ``quality_examples``: each rewriting stage's
  quality before and after (:mod:`beam_swallow.reporting.quality`).

:func:`read_stats` folds the files back into one dict for report.json.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from beam_swallow.jsonl import read_objects
from beam_swallow.records import ID, TEXT, Record
from beam_swallow.report import COUNT_KINDS, COUNTS_DIR, KeyExits
from beam_swallow.reporting.quality import EXAMPLES, quality_bins, quality_examples
from beam_swallow.stage import DEAD_LETTER, KEPT, StageResult

__all__ = ["EXAMPLES_PER_TYPE", "CountExits", "read_stats", "score_bin"]

EXAMPLES_PER_TYPE = 3
_EXAMPLE_CHARS = 300

# field -> (the stage that sets it, bin width)
SCORES = {"quality_score": ("lint", 0.25), "sgcr_score": ("sgcr", 0.5)}


def score_bin(value: float, width: float) -> str:
    """The lower edge of ``value``'s bin, as the text key the combiner sums by."""
    return f"{math.floor(value / width) * width:g}"


def _length_bin(text: str) -> str:
    return str(int(math.log2(len(text) + 1)))


def _keys(record: Record, stage: str, exit_: str) -> Iterator[tuple[tuple[str, str, str], int]]:
    if exit_ == KEPT and isinstance(record.get(TEXT), str):
        yield (stage, "chars", _length_bin(record[TEXT])), 1
    if exit_ == DEAD_LETTER:
        yield (stage, "error_type", str(record.get("error_type", "unknown"))), 1
        return
    for field, (owner, width) in SCORES.items():
        value = record.get(field)
        if owner == stage and isinstance(value, (int, float)):
            yield (stage, field, score_bin(float(value), width)), 1
    yield from quality_bins(record, stage, exit_)


def _example(record: Record) -> dict[str, Any]:
    """A dead letter cut down to what a reader needs to recognise it."""
    keep = ("id", "stage", "error_type", "error", "source_file")
    out = {k: str(record[k])[:_EXAMPLE_CHARS] for k in keep if k in record}
    raw = record.get(TEXT, record.get("raw"))
    if raw is not None:
        out["text"] = str(raw)[:_EXAMPLE_CHARS]
    return out


class CountExits(beam.PTransform):
    """Count and bin every stage's exits; write both under ``DIR/_counts/``.

    ``count_tokens``: also sum each stage's kept tokens (see ``KeyExits``);
    ``by_language``: count each exit (and tokens) per record ``language`` too.
    """

    def __init__(self, output_dir: str, count_tokens: bool = False, by_language: bool = False):
        super().__init__()
        self._dir = output_dir
        self._count_tokens = count_tokens
        self._by_language = by_language

    def expand(self, results: dict[str, StageResult]) -> beam.pvalue.PDone:
        keyed = [
            results
            | "KeyExits" >> KeyExits(self._count_tokens, bins=_keys, by_language=self._by_language)
        ]
        letters = []
        shown = []
        for stage, result in results.items():
            letters.append(
                result.dead_letter
                | f"Example{stage}"
                >> beam.Map(lambda r, s=stage: ((s, str(r.get("error_type"))), _example(r)))
            )
            shown.append(
                result.kept
                | f"QualityExample{stage}"
                >> beam.FlatMap(lambda r, s=stage: quality_examples(r, s))
            )
        if "near_dedup" in results:
            keyed.append(
                results["near_dedup"].rejected
                | "ClusterIds" >> beam.Map(lambda r: (str(r.get("cluster", r.get(ID))), 1))
                | "ClusterCopies" >> beam.CombinePerKey(sum)
                | "ClusterSize"
                >> beam.Map(lambda kv: (("near_dedup", "cluster_size", str(kv[1] + 1)), 1))
            )
        sums = (
            keyed
            | "FlattenKeys" >> beam.Flatten()
            | "SumKeys" >> beam.CombinePerKey(sum)
            | "SumsToJson" >> beam.Map(lambda kv: json.dumps([*kv[0], kv[1]]))
        )
        examples = (
            letters
            | "FlattenExamples" >> beam.Flatten()
            | "SampleExamples" >> beam.combiners.Sample.FixedSizePerKey(EXAMPLES_PER_TYPE)
            | "ExamplesToJson"
            >> beam.Map(lambda kv: json.dumps([kv[0][0], "examples", kv[0][1], kv[1]]))
        )
        quality = (
            shown
            | "FlattenQualityExamples" >> beam.Flatten()
            | "SampleQualityExamples" >> beam.combiners.Sample.FixedSizePerKey(EXAMPLES_PER_TYPE)
            | "QualityExamplesToJson"
            >> beam.Map(lambda kv: json.dumps([kv[0][0], EXAMPLES, kv[0][1], kv[1]]))
        )
        return (
            (sums, examples, quality)
            | "FlattenLines" >> beam.Flatten()
            | "WriteCounts"
            >> beam.io.WriteToText(
                FileSystems.join(self._dir, COUNTS_DIR, "counts"),
                file_name_suffix=".jsonl",
                shard_name_template="",
            )
        )


def read_stats(output_dir: str) -> dict[str, Any]:
    """``{stage: {kind: {bin: count}}}``; kind ``examples`` maps error types to examples."""
    stats: dict[str, Any] = {}
    pattern = FileSystems.join(output_dir, COUNTS_DIR, "*")
    for match in FileSystems.match([pattern]):
        for meta in match.metadata_list:
            for _, (stage, kind, key, value) in read_objects(meta.path):
                if kind not in COUNT_KINDS:
                    stats.setdefault(stage, {}).setdefault(kind, {})[key] = value
    return stats
