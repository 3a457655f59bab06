"""``beam-swallow plan`` with a language mix: how a corpus's files split by language,
and which of them the planned run takes.

The plan prices the paper's recipe (:mod:`~beam_swallow.reporting.plan`),
whose lint, sgcr and scor stages take Python alone: a file of another language
is rejected ``other_language`` at read, and one whose label or extension names
no language beam-swallow reads ``unsupported_language``, both before anything
is fetched, so they cost only their metadata. With a mix, ``--files`` is the
whole corpus and the plan's lines price its Python share.

The mix is given (``--languages_mix Python=0.6,Go=0.2,Rust=0.1``; shares of
files, summing to at most 1, the rest in languages the catalog lacks) or
measured on a sample of the input (``--languages_mix_from PATTERN``: the first
``--mix_sample`` files of JSONL or Parquet records, or of The Stack v2's
metadata shards, each given its language by the read stage's own rule,
:class:`~beam_swallow.languages.routing.LanguageRouting`: label, then
extension, then Python).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from apache_beam.io.filesystems import FileSystems

from beam_swallow.io import split_patterns
from beam_swallow.jsonl import read_objects
from beam_swallow.languages import PYTHON, names
from beam_swallow.languages.routing import (
    DEFAULT_LANGUAGE,
    LABEL_FIELD,
    PATH_FIELD,
    LanguageRouting,
    canonical_names,
    comma_separated,
)
from beam_swallow.records import Reject
from beam_swallow.sources.stack_v2 import detect_layout, file_records

__all__ = [
    "PLANNED",
    "UNSUPPORTED",
    "LanguageMix",
    "add_mix_arguments",
    "mix_from_args",
    "parse_mix",
    "planned_files",
    "render_mix",
    "sample_mix",
]

PLANNED = (PYTHON.name,)  # the languages the priced recipe (v1) takes
UNSUPPORTED = "unsupported"  # files of a label or extension the catalog lacks
MIX_SAMPLE = 10_000
_ARGS = ("languages_mix", "languages_mix_from", "mix_sample", "language_field", "path_field")


@dataclass(frozen=True)
class LanguageMix:
    """Shares of files per language (catalog names, and :data:`UNSUPPORTED`), each in
    (0, 1], summing to at most 1; ``source`` says where they come from."""

    shares: dict[str, float]
    source: str

    def __post_init__(self) -> None:
        if any(not 0 < share <= 1 for share in self.shares.values()):
            raise ValueError("--languages_mix: each share must be above 0 and at most 1")
        if sum(self.shares.values()) > 1 + 1e-9:
            raise ValueError(
                f"--languages_mix: the shares sum to {sum(self.shares.values()):g}, over 1"
            )


def parse_mix(text: str) -> LanguageMix:
    """``"Python=0.6,Go=0.2"`` -> a mix; ValueError for a language the catalog lacks or
    a share that is not a number in (0, 1]."""
    shares: dict[str, float] = {}
    for part in comma_separated(text):
        name, equals, value = part.partition("=")
        if not equals:
            raise ValueError(f"--languages_mix takes LANGUAGE=SHARE pairs, got {part!r}")
        (language,) = canonical_names([name.strip()], "--languages_mix")
        try:
            shares[language] = shares.get(language, 0.0) + float(value)
        except ValueError:
            raise ValueError(f"--languages_mix: {value!r} is not a share") from None
    if not shares:
        raise ValueError("--languages_mix names no language")
    return LanguageMix(shares, "given")


def _units(path: str) -> Iterator[dict[str, Any]]:
    """The file entries (or records) of one input file, as the reader sees them."""
    if not path.endswith(".parquet"):
        for _, obj in read_objects(path):
            if isinstance(obj, dict):
                yield obj
        return
    import pyarrow.parquet as pq

    with FileSystems.open(path) as handle:
        shard = pq.ParquetFile(handle)
        columns = shard.schema_arrow.names
        stack_v2 = "files" in columns or "blob_id" in columns
        layout = detect_layout(columns, "auto") if stack_v2 else None
        for batch in shard.iter_batches():
            for row in batch.to_pylist():
                if layout is None:  # records that carry their text
                    yield row
                    continue
                for fields, _ in file_records(row, layout):
                    yield fields


def sample_mix(pattern: str, routing: LanguageRouting, limit: int = MIX_SAMPLE) -> LanguageMix:
    """The mix of the first ``limit`` files of ``pattern``, each given its language by
    ``routing`` (label, extension, default); ValueError when the pattern holds none."""
    counts: Counter[str] = Counter()
    seen = 0
    for match in FileSystems.match(split_patterns(pattern)):
        for meta in sorted(match.metadata_list, key=lambda m: m.path):
            for unit in _units(meta.path):
                language = routing.language_of(unit)
                counts[UNSUPPORTED if isinstance(language, Reject) else language.name] += 1
                seen += 1
                if seen >= limit:
                    break
            if seen >= limit:
                break
    if not seen:
        raise ValueError(f"--languages_mix_from {pattern}: no records found")
    shares = {name: counts[name] / seen for name in (*names(), UNSUPPORTED) if counts[name]}
    return LanguageMix(shares, f"a sample of {seen:,} files of {pattern}")


def planned_files(files: int, mix: LanguageMix) -> int:
    """How many of ``files`` the priced recipe takes (its :data:`PLANNED` languages)."""
    return round(files * sum(mix.shares.get(language, 0.0) for language in PLANNED))


def render_mix(files: int, mix: LanguageMix) -> str:
    """One line per language of the mix: share, files, and what the run does with them."""
    lines = [f"language mix ({mix.source}):"]
    rest = 1.0 - sum(mix.shares.values())
    rows = [*mix.shares.items()] + ([(UNSUPPORTED, rest)] if rest > 1e-9 else [])
    for language, share in rows:
        if language in PLANNED:
            fate = "priced below: the paper's recipe takes Python"
        elif language == UNSUPPORTED:
            fate = "rejected unsupported_language at read, before any fetch"
        else:
            fate = "rejected other_language at read, before any fetch (v1 takes Python)"
        lines.append(f"  {language:<12} {share:>6.1%} {files * share:>14,.0f} files  {fate}")
    return "\n".join(lines)


def add_mix_arguments(parser: argparse.ArgumentParser) -> None:
    """The plan's language-mix flags, one group."""
    group = parser.add_argument_group("language mix (docs: Planning a run)")
    group.add_argument(
        "--languages_mix",
        default=None,
        metavar="LANG=SHARE,...",
        help="Shares of --files per language, e.g. Python=0.6,Go=0.2 (linguist's names; "
        "summing to at most 1, the rest in languages beam-swallow does not read); the plan "
        "prices the Python share and says what happens to the others.",
    )
    group.add_argument(
        "--languages_mix_from",
        default=None,
        metavar="PATTERN",
        help="Measure the mix on the first --mix_sample files of the input (JSONL or "
        "Parquet records, or The Stack v2's metadata shards), by the read stage's rule: "
        "label, then extension, then Python.",
    )
    group.add_argument(
        "--mix_sample",
        type=int,
        default=MIX_SAMPLE,
        help=f"Files read by --languages_mix_from (default {MIX_SAMPLE:,}).",
    )
    group.add_argument(
        "--language_field",
        default=LABEL_FIELD,
        help=f"With --languages_mix_from: the field of linguist's label (default {LABEL_FIELD}).",
    )
    group.add_argument(
        "--path_field",
        default=PATH_FIELD,
        help="With --languages_mix_from: the field whose extension gives the language of "
        f"an unlabelled file (default {PATH_FIELD}).",
    )


def mix_from_args(args: dict[str, Any]) -> LanguageMix | None:
    """The mix the flags ask for (removing them from ``args``); None without one.
    ValueError for both ways at once, a bad mix, or a sample without records."""
    given = {key: args.pop(key) for key in _ARGS}
    if given["languages_mix"] and given["languages_mix_from"]:
        raise ValueError("give --languages_mix or --languages_mix_from, not both")
    if given["languages_mix"]:
        return parse_mix(given["languages_mix"])
    if given["languages_mix_from"]:
        if given["mix_sample"] < 1:
            raise ValueError("--mix_sample must be positive")
        routing = LanguageRouting(
            label_field=given["language_field"],
            path_field=given["path_field"],
            default=DEFAULT_LANGUAGE,
        )
        return sample_mix(given["languages_mix_from"], routing, given["mix_sample"])
    return None
