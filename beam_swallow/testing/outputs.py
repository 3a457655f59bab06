"""Reading a run's outputs back, and the conservation law checked on them.

``input = kept + rejected + dead_letter`` must hold for the run and for every
stage, each stage's input must be what the stage before it kept, the files on
disk must hold exactly the records report.json counts, and no record may leave
through two exits. :func:`assert_conserved` checks all of it, so a test states
the law once.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import zstandard

from beam_swallow.jsonl import COMPRESSIONS

__all__ = [
    "EXITS",
    "assert_conserved",
    "read_jsonl_dir",
    "read_jsonl_file",
    "read_outputs",
    "read_report",
]

EXITS = ("kept", "rejected", "dead_letter")


def read_jsonl_file(path: Path) -> list[dict[str, Any]]:
    """Every record of one .jsonl.gz or .jsonl.zst file."""
    opener = zstandard.open if Path(path).suffix == ".zst" else gzip.open
    with opener(path, "rt", encoding="utf-8", newline="\n") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_jsonl_dir(directory: Path) -> list[dict[str, Any]]:
    """Every record of every JSON Lines shard under ``directory``, whatever its compression."""
    records = []
    shards = [p for c in COMPRESSIONS.values() for p in Path(directory).glob(f"*{c.suffix}")]
    for shard in sorted(shards):
        records.extend(read_jsonl_file(shard))
    return records


def read_outputs(out: Path) -> dict[str, list[dict[str, Any]]]:
    """The three exits of a run written under ``out`` (kept/ as JSON Lines or .parquet)."""
    import pyarrow.parquet as pq

    outputs = {sink: read_jsonl_dir(Path(out) / sink) for sink in EXITS}
    for shard in sorted((Path(out) / "kept").glob("*.parquet")):
        outputs["kept"].extend(pq.read_table(shard).to_pylist())
    return outputs


def read_report(out: Path) -> dict[str, Any]:
    """``out/report.json``."""
    return json.loads((Path(out) / "report.json").read_text(encoding="utf-8"))


def _total(entry: dict[str, Any]) -> int:
    return entry["kept"] + sum(entry["rejected"].values()) + entry["dead_letter"]


def assert_conserved(
    report: dict[str, Any], outputs: dict[str, list[dict[str, Any]]] | None = None
) -> None:
    """Assert the conservation law on a report, and on the outputs when given; for a
    run that routed records by language, per language too.

    (Ids cannot show a record in two exits: exact copies share the id their text
    gives them. The counts per exit and per reason on disk must match instead.)
    """
    assert report["balanced"] is True, report
    assert report["input"] == _total(report), report
    previous_kept = None
    for stage, entry in report["stages"].items():
        assert entry["input"] == _total(entry), (stage, entry)
        if previous_kept is not None:
            assert entry["input"] == previous_kept, (stage, entry["input"], previous_kept)
        previous_kept = entry["kept"]
    if report["stages"]:
        assert report["kept"] == previous_kept, (report["kept"], previous_kept)
    if outputs is None:
        return
    assert len(outputs["kept"]) == report["kept"]
    assert len(outputs["rejected"]) == sum(report["rejected"].values())
    assert len(outputs["dead_letter"]) == report["dead_letter"]
    reasons = Counter(record["reason"] for record in outputs["rejected"])
    assert dict(reasons) == report["rejected"], (dict(reasons), report["rejected"])
    if "languages" in report:
        _assert_conserved_per_language(report, outputs)


def _assert_conserved_per_language(
    report: dict[str, Any], outputs: dict[str, list[dict[str, Any]]]
) -> None:
    """Each language's counts add up, the languages and ``no_language`` make the run's
    input, and the outputs of each language match its counts."""
    languages = report["languages"]
    for language, entry in languages.items():
        assert entry["balanced"] is True and entry["input"] == _total(entry), (language, entry)
    assert sum(e["input"] for e in languages.values()) + report["no_language"] == report["input"]
    for exit_ in EXITS:
        found = Counter(r.get("language") for r in outputs[exit_] if r.get("language") in languages)
        counted = {
            language: (sum(e[exit_].values()) if exit_ == "rejected" else e[exit_])
            for language, e in languages.items()
        }
        assert dict(found) == {k: v for k, v in counted.items() if v}, (exit_, found, counted)
