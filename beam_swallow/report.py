"""The run report: counts per stage and exit, and the conservation check.

Counts are taken from the output PCollections themselves, not from metrics
(not every runner commits metrics): :class:`KeyExits` turns each stage's
three exits into ``(stage, exit, reason)`` keys; with a tokenizer it also sums
the tokens of each stage's kept texts (key ``(stage, "tokens", "")``, see
:mod:`beam_swallow.inference.tokens`). A batch run sums them with the report's
distributions and writes them as JSON lines under ``DIR/_counts/``
(:class:`beam_swallow.reporting.stats.CountExits`). After the pipeline
finishes, :func:`write_report` folds the counts into ``DIR/report.json``::

    {"input": N, "kept": K, "rejected": {"<reason>": n}, "dead_letter": D,
     "balanced": true, "input_tokens": T, "kept_tokens": t,
     "stages": {"<stage>": {"input": .., "kept": .., "rejected": {..},
                            "dead_letter": .., "balanced": true,
                            "input_tokens": .., "kept_tokens": ..}}}

A run that read dead letters back (a replay, see :func:`~beam_swallow.records.replayed`)
has ``"replayed": n``, for the run (the records the reader made of them) and for
each stage (how many of its outputs were replayed records, key
``(stage, "replayed", "")``). A cached stage (``--cache_dir``) also has ``"cache": {"hits", "misses",
"written", "corrupt"}`` (key ``(stage, "cache", event)``). A stage's ``input``
is what the stage before it kept; the reader's is its own
count of the input units it read (``(read, "input", "")``: non-blank lines or
rows, plus one per file that failed part way), counted apart from its exits, so
a line the reader lost would show as an unbalanced ``read``. ``balanced`` says ``input = kept + rejected +
dead_letter`` holds, for the stage and for the run. Token fields appear only
when tokens were counted; a stage's ``input_tokens`` is likewise what the stage
before kept (the reader's, the tokens of the records it read and kept).

A run that routes by language (the code pipeline, ``by_language``) also counts
each exit per record ``language`` (keys ``(stage, "language", "LANG|exit|reason")``
and ``(stage, "language_tokens", LANG)``): each stage gets ``"languages": {LANG:
{"input", "kept", "rejected", "dead_letter", "kept_tokens"}}`` and the run
``"languages": {LANG: {"input", "kept", "rejected", "dead_letter", "balanced",
"input_tokens", "kept_tokens"}}``, in the catalog's order. A record the reader
gave no language (a line that is no record, a label or extension of no known
language) is in the run's counts but in no language's; the languages' inputs
and ``no_language`` add up to the run's ``input``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import BoundedWindow
from apache_beam.utils.windowed_value import WindowedValue

from beam_swallow.cache import CACHE_EVENTS, CachedResult
from beam_swallow.io import ReadResult
from beam_swallow.jsonl import read_objects
from beam_swallow.languages import names
from beam_swallow.records import LANGUAGE, REASON, REPLAYED_FROM, TEXT, Record
from beam_swallow.stage import DEAD_LETTER, KEPT, REJECTED, StageResult

__all__ = [
    "COUNTS_DIR",
    "COUNT_KINDS",
    "LANGUAGE_COUNTS",
    "LANGUAGE_TOKENS",
    "REPLAYED",
    "REPORT_NAME",
    "Bins",
    "KeyExits",
    "build_report",
    "language_rows",
    "read_counts",
    "save_report",
    "write_report",
]

COUNTS_DIR = "_counts"
REPORT_NAME = "report.json"
TOKENS = "tokens"
CACHE = "cache"  # a cached stage's (stage, cache, event) counts, see beam_swallow.cache
INPUT = "input"  # the reader's own count of the input units it read
REPLAYED = "replayed"  # a stage's outputs that were read back from an earlier run's dead letters
LANGUAGE_COUNTS = (
    "language"  # (stage, LANGUAGE_COUNTS, "LANG|exit|reason"): one exit of one language
)
LANGUAGE_TOKENS = "language_tokens"  # (stage, LANGUAGE_TOKENS, LANG): a language's kept tokens
_SEP = "|"  # no language name holds it

# The second field of a count key; other kinds share the counts' files (bins).
COUNT_KINDS = frozenset(
    {KEPT, REJECTED, DEAD_LETTER, TOKENS, CACHE, INPUT, REPLAYED, LANGUAGE_COUNTS, LANGUAGE_TOKENS}
)
_LANGUAGES = names()

Key = tuple[str, str, str]
# (record, stage, exit) -> more ((stage, kind, bin), n) pairs from the same pass
Bins = Callable[[Record, str, str], Iterable[tuple[Key, int]]]


class _KeyExit(beam.DoFn):
    """One exit's records: each one's count key, a kept text's tokens, its ``bins``.

    The pairs are summed per window within the bundle and emitted when it
    ends: a handful of pairs per bundle cross to the combiner, where one or
    more per record did (each crossing costs an encode and a decode on a
    portable runner; BENCHMARKS.md, syntax). Each sum is emitted at its
    window's end, in that window.
    """

    def __init__(
        self, stage: str, exit_: str, count_tokens: bool, bins: Bins | None, by_language: bool
    ):
        self._stage = stage
        self._exit = exit_
        self._count_tokens = count_tokens
        self._bins = bins
        self._by_language = by_language
        self._tokenizer = None
        self._sums: dict[tuple[BoundedWindow, Key], int] = {}

    def setup(self) -> None:
        if self._count_tokens:
            from beam_swallow.inference.tokens import load_tokenizer

            self._tokenizer = load_tokenizer()

    def start_bundle(self) -> None:
        self._sums = {}

    def _keys(self, record: Record) -> Iterator[tuple[Key, int]]:
        reason = record[REASON] if self._exit == REJECTED else ""
        yield (self._stage, self._exit, reason), 1
        if REPLAYED_FROM in record:
            yield (self._stage, REPLAYED, ""), 1
        language = record.get(LANGUAGE) if self._by_language else None
        if language not in _LANGUAGES:
            language = None
        if language is not None:
            yield (self._stage, LANGUAGE_COUNTS, _SEP.join((language, self._exit, reason))), 1
        if self._tokenizer is not None:
            text = record.get(TEXT)
            if isinstance(text, str):
                tokens = self._tokenizer.count(text)
                yield (self._stage, TOKENS, ""), tokens
                if language is not None:
                    yield (self._stage, LANGUAGE_TOKENS, language), tokens
        if self._bins is not None:
            yield from self._bins(record, self._stage, self._exit)

    def process(self, record: Record, window: BoundedWindow = beam.DoFn.WindowParam) -> None:
        sums = self._sums
        for key, n in self._keys(record):
            sums[window, key] = sums.get((window, key), 0) + n

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for (window, key), n in self._sums.items():
            yield WindowedValue((key, n), window.max_timestamp(), (window,))
        self._sums = {}


class KeyExits(beam.PTransform):
    """Every stage's exits (and kept tokens) as ``((stage, exit, reason), n)`` pairs,
    in the windows of the exits they come from.

    ``bins`` adds the keys it gives each exit record, in the same step, so a
    run that also bins its records for the report passes over them once.
    ``by_language``: also count each exit (and kept tokens) per record ``language``.
    """

    def __init__(
        self, count_tokens: bool = False, bins: Bins | None = None, by_language: bool = False
    ):
        super().__init__()
        self._count_tokens = count_tokens
        self._bins = bins
        self._by_language = by_language

    def expand(self, results: dict[str, StageResult]) -> beam.PCollection:
        keyed = []
        for stage, result in results.items():
            for exit_, label, records in (
                (KEPT, "Kept", result.kept),
                (REJECTED, "Rejected", result.rejected),
                (DEAD_LETTER, "Dead", result.dead_letter),
            ):
                count_tokens = self._count_tokens and exit_ == KEPT
                key = _KeyExit(stage, exit_, count_tokens, self._bins, self._by_language)
                keyed.append(records | f"Key{stage}{label}" >> beam.ParDo(key))
            if isinstance(result, CachedResult):  # cache hits, misses, writes, corrupt entries
                keyed.append(
                    result.cache
                    | f"Key{stage}Cache" >> beam.Map(lambda kv, s=stage: ((s, CACHE, kv[0]), kv[1]))
                )
            if isinstance(result, ReadResult):  # the reader counted its input itself
                keyed.append(
                    result.seen
                    | f"Key{stage}Input" >> beam.Map(lambda n, s=stage: ((s, INPUT, ""), n))
                )
        return keyed | "FlattenKeys" >> beam.Flatten()


def read_counts(output_dir: str) -> list[tuple[str, str, str, int]]:
    """The ``(stage, exit, reason, count)`` rows a run wrote (its other rows are bins)."""
    pattern = FileSystems.join(output_dir, COUNTS_DIR, "*")
    rows = []
    for match in FileSystems.match([pattern]):
        for meta in match.metadata_list:
            for _, (stage, exit_, reason, count) in read_objects(meta.path):
                if exit_ in COUNT_KINDS:
                    rows.append((stage, exit_, reason, count))
    return rows


def build_report(
    rows: Sequence[tuple[str, str, str, int]], stages: Sequence[str]
) -> dict[str, Any]:
    """Fold count rows into the report, stages in pipeline order."""
    per_stage: dict[str, dict[str, Any]] = {
        s: {"input": 0, KEPT: 0, REJECTED: {}, DEAD_LETTER: 0} for s in stages
    }
    tokens: dict[str, int] = {}
    counted_input: dict[str, int] = {}
    by_language: dict[str, dict[str, dict[str, Any]]] = {}  # stage -> language -> exits
    for stage, exit_, reason, count in rows:
        entry = per_stage.setdefault(stage, {"input": 0, KEPT: 0, REJECTED: {}, DEAD_LETTER: 0})
        if exit_ in (LANGUAGE_COUNTS, LANGUAGE_TOKENS):
            _count_language(by_language.setdefault(stage, {}), exit_, reason, count)
        elif exit_ == TOKENS:
            tokens[stage] = tokens.get(stage, 0) + count
        elif exit_ == CACHE:
            cache = entry.setdefault(CACHE, dict.fromkeys(CACHE_EVENTS, 0))
            cache[reason] = cache.get(reason, 0) + count
        elif exit_ == INPUT:
            counted_input[stage] = counted_input.get(stage, 0) + count
        elif exit_ == REPLAYED:
            entry[REPLAYED] = entry.get(REPLAYED, 0) + count
        elif exit_ == REJECTED:
            entry[REJECTED][reason] = entry[REJECTED].get(reason, 0) + count
        else:
            entry[exit_] += count
    order = list(stages) + [s for s in per_stage if s not in stages]
    previous_kept = None
    previous_tokens = None
    total_rejected: dict[str, int] = {}
    total_dead = 0
    for stage in order:
        entry = per_stage[stage]
        outputs = entry[KEPT] + sum(entry[REJECTED].values()) + entry[DEAD_LETTER]
        if stage in counted_input:  # the reader's own count of what it read
            entry["input"] = counted_input[stage]
        else:
            entry["input"] = outputs if previous_kept is None else previous_kept
        entry["balanced"] = entry["input"] == outputs
        previous_kept = entry[KEPT]
        if tokens:
            entry["kept_tokens"] = tokens.get(stage, 0)
            entry["input_tokens"] = (
                entry["kept_tokens"] if previous_tokens is None else previous_tokens
            )
            previous_tokens = entry["kept_tokens"]
        for reason, count in entry[REJECTED].items():
            total_rejected[reason] = total_rejected.get(reason, 0) + count
        total_dead += entry[DEAD_LETTER]
    first = per_stage[order[0]] if order else {"input": 0}
    kept = previous_kept or 0
    report = {
        "input": first["input"],
        KEPT: kept,
        REJECTED: dict(sorted(total_rejected.items())),
        DEAD_LETTER: total_dead,
    }
    report["balanced"] = report["input"] == kept + sum(
        total_rejected.values()
    ) + total_dead and all(per_stage[s]["balanced"] for s in order)
    if REPLAYED in first:
        report[REPLAYED] = first[REPLAYED]
    if tokens:
        report["input_tokens"] = per_stage[order[0]]["input_tokens"]
        report["kept_tokens"] = previous_tokens
    report["stages"] = {s: per_stage[s] for s in order}
    if by_language:
        _fold_languages(report, order, by_language)
    return report


def language_rows(stage: str, languages: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """A stage's ``languages`` in a report back into the count rows it was built from
    (a streaming run sums its windows' reports this way)."""
    rows = []
    for language, entry in languages.items():
        for exit_, n in ((KEPT, entry[KEPT]), (DEAD_LETTER, entry[DEAD_LETTER])):
            rows.append((stage, LANGUAGE_COUNTS, _SEP.join((language, exit_, "")), n))
        for reason, n in entry[REJECTED].items():
            rows.append((stage, LANGUAGE_COUNTS, _SEP.join((language, REJECTED, reason)), n))
        if "kept_tokens" in entry:
            rows.append((stage, LANGUAGE_TOKENS, language, entry["kept_tokens"]))
    return rows


def _language_entry() -> dict[str, Any]:
    return {"input": 0, KEPT: 0, REJECTED: {}, DEAD_LETTER: 0}


def _count_language(languages: dict[str, dict[str, Any]], kind: str, key: str, n: int) -> None:
    """Add one language count row to a stage's ``{language: exits}``."""
    if kind == LANGUAGE_TOKENS:
        entry = languages.setdefault(key, _language_entry())
        entry["kept_tokens"] = entry.get("kept_tokens", 0) + n
        return
    language, exit_, reason = key.split(_SEP, 2)
    entry = languages.setdefault(language, _language_entry())
    if exit_ == REJECTED:
        entry[REJECTED][reason] = entry[REJECTED].get(reason, 0) + n
    else:
        entry[exit_] += n


def _fold_languages(
    report: dict[str, Any], order: list[str], counts: dict[str, dict[str, dict[str, Any]]]
) -> None:
    """Each stage's ``languages`` and the run's, from the stages' per-language exits."""
    seen = {language for stage in counts.values() for language in stage}
    languages = [name for name in _LANGUAGES if name in seen]
    run: dict[str, dict[str, Any]] = {}
    previous: dict[str, dict[str, Any]] | None = None
    for stage in order:
        stage_counts = counts.get(stage, {})
        entries = {}
        for language in languages:
            entry = stage_counts.get(language, _language_entry())
            outputs = entry[KEPT] + sum(entry[REJECTED].values()) + entry[DEAD_LETTER]
            entry["input"] = outputs if previous is None else previous[language][KEPT]
            entries[language] = entry
            total = run.setdefault(language, {**_language_entry(), "input": entry["input"]})
            total[KEPT] = entry[KEPT]
            for reason, n in entry[REJECTED].items():
                total[REJECTED][reason] = total[REJECTED].get(reason, 0) + n
            total[DEAD_LETTER] += entry[DEAD_LETTER]
            if "kept_tokens" in entry or "kept_tokens" in total:
                total.setdefault("input_tokens", entry.get("kept_tokens", 0))
                total["kept_tokens"] = entry.get("kept_tokens", 0)
        report["stages"][stage]["languages"] = {
            language: entry
            for language, entry in entries.items()
            if entry["input"] or entry[KEPT] or entry[REJECTED] or entry[DEAD_LETTER]
        }
        previous = entries
    for total in run.values():
        total[REJECTED] = dict(sorted(total[REJECTED].items()))
        total["balanced"] = (
            total["input"] == total[KEPT] + sum(total[REJECTED].values()) + total[DEAD_LETTER]
        )
    report["languages"] = run
    report["no_language"] = report["input"] - sum(total["input"] for total in run.values())


def write_report(
    output_dir: str, stages: Sequence[str], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Build report.json from the run's counts plus ``extra`` keys, write it, and return it."""
    report = build_report(read_counts(output_dir), stages)
    report.update(extra or {})
    save_report(output_dir, report)
    return report


def save_report(output_dir: str, report: dict[str, Any]) -> None:
    """Write ``report`` as ``DIR/report.json``."""
    path = FileSystems.join(output_dir, REPORT_NAME)
    with FileSystems.create(path, mime_type="application/json") as handle:
        handle.write(json.dumps(report, indent=2).encode("utf-8"))
