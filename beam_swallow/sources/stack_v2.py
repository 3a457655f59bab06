"""The Stack v2 as published: metadata shards in, one record per file, judged before any fetch.

The dataset's Parquet shards hold no code. They come in two layouts:

- ``repository`` (``-train-smol-ids``, ``-train-full-ids``): one row per
  repository, its columns (``repo_name``, ``revision_id``,
  ``star_events_count``, ...) beside a nested ``files`` list whose entries carry
  ``blob_id``, ``path``, ``language``, ``src_encoding``, ``length_bytes``,
  ``detected_licenses``, ``license_type``, ``is_vendor``, ``is_generated`` and
  line statistics;
- ``file`` (``the-stack-v2``, ``-dedup``): one row per file with the same kind
  of columns.

``--stack_v2_layout auto`` tells them apart by the schema (a ``files`` column,
or a ``blob_id`` column). Each file becomes a record ``{"id": blob_id, ...every
column of its row and, in the repository layout, of its repository}``: no
``text`` yet (the fetch stage, :mod:`beam_swallow.transforms.fetch`, adds it),
and its provenance (``repo_name``, ``path``, ``blob_id``, ``detected_licenses``,
``license_type``, ``src_encoding``, ``revision_id``) travels to every output.

The read stage judges each file on its metadata alone, so nothing is fetched
that would be dropped (exits of stage ``read``):

- rejected ``unsupported_language`` (a ``language`` label of none of the
  languages beam-swallow reads), ``other_language`` (a language the run does
  not take, ``--languages``): the code pipeline's rule for every input format
  (:mod:`beam_swallow.languages.routing`), applied here to the dataset's own
  ``language`` column; then ``vendored`` (``is_vendor``), ``generated`` (``is_generated``),
  ``license_type`` (not in ``--license_types``, when given), ``too_large``
  (``length_bytes`` over ``--stack_v2_max_bytes``);
- dead letter ``missing_blob_id``: a file entry (or a repository row's
  ``files``) without a string ``blob_id``; ``not_stack_v2``: a shard in neither
  layout; ``truncated_file`` / ``corrupt_file``: a shard that is not whole
  Parquet (see :mod:`beam_swallow.files`).

The read stage's input unit is one file entry (a repository row with an
unusable ``files`` value is one unit), so ``read.input = kept + rejected +
dead_letter`` counts files.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes

from beam_swallow.files import FileError, parquet_error
from beam_swallow.io import READ_STAGE, SEEN, InvalidRecord, file_dead_letter
from beam_swallow.languages.routing import LanguageRouting, comma_separated
from beam_swallow.records import ID, ErrorKind, Reason, Record, Reject
from beam_swallow.stage import emit_dead_letter, emit_verdict

__all__ = [
    "BLOB_ID",
    "INPUT_FORMATS",
    "LAYOUTS",
    "NOT_STACK_V2",
    "StackV2Config",
    "add_arguments",
    "detect_layout",
    "file_records",
    "parse_stack_v2",
]

# --input_format: rows that carry their text (the reader of beam_swallow.io), or these shards.
INPUT_FORMATS = ("records", "stack_v2")
BLOB_ID = "blob_id"
FILES = "files"
LAYOUTS = ("auto", "repository", "file")
NOT_STACK_V2 = "not_stack_v2"  # error_type of a shard in neither layout
# BigCode fetched only blobs under 10 MB; the same bound stands on a file's own size.
MAX_BYTES = 10_000_000


@dataclass(frozen=True)
class StackV2Config:
    """Which shards' layout, and which files go on to be fetched (besides their language,
    which the run's :class:`~beam_swallow.languages.routing.LanguageRouting` judges).

    ``license_types`` are matched case-insensitively; an empty tuple lets every
    value through. ``max_bytes`` bounds a file's
    ``length_bytes`` here and its blob (compressed and decoded) in the fetch stage.
    Raises ValueError on an unknown layout or a bound below one byte.
    """

    layout: str = "auto"
    license_types: tuple[str, ...] = ()
    max_bytes: int = MAX_BYTES
    keep_vendor: bool = False
    keep_generated: bool = False

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"--stack_v2_layout must be one of {', '.join(LAYOUTS)}")
        if self.max_bytes < 1:
            raise ValueError(f"--stack_v2_max_bytes must be positive, got {self.max_bytes}")

    def judge(self, record: Record) -> Record | Reject:
        """The record, or why its metadata (but its language) keeps it from being fetched."""
        if record.get("is_vendor") and not self.keep_vendor:
            return Reject(Reason.VENDORED)
        if record.get("is_generated") and not self.keep_generated:
            return Reject(Reason.GENERATED)
        if self.license_types and _folded(record.get("license_type")) not in _folded_all(
            self.license_types
        ):
            return Reject(Reason.LICENSE_TYPE)
        size = record.get("length_bytes")
        if isinstance(size, int) and size > self.max_bytes:
            return Reject(Reason.TOO_LARGE)
        return record


def _folded(value: Any) -> str | None:
    return value.casefold() if isinstance(value, str) else None


def _folded_all(values: tuple[str, ...]) -> set[str | None]:
    return {value.casefold() for value in values}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of :class:`StackV2Config` (``--input_format stack_v2``), one group."""
    defaults = StackV2Config()
    group = parser.add_argument_group("The Stack v2 (with --input_format stack_v2)")
    group.add_argument(
        "--stack_v2_layout",
        choices=LAYOUTS,
        default=defaults.layout,
        help="Shard layout: repository (one row per repository with a nested 'files' list: "
        "-train-smol-ids, -train-full-ids), file (one row per file: the full and -dedup "
        "sets), or auto (from each shard's schema; the default).",
    )
    group.add_argument(
        "--license_types",
        type=comma_separated,
        default=list(defaults.license_types),
        help="Comma-separated values of 'license_type' to keep, e.g. permissive (default: "
        "every type). Others are rejected 'license_type' before anything is fetched.",
    )
    group.add_argument(
        "--stack_v2_max_bytes",
        type=int,
        default=defaults.max_bytes,
        help="Files whose length_bytes, compressed blob or decoded bytes exceed this are "
        f"rejected 'too_large' (default {defaults.max_bytes:,}: BigCode fetched only blobs "
        "under 10 MB).",
    )
    group.add_argument(
        "--keep_vendor",
        action="store_true",
        help="Keep files marked is_vendor (third-party code copied into a repository); by "
        "default they are rejected 'vendored'.",
    )
    group.add_argument(
        "--keep_generated",
        action="store_true",
        help="Keep files marked is_generated; by default they are rejected 'generated'.",
    )


