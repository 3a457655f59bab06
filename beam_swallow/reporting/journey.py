"""``beam-swallow inspect DIR --id ID``: one record's journey through a run.

From the run's outputs alone: report.json gives the stage order and the input
that was read; the record is found by id in ``kept/``, ``rejected/`` or
``dead_letter/`` (every record is in exactly one), its original text in the
input. Printed: each stage it passed with what that stage recorded (scores,
generation, each rewrite's quality before and after), where it left and why (reason, or
the dead letter's error), and a
unified diff of each rewrite (original -> sgcr -> scor). The text between two
rewrites is kept only with ``--keep_original`` (``text_before``), or when the
second rewrite rejected it (its text is then the first rewrite).

Finding one id reads the output shards in turn until it is found: made for a
question about one record, not for bulk lookups.
"""

from __future__ import annotations

import argparse
import difflib
import json
from collections.abc import Iterator

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from beam_swallow.cache import FROM_CACHE
from beam_swallow.files import read_lines
from beam_swallow.io import SINKS, ReaderConfig, parse_line, split_patterns, to_record
from beam_swallow.jsonl import iter_lines, read_objects
from beam_swallow.records import ID, REASON, STAGE, TEXT, Record
from beam_swallow.report import REPORT_NAME
from beam_swallow.reporting.quality import quality_lines
from beam_swallow.stage import DEAD_LETTER, KEPT, REJECTED

__all__ = ["Journey", "find_journey", "main", "render_journey"]

# What each stage writes onto a record, shown at the stage that wrote it.
STAGE_FIELDS = {
    "read": ("language",),
    "lint": ("pylint_score", "comment_ratio", "quality_score"),
    "sgcr": ("sgcr_score", "sgcr_compiles"),
    "scor": ("compiles",),
    "exact_dedup": ("duplicate_of",),
    "near_dedup": ("duplicate_of", "cluster", "similarity"),
    "decontaminate": ("benchmark", "benchmark_task_id", "similarity"),
    "format": ("format_changed",),
    "length": ("chars",),
    "score": ("llm_score", "band", "score_reason"),
    "rewrite": ("rewritten", "parses", "parse_checker", "fence"),
    "reformat": ("reformat_changed",),
    "lint_errors": ("lint_errors",),
    "math_styles": ("style",),
}
# the stages whose kept text is a rewrite, in pipeline order
REWRITES = ("sgcr", "scor", "math_rewrite", "rewrite", "math_extract", "math_styles")
_DIFF_CONTEXT = 2


