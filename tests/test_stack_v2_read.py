"""The Stack v2's metadata shards read in both layouts, judged on metadata before any fetch.

Shards are written by pyarrow in the dataset's two layouts and read by the
real reader on the FnApiRunner; every file entry must leave the read stage by
exactly one exit, bad shards included.
"""

from __future__ import annotations

import json
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.files import FileError
from beam_swallow.io import ReadRecords, WriteOutputs
from beam_swallow.languages.routing import LanguageRouting
from beam_swallow.records import ErrorKind, Reason
from beam_swallow.sources.stack_v2 import (
    NOT_STACK_V2,
    StackV2Config,
    detect_layout,
    file_records,
    parse_stack_v2,
)
from beam_swallow.testing import read_outputs
from beam_swallow.testing.lint_reference import stdlib_sources
from beam_swallow.testing.stack_v2 import StackFile, write_file_shard, write_repository_shard

PROVENANCE = ("repo_name", "path", "blob_id", "detected_licenses", "license_type", "src_encoding")


PYTHON_ONLY = LanguageRouting(languages=("Python",))


def _read(
    pattern: str, cfg: StackV2Config, out: Path, routing: LanguageRouting | None = PYTHON_ONLY
) -> tuple[dict, int]:
    """The read stage's exits (as written out) and its count of input units."""
    options = PipelineOptions([])
    with beam.Pipeline(runner=FnApiRunner(), options=options) as pipeline:
        read = pipeline | "Read" >> ReadRecords(pattern, parse=parse_stack_v2(cfg, routing))
        (read.kept, read.rejected, read.dead_letter) | "Write" >> WriteOutputs(str(out))
        _ = (
            read.seen
            | "Sum" >> beam.CombineGlobally(sum)
            | "Seen" >> beam.io.WriteToText(str(out / "seen"), shard_name_template="")
        )
    return read_outputs(out), int((out / "seen").read_text())


@pytest.fixture(scope="module")
def sources() -> list[bytes]:
    return [text.encode("utf-8") for text in stdlib_sources(8, max_bytes=20_000)]


def _corpus(src: list[bytes]) -> dict[str, StackFile]:
    return {
        "kept_a": StackFile("pkg/a.py", src[0], repo_name="alice/tools"),
        "js": StackFile(
            "web/app.js", b"let x = 1;\n", repo_name="alice/tools", language="JavaScript"
        ),
        "vendor": StackFile("vendor/six.py", src[1], repo_name="alice/tools", is_vendor=True),
        "generated": StackFile("pb/x_pb2.py", src[2], repo_name="alice/tools", is_generated=True),
        "big": StackFile("big.py", src[3], repo_name="bob/lib", length_bytes=50_000_000),
        "gpl": StackFile("gpl.py", src[4], repo_name="bob/lib", license_type="no_license"),
        "kept_b": StackFile("lib/b.py", src[5], repo_name="bob/lib", language="python"),
    }


def test_both_layouts_and_bad_shards_each_file_by_one_exit(tmp_path, sources):
    corpus = _corpus(sources)
    shards = tmp_path / "in"
    shards.mkdir()
    write_repository_shard(shards / "repos.parquet", corpus.values())
    flat = [StackFile("flat/c.py", sources[6], repo_name="carol/app"), corpus["js"]]
    write_file_shard(shards / "files.parquet", flat)
    # a repository whose file entry lacks its blob id; a shard in neither layout; not Parquet
    broken = {"repo_name": "dave/x", "files": [{"path": "x.py", "language": "Python"}]}
    pq.write_table(pa.Table.from_pylist([broken]), shards / "broken.parquet")
    pq.write_table(pa.Table.from_pylist([{"text": "x = 1"}]), shards / "texts.parquet")
    (shards / "junk.parquet").write_bytes(b"not parquet at all")

    cfg = StackV2Config(license_types=("permissive",))
    outputs, seen = _read(str(shards / "*.parquet"), cfg, tmp_path / "out")

    kept = {r["path"]: r for r in outputs["kept"]}
    assert sorted(kept) == ["flat/c.py", "lib/b.py", "pkg/a.py"]
    for record in kept.values():
        assert record["id"] == record["blob_id"]
        assert "text" not in record
        assert all(name in record for name in (*PROVENANCE, "revision_id"))
    assert kept["pkg/a.py"]["repo_name"] == "alice/tools"
    assert kept["pkg/a.py"]["star_events_count"] == len("alice/tools")  # repository column
    reasons = sorted((r["path"], r["reason"], r["stage"]) for r in outputs["rejected"])
    assert reasons == [
        ("big.py", Reason.TOO_LARGE, "read"),
        ("gpl.py", Reason.LICENSE_TYPE, "read"),
        ("pb/x_pb2.py", Reason.GENERATED, "read"),
        ("vendor/six.py", Reason.VENDORED, "read"),
        ("web/app.js", Reason.OTHER_LANGUAGE, "read"),
        ("web/app.js", Reason.OTHER_LANGUAGE, "read"),
    ]
    letters = sorted(
        (Path(str(d.get("source_file", ""))).name.split(":")[0], d["error_type"])
        for d in outputs["dead_letter"]
    )
    assert letters == [
        ("broken.parquet", ErrorKind.MISSING_BLOB_ID),
        ("junk.parquet", ErrorKind.CORRUPT_FILE),
        ("texts.parquet", NOT_STACK_V2),
    ]
    exits = sum(len(records) for records in outputs.values())
    assert seen == exits == 3 + 6 + 3