def detect_layout(columns: list[str], layout: str) -> str:
    """``repository`` or ``file`` for a shard with ``columns``; raises FileError(not_stack_v2)
    when the shard is not in the named layout (or, for ``auto``, in either)."""
    found = "repository" if FILES in columns else "file" if BLOB_ID in columns else None
    if found is None or layout not in ("auto", found):
        wanted = "a 'files' or 'blob_id' column" if layout == "auto" else f"the {layout} layout"
        raise FileError(NOT_STACK_V2, f"not The Stack v2 metadata: expected {wanted}")
    return found


def file_records(
    row: dict[str, Any], layout: str
) -> Iterator[tuple[dict[str, Any], Record | InvalidRecord]]:
    """Each file of one row: ``(its fields, its record or the InvalidRecord saying why not)``.

    In the repository layout a file's fields are its repository's columns (all
    but ``files``) and its own (a file's field wins a clash); a ``files`` value
    that is not a list is one entry whose fields are the repository's.
    """
    if layout == "file":
        yield row, _checked(row)
        return
    repository = {key: value for key, value in row.items() if key != FILES}
    files = row.get(FILES)
    if not isinstance(files, list):
        yield repository, InvalidRecord(ErrorKind.MISSING_BLOB_ID, f"{FILES!r} is not a list")
        return
    for entry in files:
        fields = {**repository, **entry} if isinstance(entry, dict) else repository
        yield fields, _checked(fields)


def _checked(fields: dict[str, Any]) -> Record | InvalidRecord:
    blob_id = fields.get(BLOB_ID)
    if not isinstance(blob_id, str) or not blob_id:
        return InvalidRecord(ErrorKind.MISSING_BLOB_ID, f"no string {BLOB_ID!r}")
    return {**fields, ID: blob_id}


class _ParseShard(beam.DoFn):
    """One Parquet shard -> a record (or a verdict, or a dead letter) per file, and ``seen``."""

    def __init__(self, cfg: StackV2Config, routing: LanguageRouting | None):
        self._cfg = cfg
        self._routing = routing

    def process(self, readable: fileio.ReadableFile) -> Iterator[beam.pvalue.TaggedOutput]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = readable.metadata.path
        units = 0
        rows = 0
        with readable.open(compression_type=CompressionTypes.UNCOMPRESSED) as raw:
            try:
                shard = pq.ParquetFile(raw)
                layout = detect_layout(shard.schema_arrow.names, self._cfg.layout)
                for batch in shard.iter_batches():
                    for row in batch.to_pylist():
                        rows += 1
                        for fields, item in file_records(row, layout):
                            units += 1
                            yield self._emit(item, fields, f"{path}:{rows}")
            except FileError as exc:
                yield file_dead_letter(path, exc, units)
                units += 1
            except (pa.ArrowException, OSError) as exc:
                yield file_dead_letter(path, parquet_error(raw, exc), units)
                units += 1  # the rest of the shard is one input unit: its dead letter
        yield beam.pvalue.TaggedOutput(SEEN, units)

    def _emit(
        self, item: Record | InvalidRecord, fields: dict[str, Any], source: str
    ) -> beam.pvalue.TaggedOutput:
        if isinstance(item, InvalidRecord):
            letter = emit_dead_letter(READ_STAGE, fields, str(item), item.kind)
            letter.value["source_file"] = source
            return letter
        return emit_verdict(READ_STAGE, item, self._judge(item))

    def _judge(self, record: Record) -> Record | Reject:
        if self._routing is not None:
            routed = self._routing.judge(record)
            if isinstance(routed, Reject):
                return routed
            record = routed
        return self._cfg.judge(record)


def parse_stack_v2(cfg: StackV2Config, routing: LanguageRouting | None = None) -> beam.DoFn:
    """The DoFn that :class:`~beam_swallow.io.ReadRecords` takes as ``parse`` for Stack v2 shards.

    ``routing``: the run's languages, judged on each file's columns (the
    dataset's ``language`` label, then ``path``); None takes every file whatever
    its language.
    """
    return _ParseShard(cfg, routing)