def _lines(path: str) -> Iterator[bytes]:
    """The non-blank lines of a JSONL file (plain, .gz or .zst), split as JSON Lines are."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        for _, content in iter_lines(read_lines(raw, path)):
            yield content


def _rows(path: str) -> Iterator[Record]:
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        with FileSystems.open(path) as handle:
            yield from pq.read_table(handle).to_pylist()
        return
    for _, row in read_objects(path):
        yield row


def _files(pattern: str) -> list[str]:
    return [m.path for match in FileSystems.match([pattern]) for m in match.metadata_list]


def _find_output(output_dir: str, record_id: str) -> tuple[str, Record] | None:
    for sink in SINKS:
        for path in sorted(_files(FileSystems.join(output_dir, sink, "*"))):
            for row in _rows(path):
                if str(row.get(ID)) == record_id:
                    return sink, row
    return None


def _find_input(pattern: str, cfg: ReaderConfig, record_id: str) -> Record | None:
    for path in sorted(p for part in split_patterns(pattern) for p in _files(part)):
        parquet = path.endswith(".parquet")
        for raw in _rows(path) if parquet else _lines(path):
            try:
                record = to_record(raw, cfg) if parquet else parse_line(raw, cfg)
            except ValueError:  # a line the reader dead-lettered: not the one asked for
                continue
            if record[ID] == record_id:
                return record
    return None


class Journey(dict):
    """``{"id", "exit", "stage", "passed", "record", "texts"}`` for one record."""


def find_journey(output_dir: str, record_id: str) -> Journey | None:
    """Where ``record_id`` went in the run under ``output_dir``; None if it is not there."""
    with FileSystems.open(FileSystems.join(output_dir, REPORT_NAME)) as handle:
        report = json.loads(handle.read())
    found = _find_output(output_dir, record_id)
    if found is None:
        return None
    exit_, record = found
    text_field = report.get("run", {}).get("settings", {}).get("text_field", "text")
    if text_field != TEXT and text_field in record:
        record[TEXT] = record.pop(text_field)
    stages = list(report["stages"])
    left_at = record.get(STAGE) if exit_ != KEPT else None
    passed = stages if left_at is None else stages[: stages.index(left_at)]
    settings = report.get("run", {}).get("settings", {})
    cfg = ReaderConfig(text_field=text_field, id_field=settings.get("id_field"))
    original = record.get("original_text")
    if original is None and report.get("run", {}).get("input"):
        source = _find_input(report["run"]["input"], cfg, record_id)
        original = source[TEXT] if source else None
    return Journey(
        id=record_id,
        exit=exit_,
        stage=left_at,
        passed=passed,
        record=record,
        texts=_texts(record, passed, original),
    )


def _texts(record: Record, passed: list[str], original: str | None) -> list[tuple[str, str | None]]:
    """The text after each step: ``[("original", ...), ("sgcr", ...), ...]``."""
    rewrites = [s for s in passed if s in REWRITES]
    if not rewrites:
        return []
    # a later rewrite's input is the earlier one's output; the record's own text is
    # the last rewrite it passed (a later stage that rejected it was given that text)
    before = record.get("text_before", {})
    texts: list[tuple[str, str | None]] = [("original", original)]
    texts.extend(
        (stage, before.get(after)) for stage, after in zip(rewrites, rewrites[1:], strict=False)
    )
    texts.append((rewrites[-1], record.get(TEXT)))
    return texts


def _diff(old: str, new: str, old_name: str, new_name: str) -> str:
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=old_name,
            tofile=new_name,
            n=_DIFF_CONTEXT,
        )
    )


def render_journey(journey: Journey) -> str:
    """The journey as text for a terminal."""
    record = journey["record"]
    language = record.get("language")
    lines = [f"record {journey['id']}" + (f" ({language})" if isinstance(language, str) else "")]
    for stage in journey["passed"]:
        lines.append(f"  {stage:<14} passed{_stage_facts(stage, record)}")
        lines.extend(f"  {'':<14}   quality {line}" for line in quality_lines(record, stage))
    if journey["exit"] == REJECTED:
        lines.append(
            f"  {journey['stage']:<14} REJECTED: {record.get(REASON)}"
            f"{_stage_facts(journey['stage'], record)}"
        )
    elif journey["exit"] == DEAD_LETTER:
        lines.append(
            f"  {journey['stage']:<14} DEAD LETTER: {record.get('error_type')}: {record.get('error')}"
        )
    else:
        lines.append("  kept: in kept/")
    if record.get("answer"):
        lines.append(f"refused answer:\n{record['answer']}")
    texts = journey["texts"]
    for (old_name, old), (new_name, new) in zip(texts, texts[1:], strict=False):
        if old is None or new is None:
            missing = old_name if old is None else new_name
            lines.append(
                f"diff {old_name} -> {new_name}: the {missing} text was not kept "
                "(run with --keep_original to keep it)"
            )
            continue
        lines.append(f"diff {old_name} -> {new_name}:")
        lines.append(_diff(old, new, old_name, new_name) or "  (no change)")
    return "\n".join(lines)


def _stage_facts(stage: str, record: Record) -> str:
    facts = [f"{f}={record[f]}" for f in STAGE_FIELDS.get(stage, ()) if f in record]
    if stage in record.get(FROM_CACHE, ()):
        facts.append("from the result cache")
    generation = (record.get("generation") or {}).get(stage)
    if generation:
        facts.append(
            "generation: "
            + ", ".join(
                f"{k}={generation[k]}"
                for k in ("model", "completion_tokens", "finish_reason", "prompt_sha")
                if k in generation
            )
        )
    return f"  ({'; '.join(facts)})" if facts else ""


def _parser() -> argparse.ArgumentParser:
    """The command's flags (also read by the docs' generated CLI reference)."""
    parser = argparse.ArgumentParser(
        prog="beam-swallow inspect",
        description="One record's journey through a run: the stages it passed, its scores, "
        "where it left and why, and a diff of each rewrite.",
    )
    parser.add_argument("output", metavar="DIR", help="The run's --output directory.")
    parser.add_argument("--id", required=True, help="The record's id.")
    parser.add_argument("--json", action="store_true", help="Print the journey as JSON.")
    return parser


def main(argv: list[str]) -> int:
    """``beam-swallow inspect DIR --id ID``; returns the exit status."""
    args = _parser().parse_args(argv)
    journey = find_journey(args.output, args.id)
    if journey is None:
        print(f"beam-swallow inspect: no record {args.id!r} in {args.output}")
        return 1
    print(
        json.dumps(journey, ensure_ascii=False, indent=1) if args.json else render_journey(journey)
    )
    return 0
