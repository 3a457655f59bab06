"""Reading records in and writing the three exits out, local, gs:// or s3://.

Input is JSONL (plain, ``.gz`` or ``.zst``) or Parquet, matched by glob patterns through
Beam's FileSystems. Reading is the first stage, ``read``, with the same three
exits as every other:

- kept: a record ``{"id", "text", ...every input field}``; in the code
  pipeline also ``language``, decided from the record's label, path or the
  run's default (:mod:`beam_swallow.languages.routing`).
- rejected ``unsupported_language`` (a label or extension of no language the
  catalog knows) and ``other_language`` (a known language the run does not
  take), in the code pipeline; ``too_large``: text longer than ``max_text_chars``.
- dead letter: a line that is not UTF-8 (``invalid_utf8``), not JSON
  (``invalid_json``), holds a lone surrogate escape (``invalid_unicode``), is
  not an object (``not_an_object``), or lacks a string text field
  (``missing_text``); the raw line is kept (bytes escaped). A file that
  cannot be read to its end (``truncated_file``, ``corrupt_file``, see
  :mod:`beam_swallow.files`) is one dead letter with ``source_file``, the
  error and ``records_read``, after the records read before it went on.

Lines are JSON Lines as :mod:`beam_swallow.jsonl` reads them. The record's id
is its own ``id`` field (or ``--id_field``), else the SHA-1 of its text. No
input field is lost: an input field whose name the pipeline uses inside
(``text`` when ``--text_field`` is another field; ``id`` when ``--id_field``
names another field or is not a string; ``language`` when the code pipeline
reads the label from another field) is set aside on read and written back as
it was by :func:`to_output`.

Writing puts kept records under ``DIR/kept/`` (JSONL or Parquet), and the
rejected and dead-letter records under ``DIR/rejected/`` and
``DIR/dead_letter/`` (JSONL); JSON Lines files are gzip'd, or zstd'd with
``--output_compression zstd``, by :class:`JsonlSink` with the project's own
compressors (``beam_swallow.jsonl.COMPRESSIONS``). :func:`clear_outputs`
removes an earlier run's files first, so two runs never mix.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam import coders
from apache_beam.io import fileio
from apache_beam.io.filebasedsink import FileBasedSink
from apache_beam.io.fileio import EmptyMatchTreatment
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from beam_swallow.files import FileError, parquet_error, read_lines
from beam_swallow.jsonl import COMPRESSIONS, DEFAULT_COMPRESSION, dumps, encode_line, iter_lines
from beam_swallow.languages.routing import LanguageRouting
from beam_swallow.records import (
    ID,
    LANGUAGE,
    RAW,
    REPLAYED_FROM,
    TEXT,
    ErrorKind,
    Reason,
    Record,
    Reject,
    replayed,
    text_id,
)
from beam_swallow.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_dead_letter,
    emit_verdict,
)

__all__ = [
    "READ_STAGE",
    "SEEN",
    "InvalidRecord",
    "ReadResult",
    "SINKS",
    "ReadRecords",
    "ReaderConfig",
    "WriteOutputs",
    "clear_outputs",
    "check_inputs",
    "file_dead_letter",
    "parse_line",
    "output_line",
    "to_output",
    "write_jsonl",
]

READ_STAGE = "read"
SEEN = "seen"  # the reader's count of input units, beside its three exits
SINKS = (KEPT, REJECTED, DEAD_LETTER)
_PARQUET_ROWS_PER_FILE = 10_000


@dataclass(frozen=True)
class ReaderConfig:
    """How input records are found in their files, and judged as they are read.

    ``id_field=None``: the record's own ``id`` field, else the SHA-1 of the
    text; a named ``id_field`` must be present in every record. ``routing``:
    how each record's language is decided and which languages the run takes
    (the code pipeline); None reads records without a language (math, dedup).
    """

    text_field: str = "text"
    id_field: str | None = None
    max_text_chars: int = 10_000_000
    routing: LanguageRouting | None = None

    def __post_init__(self) -> None:
        if not self.text_field:
            raise ValueError("--text_field must not be empty")
        if self.max_text_chars < 1:
            raise ValueError(f"max_text_chars must be positive, got {self.max_text_chars}")

    def judge(self, record: Record) -> Record | Reject:
        """The record (with its ``language`` when the run routes by language), or its
        rejection: ``unsupported_language``, ``other_language``, then ``too_large``
        when its text is over the limit."""
        if self.routing is not None:
            routed = self.routing.judge(record)
            if isinstance(routed, Reject):
                return routed
            record = routed
        if len(record[TEXT]) > self.max_text_chars:
            return Reject(Reason.TOO_LARGE, {"text_chars": len(record[TEXT])})
        return record


class InvalidRecord(ValueError):
    """An input line or row that cannot become a record; ``kind`` says why.

    ``raw`` is the line at fault when it is not the one read (a replayed dead
    letter's own input line), else None.
    """

    def __init__(self, kind: str, message: str, raw: bytes | None = None):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.raw = raw


# Where a record keeps the input fields whose names the pipeline uses inside.
_SET_ASIDE = "_input_fields"


def _id_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def to_record(obj: Any, cfg: ReaderConfig) -> Record:
    """Turn one decoded input object into a record, or raise InvalidRecord."""
    if not isinstance(obj, dict):
        raise InvalidRecord(
            ErrorKind.NOT_AN_OBJECT, f"expected a JSON object, got {type(obj).__name__}"
        )
    obj = replayed(obj)  # an earlier run's dead letter becomes its record again
    if obj.get(REPLAYED_FROM) == READ_STAGE and isinstance(obj.get(RAW), str):
        line = obj[RAW].encode("utf-8")  # the line as it was first read
        try:
            return parse_line(line, cfg)
        except InvalidRecord as exc:
            raise InvalidRecord(exc.kind, exc.message, line) from None
    text = obj.get(cfg.text_field)
    if not isinstance(text, str):
        found = "missing" if text is None else f"a {type(text).__name__}"
        raise InvalidRecord(ErrorKind.MISSING_TEXT, f"text field {cfg.text_field!r} is {found}")
    record = dict(obj)
    del record[cfg.text_field]
    aside = {TEXT: record.pop(TEXT)} if TEXT in record else {}
    if cfg.id_field:
        if record.get(cfg.id_field) is None:
            raise InvalidRecord(ErrorKind.MISSING_ID, f"id field {cfg.id_field!r} is missing")
        if cfg.id_field != ID and ID in record:
            aside[ID] = record[ID]
        record_id = _id_text(record[cfg.id_field])
    elif record.get(ID) is not None:
        record_id = _id_text(record[ID])
    else:
        record_id = text_id(text)
    if ID in record and not isinstance(record[ID], str):
        aside.setdefault(ID, record[ID])
    if cfg.routing is not None and cfg.routing.label_field != LANGUAGE and LANGUAGE in record:
        aside[LANGUAGE] = record.pop(LANGUAGE)  # the field the language is decided into
    record[TEXT] = text
    record[ID] = record_id
    if aside:
        record[_SET_ASIDE] = aside
    return record


# The escape of a surrogate (\uD800-\uDFFF), lone or half of a pair. Raw UTF-8
# cannot hold one (strict decoding refuses it), so a line without it has none.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_line(line: bytes, cfg: ReaderConfig) -> Record:
    """Decode one JSONL line into a record, or raise InvalidRecord."""
    try:
        decoded = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRecord(ErrorKind.INVALID_UTF8, str(exc)) from None
    try:
        obj = json.loads(decoded)
    except ValueError as exc:  # JSONDecodeError, and over-long integers
        raise InvalidRecord(ErrorKind.INVALID_JSON, str(exc)) from None
    except RecursionError:
        raise InvalidRecord(ErrorKind.INVALID_JSON, "nested too deeply to decode") from None
    if _SURROGATE_ESCAPE.search(line):  # only such escapes can smuggle in lone surrogates
        _check_encodable(obj)
    return to_record(obj, cfg)


def _check_encodable(obj: Any) -> None:
    """Raise InvalidRecord if any string in ``obj`` holds a lone surrogate.

    JSON allows escapes such as ``"\\udc80"`` that decode to strings UTF-8
    cannot encode; Beam's coders encode strings as strict UTF-8, so such a
    record would crash the job at the first shuffle instead of being reported.
    """
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRecord(
            ErrorKind.INVALID_UNICODE, f"lone surrogate in a string: {exc}"
        ) from None


class _ReadFileDoFn(beam.DoFn):
    def __init__(self, cfg: ReaderConfig):
        self._cfg = cfg

    def process(self, readable: fileio.ReadableFile) -> Iterator[beam.pvalue.TaggedOutput]:
        path = readable.metadata.path
        read = self._read_parquet if path.endswith(".parquet") else self._read_jsonl
        yield from read(readable, path)

    def _emit(
        self, convert: Callable[[Any, ReaderConfig], Record], value: Any, raw: Any, source: str
    ) -> Iterator[beam.pvalue.TaggedOutput]:
        try:
            record = convert(value, self._cfg)
        except InvalidRecord as exc:
            letter = emit_dead_letter(
                READ_STAGE, raw if exc.raw is None else exc.raw, str(exc), exc.kind
            )
            letter.value["source_file"] = source
            yield letter
            return
        yield emit_verdict(READ_STAGE, record, self._cfg.judge(record))

    def _read_jsonl(self, readable: fileio.ReadableFile, path: str):
        records = 0
        with readable.open(compression_type=CompressionTypes.UNCOMPRESSED) as raw:
            try:
                for line_number, line in iter_lines(read_lines(raw, path)):
                    records += 1
                    yield from self._emit(parse_line, line, line, f"{path}:{line_number}")
            except FileError as exc:
                yield file_dead_letter(path, exc, records)
                records += 1  # the rest of the file is one input unit: its dead letter
        yield beam.pvalue.TaggedOutput(SEEN, records)

    def _read_parquet(self, readable: fileio.ReadableFile, path: str):
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = 0
        with readable.open(compression_type=CompressionTypes.UNCOMPRESSED) as raw:
            try:
                for batch in pq.ParquetFile(raw).iter_batches():
                    for row in batch.to_pylist():
                        rows += 1
                        raw_row = dumps(row, default=str)
                        yield from self._emit(to_record, row, raw_row, f"{path}:{rows}")
            except (pa.ArrowException, OSError) as exc:
                yield file_dead_letter(path, parquet_error(raw, exc), rows)
                rows += 1  # the rest of the file is one input unit: its dead letter
        yield beam.pvalue.TaggedOutput(SEEN, rows)


def file_dead_letter(path: str, error: FileError, records: int) -> beam.pvalue.TaggedOutput:
    """One dead letter for a file that stops being readable after ``records`` records."""
    payload = {"source_file": path, "records_read": records}
    return emit_dead_letter(READ_STAGE, payload, str(error), error.kind)


def split_patterns(patterns: str | Iterable[str]) -> list[str]:
    """``"a/*.jsonl,b/*.parquet"`` or a list of patterns -> a clean list."""
    if isinstance(patterns, str):
        patterns = patterns.split(",")
    return [p.strip() for p in patterns if p.strip()]


def check_inputs(patterns: str | Iterable[str]) -> None:
    """Raise ValueError unless every pattern matches at least one file.

    Beam's MatchAll silently yields nothing for a wildcard that matches nothing;
    a run over zero files is almost always a typo, so it is an error here.
    """
    listed = split_patterns(patterns)
    if not listed:
        raise ValueError("no input pattern given")
    for pattern, match in zip(listed, FileSystems.match(listed), strict=True):
        if not match.metadata_list:
            raise ValueError(f"no input files match {pattern!r}")


class ReadResult(NamedTuple):
    """The read stage's three exits, plus ``seen``: per file, how many input units it
    held (non-blank lines or rows, and one for a failure that ended the file early).

    ``seen`` is counted as the files are read, apart from the exits, so report.json's
    ``read.input`` is a real count and its balance a real check.
    """

    kept: beam.PCollection
    rejected: beam.PCollection
    dead_letter: beam.PCollection
    seen: beam.PCollection


class ReadRecords(beam.PTransform):
    """Read records from file patterns; returns a :class:`ReadResult`.

    ``parse``: the DoFn that turns one matched file into the tagged outputs
    ``kept``, ``rejected``, ``dead_letter`` and ``seen`` (default: JSONL or
    Parquet rows that carry their text, as ``cfg`` says; other sources, such as
    The Stack v2's metadata shards, bring their own).
    """

    def __init__(
        self,
        patterns: str | Iterable[str],
        cfg: ReaderConfig = ReaderConfig(),
        parse: beam.DoFn | None = None,
    ):
        super().__init__()
        self._patterns = split_patterns(patterns)
        if not self._patterns:
            raise ValueError("no input pattern given")
        self._parse = parse if parse is not None else _ReadFileDoFn(cfg)

    def expand(self, pbegin: beam.pvalue.PBegin) -> StageResult:
        files = (
            pbegin
            | "Patterns" >> beam.Create(self._patterns)
            | "Match" >> fileio.MatchAll(EmptyMatchTreatment.DISALLOW)
            | "Open" >> fileio.ReadMatches()
            # One file can hold millions of records: spread files over workers.
            | "SpreadFiles" >> beam.Reshuffle()
        )
        tagged = files | "Parse" >> beam.ParDo(self._parse).with_outputs(
            KEPT, REJECTED, DEAD_LETTER, SEEN
        )
        return ReadResult(tagged[KEPT], tagged[REJECTED], tagged[DEAD_LETTER], tagged[SEEN])


def to_output(record: Record, text_field: str) -> Record:
    """A record as written out: the text under the input's own field name.

    Input fields set aside on read come back under their own names, as they were.
    """
    if _SET_ASIDE not in record and (text_field == TEXT or TEXT not in record):
        return record
    out = dict(record)
    aside = out.pop(_SET_ASIDE, {})
    if text_field != TEXT and TEXT in out:
        out[text_field] = out.pop(TEXT)
    out.update(aside)
    return out


def output_line(record: Record, text_field: str) -> bytes:
    """A record as one output line's UTF-8 bytes (no newline), the text under ``text_field``."""
    # default=str: Parquet metadata (timestamps, decimals) must not break a sink.
    return encode_line(to_output(record, text_field), default=str)


class _CompressingFile:
    """A writable file whose bytes are compressed on the way in; ``close``
    ends the compressed stream, then closes the file."""

    def __init__(self, raw: Any, compressor: Any):
        self._raw = raw
        self._compressor = compressor

    def write(self, data: bytes) -> None:
        self._raw.write(self._compressor.compress(data))

    def close(self) -> None:
        self._raw.write(self._compressor.flush())
        self._raw.close()


class JsonlSink(FileBasedSink):
    """Beam's file sink for output lines (bytes without their newline),
    compressed as ``compression`` (a key of ``COMPRESSIONS``) says.

    Beam's ``WriteToText`` would compress gzip with zlib at level 6, which
    costs more than the syntax stage's own work; this sink compresses with
    the project's compressor (:data:`beam_swallow.jsonl.COMPRESSIONS`). Files
    are ``PREFIX-SSSSS-of-NNNNN`` and the suffix; Beam's sink names them,
    writes each bundle to a temporary file and renames it into place.
    """

    def __init__(self, prefix: str, compression: str):
        super().__init__(
            prefix,
            coder=coders.BytesCoder(),
            file_name_suffix=COMPRESSIONS[compression].suffix,
            compression_type=CompressionTypes.UNCOMPRESSED,  # this sink compresses
        )
        self._compression = compression

    def open(self, temp_path: str) -> _CompressingFile:
        compressor = COMPRESSIONS[self._compression].compressor()
        return _CompressingFile(super().open(temp_path), compressor)

    def write_encoded_record(self, file_handle: _CompressingFile, encoded_value: bytes) -> None:
        file_handle.write(encoded_value + b"\n")


def write_jsonl(
    records: beam.PCollection, prefix: str, label: str, compression: str, text_field: str
):
    """Sharded ``prefix-SSSSS-of-NNNNN.jsonl.gz`` (or ``.jsonl.zst``: ``compression``).

    One transform turns a record into its line (the text under ``text_field``),
    so each record costs the runner one step before the sink's own.
    """
    return (
        records
        | f"{label}ToJson" >> beam.Map(output_line, text_field)
        | f"{label}Write" >> beam.io.Write(JsonlSink(prefix, compression))
    )


def _parquet_table(rows: list[Record]):
    import pyarrow as pa

    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # Fields whose types differ between records: store them as JSON strings.
        flat = [
            {k: v if isinstance(v, str) else dumps(v, default=str) for k, v in r.items()}
            for r in rows
        ]
        return pa.Table.from_pylist(flat)


class _WriteParquetBatches(beam.DoFn):
    """Write each batch as one Parquet file, with the schema its rows share."""

    def __init__(self, directory: str):
        self._directory = directory

    def process(self, rows: list[Record]) -> Iterator[str]:
        import pyarrow.parquet as pq

        path = FileSystems.join(self._directory, f"part-{uuid.uuid4().hex}.parquet")
        with FileSystems.create(path) as handle:
            pq.write_table(_parquet_table(rows), handle)
        yield path


class WriteOutputs(beam.PTransform):
    """Write kept, rejected and dead-letter records under one directory."""

    def __init__(
        self,
        output_dir: str,
        text_field: str = "text",
        output_format: str = "jsonl",
        compression: str = DEFAULT_COMPRESSION,
    ):
        super().__init__()
        if output_format not in ("jsonl", "parquet"):
            raise ValueError(f"unknown output format {output_format!r}")
        if compression not in COMPRESSIONS:
            raise ValueError(f"unknown output compression {compression!r}")
        self._dir = output_dir
        self._text_field = text_field
        self._format = output_format
        self._compression = compression

    def expand(self, result: StageResult) -> None:
        text_field = self._text_field
        for sink, records in zip(SINKS, result, strict=True):
            if sink == KEPT and self._format == "parquet":
                _ = (
                    records
                    | "KeptField" >> beam.Map(to_output, text_field)
                    | "KeptBatch"
                    >> beam.BatchElements(
                        min_batch_size=_PARQUET_ROWS_PER_FILE,
                        max_batch_size=_PARQUET_ROWS_PER_FILE,
                    )
                    | "KeptParquet"
                    >> beam.ParDo(_WriteParquetBatches(FileSystems.join(self._dir, KEPT)))
                )
            else:
                prefix = FileSystems.join(self._dir, sink, "part")
                write_jsonl(records, prefix, sink, self._compression, text_field)


def clear_outputs(output_dir: str, names: Iterable[str]) -> None:
    """Delete what an earlier run wrote under ``output_dir`` (only our names).

    Children first, then the name itself (a file such as report.json, or on a
    local disk the emptied folder), so no path is deleted twice.
    """
    for name in names:
        path = FileSystems.join(output_dir, name)
        for pattern in (FileSystems.join(path, "*"), path):
            found = [m.path for m in FileSystems.match([pattern])[0].metadata_list]
            if found:
                FileSystems.delete(found)