def test_a_named_layout_refuses_the_other(tmp_path, sources):
    shards = tmp_path / "in"
    shards.mkdir()
    write_file_shard(shards / "files.parquet", [StackFile("a.py", sources[0])])
    outputs, seen = _read(
        str(shards / "*.parquet"), StackV2Config(layout="repository"), tmp_path / "o"
    )
    assert [d["error_type"] for d in outputs["dead_letter"]] == [NOT_STACK_V2]
    assert outputs["kept"] == [] and seen == 1


def test_detect_layout():
    assert detect_layout(["repo_name", "files"], "auto") == "repository"
    assert detect_layout(["blob_id", "path"], "auto") == "file"
    assert detect_layout(["blob_id", "path"], "file") == "file"
    with pytest.raises(FileError) as error:
        detect_layout(["text"], "auto")
    assert error.value.kind == NOT_STACK_V2


def test_file_records_merge_repository_columns_under_the_files_own():
    row = {"repo_name": "r", "path": "repo-level", "files": [{"blob_id": "b1", "path": "f.py"}]}
    [(fields, record)] = list(file_records(row, "repository"))
    assert record == {"repo_name": "r", "path": "f.py", "blob_id": "b1", "id": "b1"}
    [(_, invalid)] = list(file_records({"repo_name": "r", "files": None}, "repository"))
    assert invalid.kind == ErrorKind.MISSING_BLOB_ID


def test_judge_filters_and_their_switches():
    record = {"language": "Python", "is_vendor": True, "is_generated": True, "length_bytes": 10}
    assert StackV2Config().judge(record).reason == Reason.VENDORED
    assert StackV2Config(keep_vendor=True).judge(record).reason == Reason.GENERATED
    both = StackV2Config(keep_vendor=True, keep_generated=True)
    assert both.judge(record) is record
    assert (
        StackV2Config(max_bytes=9, keep_vendor=True, keep_generated=True).judge(record).reason
        == Reason.TOO_LARGE
    )
    with pytest.raises(ValueError):
        StackV2Config(layout="rows")


def test_options_build_the_config_and_put_fetch_first():
    from beam_swallow.options import SwallowOptions
    from beam_swallow.pipelines.registry import CODE_STAGES, stack_v2_config, stage_names

    argv = ["--input_format", "stack_v2", "--input", "x/*.parquet", "--license_types", "permissive"]
    opts = PipelineOptions([*argv, "--stages", "syntax,lint"]).view_as(SwallowOptions)
    assert stack_v2_config(opts).license_types == ("permissive",)
    assert stage_names(opts, "syntax", CODE_STAGES) == ["fetch", "syntax", "lint"]
    wrong = PipelineOptions([*argv, "--stages", "syntax,fetch"]).view_as(SwallowOptions)
    with pytest.raises(ValueError, match="first stage"):
        stage_names(wrong, "syntax", CODE_STAGES)
    plain = PipelineOptions(["--stages", "fetch"]).view_as(SwallowOptions)
    with pytest.raises(ValueError, match="stack_v2"):
        CODE_STAGES["fetch"](plain)
    every = PipelineOptions(argv[:4]).view_as(SwallowOptions)  # no --license_types
    assert json.dumps(stack_v2_config(every).license_types) == "[]"


def test_progress_counts_file_rows_but_not_repository_rows(tmp_path, sources):
    from beam_swallow.reporting.progress import expected_records

    files = [StackFile("a.py", sources[0]), StackFile("b.py", sources[1])]
    write_file_shard(tmp_path / "files.parquet", files)
    write_repository_shard(tmp_path / "repos.parquet", files)
    assert expected_records(str(tmp_path / "files.parquet")) == 2
    assert expected_records(str(tmp_path / "repos.parquet")) is None  # 1 row, 2 files
