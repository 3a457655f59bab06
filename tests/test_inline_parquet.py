"""Datasets that carry their text inline, read as they come: FineMath, and code dumps with
``content`` (as The Stack v1 has it and later releases with contents inline do).

Each test writes Parquet in the dataset's schema with pyarrow and runs the CLI
with the flags the README documents for it.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from beam_swallow.cli import main
from beam_swallow.records import Reason
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.lint_reference import stdlib_sources
from beam_swallow.testing.stack_v2 import blob_id_of

PAGES = [
    "Solve 2x + 3 = 11. Subtract 3 from both sides: 2x = 8. Divide by 2: x = 4.",
    "The sum of the first n odd numbers is n^2: 1 + 3 + 5 = 9 = 3^2.",
    "Solve 2x + 3 = 11. Subtract 3 from both sides: 2x = 8. Divide by 2: x = 4.",
]


def _finemath_rows() -> list[dict]:
    return [
        {
            "url": f"https://math.example.org/lesson/{i}",
            "fetch_time": 1_700_000_000 + i,
            "content_mime_type": "text/html",
            "warc_filename": f"crawl-data/CC-MAIN-2024-10/segment/{i}.warc.gz",
            "warc_record_offset": 1000 * i,
            "warc_record_length": 500 + i,
            "text": text,
            "token_count": len(text.split()),
            "char_count": len(text),
            "metadata": '{"source": "lesson"}',
            "score": 4.2 + i / 10,
            "int_score": 4,
            "crawl": "CC-MAIN-2024-10",
            "snapshot_type": "latest",
            "language": "en",
            "language_score": 0.93,
        }
        for i, text in enumerate(PAGES)
    ]


def test_finemath_parquet_with_url_as_id(tmp_path):
    shard = tmp_path / "finemath-4plus-00000.parquet"
    pq.write_table(pa.Table.from_pylist(_finemath_rows()), shard)
    out = tmp_path / "out"
    argv = ["math", "--input", str(shard), "--id_field", "url", "--output", str(out)]
    assert main([*argv, "--stages", "exact_dedup", "--quiet"]) == 0
    report, outputs = read_report(out), read_outputs(out)
    assert_conserved(report, outputs)
    assert report["input"] == 3
    kept = {r["url"]: r for r in outputs["kept"]}
    assert sorted(kept) == [f"https://math.example.org/lesson/{i}" for i in (0, 1)]
    assert kept["https://math.example.org/lesson/1"]["text"] == PAGES[1]
    assert kept["https://math.example.org/lesson/1"]["int_score"] == 4
    assert kept["https://math.example.org/lesson/0"]["crawl"] == "CC-MAIN-2024-10"
    [copy] = outputs["rejected"]
    assert copy["url"] == "https://math.example.org/lesson/2"
    assert copy["reason"] == Reason.EXACT_DUPLICATE


def test_code_with_inline_content_keeps_its_provenance(tmp_path):
    texts = stdlib_sources(3, max_bytes=6_000)
    rows = [
        {
            "blob_id": blob_id_of(text.encode()),
            "repo_name": f"owner/repo{i}",
            "path": f"src/module{i}.py",
            "language": "Python",
            "src_encoding": "UTF-8",
            "detected_licenses": ["Apache-2.0"],
            "license_type": "permissive",
            "length_bytes": len(text.encode()),
            "content": text,
        }
        for i, text in enumerate(texts)
    ]
    rows.append({**rows[0], "blob_id": "f" * 40, "content": "def broken(:\n"})
    shard = tmp_path / "inline-00000.parquet"
    pq.write_table(pa.Table.from_pylist(rows), shard)
    out = tmp_path / "out"
    argv = ["code", "--input", str(shard), "--text_field", "content", "--id_field", "blob_id"]
    assert main([*argv, "--output", str(out), "--stages", "syntax", "--quiet"]) == 0
    report, outputs = read_report(out), read_outputs(out)
    assert_conserved(report, outputs)
    kept = {r["blob_id"]: r for r in outputs["kept"]}
    assert sorted(kept) == sorted(row["blob_id"] for row in rows[:3])
    for row in rows[:3]:
        record = kept[row["blob_id"]]
        assert record["content"] == row["content"] and "text" not in record
        assert record["id"] == row["blob_id"] and record["repo_name"] == row["repo_name"]
        assert record["detected_licenses"] == ["Apache-2.0"]
    [broken] = outputs["rejected"]
    assert broken["blob_id"] == "f" * 40 and broken["reason"] == Reason.SYNTAX_ERROR
