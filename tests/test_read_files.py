"""Input files read to their real end: cut, corrupt and mislabelled shards, JSON Lines details.

Each run goes through the CLI on the local runner and checks that the report
is written and balances, so a bad shard is counted, never lost.
"""

from __future__ import annotations

import gzip
import io
import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from beam_swallow.cli import main
from beam_swallow.jsonl import COMPRESSIONS
from beam_swallow.languages.parsing.python import CHECKER as PYTHON_CHECKER
from beam_swallow.records import ErrorKind, text_id
from beam_swallow.testing import read_jsonl_dir, read_outputs

CASES = Path(__file__).parent / "data" / "cases"


def _run(tmp_path: Path, *inputs: Path, flags: tuple[str, ...] = ()) -> tuple[dict, list, list]:
    """Read ``inputs`` (the syntax stage after it); return report, kept, dead letters."""
    out = tmp_path / "out"
    argv = ["code", "--stages", "syntax", "--output", str(out)]
    argv += ["--input", ",".join(str(p) for p in inputs), *flags]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["balanced"] and report["stages"]["read"]["balanced"]
    return report, read_jsonl_dir(out / "kept"), read_jsonl_dir(out / "dead_letter")


def _lines(count: int, start: int = 0) -> bytes:
    return b"".join(
        json.dumps({"text": f"x{i} = {i}\n", "n": i}).encode() + b"\n"
        for i in range(start, start + count)
    )


def _file_letters(dead: list[dict]) -> list[tuple[str, str, int]]:
    return sorted(
        (Path(d["source_file"]).name, d["error_type"], d["records_read"])
        for d in dead
        if "records_read" in d
    )


def _assert_read_to_each_failure(
    tmp_path: Path, shards: dict[str, bytes], letters: list[tuple], records: list[int]
) -> None:
    """Run ``shards`` (name -> bytes) beside a good shard of records 100-103: one dead
    letter per broken shard (``letters``), and the records of whole files and those before
    each failure (``records``, by ``n``), each exactly once."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, data in shards.items():
        (folder / name).write_bytes(data)
    (folder / "good.jsonl").write_bytes(_lines(4, start=100))
    report, kept, dead = _run(tmp_path, folder / "*")
    assert _file_letters(dead) == letters
    assert len(dead) == len(letters)
    assert sorted(r["n"] for r in kept) == sorted([*records, *range(100, 104)])
    assert report["input"] == len(kept) + len(dead)


@pytest.mark.parametrize(
    ("name", "records"),
    [
        ("09-truncated-gzip-at-record-boundary.jsonl.gz", 60),
        ("09-truncated-gzip-mid-record.jsonl.gz", 133),
    ],
)
def test_a_gzip_file_cut_short_is_reported_not_read_short(tmp_path, name, records):
    report, kept, dead = _run(tmp_path, CASES / name)
    assert len(kept) == records
    assert _file_letters(dead) == [(name, ErrorKind.TRUNCATED_FILE, records)]
    assert len(dead) == 1 and "end-of-stream marker" in dead[0]["error"]
    assert dead[0]["stage"] == "read"
    assert report["input"] == records + 1


def test_python_gzip_agrees_with_the_cases():
    """What the reader reports is what Python's gzip (and ``gzip -t``) find."""
    for name in ("at-record-boundary", "mid-record"):
        data = (CASES / f"09-truncated-gzip-{name}.jsonl.gz").read_bytes()
        with pytest.raises(EOFError):
            gzip.decompress(data)


def _gzip_variants() -> dict[str, bytes]:
    whole = gzip.compress(_lines(10))
    crc = bytearray(whole)
    crc[-8] ^= 0xFF  # the trailer's CRC-32
    return {
        "padded.jsonl.gz": whole + b"\0" * 64,  # gzip accepts zero padding
        "two-members.jsonl.gz": whole + gzip.compress(_lines(5, start=10)),
        "bad-crc.jsonl.gz": bytes(crc),
        "garbage-after.jsonl.gz": whole + b"not gzip",
        "plain-text.jsonl.gz": _lines(3),
        "empty.jsonl.gz": b"",
        "gzip-inside.jsonl": whole,
        "cut-in-header.jsonl.gz": whole[:5],
    }


def test_every_kind_of_broken_shard_beside_good_ones(tmp_path):
    letters = [
        ("bad-crc.jsonl.gz", ErrorKind.CORRUPT_FILE, 10),
        ("cut-in-header.jsonl.gz", ErrorKind.TRUNCATED_FILE, 0),
        ("empty.jsonl.gz", ErrorKind.TRUNCATED_FILE, 0),
        ("garbage-after.jsonl.gz", ErrorKind.CORRUPT_FILE, 10),
        ("gzip-inside.jsonl", ErrorKind.CORRUPT_FILE, 0),
        ("plain-text.jsonl.gz", ErrorKind.CORRUPT_FILE, 0),
    ]
    records = [*range(10)] * 3 + [*range(15)]
    _assert_read_to_each_failure(tmp_path, _gzip_variants(), letters, records)


def _zstd_variants() -> dict[str, bytes]:
    frame = zstandard.ZstdCompressor().compress(_lines(10))
    second = zstandard.ZstdCompressor().compress(_lines(5, start=10))
    checked = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(_lines(10)))
    checked[-1] ^= 0xFF  # the frame's content checksum
    return {
        "two-frames.jsonl.zst": frame + second,
        "second-frame-cut.jsonl.zst": frame + second[:-3],
        "bad-checksum.jsonl.zst": bytes(checked),
        "garbage-after.jsonl.zst": frame + b"not zstd",
        "plain-text.jsonl.zst": _lines(3),
        "empty.jsonl.zst": b"",
        "zstd-inside.jsonl": frame,
        "cut-in-header.jsonl.zst": frame[:3],
    }


def test_every_kind_of_broken_zstd_shard_beside_good_ones(tmp_path):
    # zstandard's own stream reader returns a cut file's first part without an error
    big = _lines(20_000, start=1000)
    big_frame = zstandard.ZstdCompressor().compress(big)
    cut = big_frame[: len(big_frame) // 2]
    short_read = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(cut)).read()
    whole_lines = short_read.count(b"\n")
    assert 0 < whole_lines < 20_000
    variants = {**_zstd_variants(), "cut-mid-frame.jsonl.zst": cut}
    letters = [
        ("bad-checksum.jsonl.zst", ErrorKind.CORRUPT_FILE, 0),
        ("cut-in-header.jsonl.zst", ErrorKind.TRUNCATED_FILE, 0),
        ("cut-mid-frame.jsonl.zst", ErrorKind.TRUNCATED_FILE, whole_lines),
        ("empty.jsonl.zst", ErrorKind.TRUNCATED_FILE, 0),
        ("garbage-after.jsonl.zst", ErrorKind.CORRUPT_FILE, 10),
        ("plain-text.jsonl.zst", ErrorKind.CORRUPT_FILE, 0),
        ("second-frame-cut.jsonl.zst", ErrorKind.TRUNCATED_FILE, 10),
        ("zstd-inside.jsonl", ErrorKind.CORRUPT_FILE, 0),
    ]
    records = [*range(15), *range(10), *range(10), *range(1000, 1000 + whole_lines)]
    _assert_read_to_each_failure(tmp_path, variants, letters, records)


@pytest.mark.parametrize("compression", sorted(COMPRESSIONS))
def test_outputs_are_standard_files_that_read_back_as_inputs(tmp_path, compression):
    """The sinks compress on their own (ISA-L for gzip): the files must be what
    the format's own tools accept, and our reader too."""
    src = tmp_path / "in.jsonl"
    src.write_bytes(_lines(20) + b'{"text": "def f(:\\n"}\n{not json\n')
    first = tmp_path / "first"
    argv = ["code", "--stages", "syntax", "--output_compression", compression, "--input", str(src)]
    assert main([*argv, "--output", str(first)]) == 0
    suffix = COMPRESSIONS[compression].suffix
    for sink in ("kept", "rejected", "dead_letter"):
        paths = list((first / sink).iterdir())
        assert paths and all(p.name.endswith(suffix) for p in paths), paths
        if compression == "gzip":  # the reference tool's integrity test
            subprocess.run(["gzip", "--test", *map(str, paths)], check=True)
    outputs = read_outputs(first)  # the stdlib's gzip, or zstandard's reader
    assert [len(outputs[sink]) for sink in ("kept", "rejected", "dead_letter")] == [20, 1, 1]
    report, kept, dead = _run(tmp_path, first / "kept" / "*")
    assert dead == [] and report["input"] == 20
    assert sorted(r["n"] for r in kept) == list(range(20))


def test_parquet_cut_short_or_not_parquet(tmp_path):
    buffer = io.BytesIO()
    table = pa.Table.from_pylist([{"text": f"x = {i}\n", "n": i} for i in range(50)])
    pq.write_table(table, buffer, row_group_size=10)
    whole = buffer.getvalue()
    shards = tmp_path / "in"
    shards.mkdir()
    (shards / "whole.parquet").write_bytes(whole)
    (shards / "cut.parquet").write_bytes(whole[: len(whole) // 2])
    (shards / "text.parquet").write_bytes(_lines(2))
    (shards / "empty.parquet").write_bytes(b"")
    report, kept, dead = _run(tmp_path, shards / "*.parquet")
    assert len(kept) == 50
    assert _file_letters(dead) == [
        ("cut.parquet", ErrorKind.TRUNCATED_FILE, 0),
        ("empty.parquet", ErrorKind.TRUNCATED_FILE, 0),
        ("text.parquet", ErrorKind.CORRUPT_FILE, 0),
    ]


def test_json_lines_crlf_bom_and_separators_inside_strings(tmp_path):
    texts = ["a = 'x\u2028y'\n", "b = 'p\u2029q\x85r\x0cs'\n", "c = 3\n"]
    body = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\r\n" for t in texts)
    src = tmp_path / "crlf-bom.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8") + b"\r\n")
    _, kept, dead = _run(tmp_path, src)
    assert dead == []
    assert sorted(r["text"] for r in kept) == texts


def test_a_bom_inside_the_file_is_an_error_of_its_line(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(_lines(1) + b"\xef\xbb\xbf" + _lines(1, start=1))
    _, kept, dead = _run(tmp_path, src)
    assert [r["n"] for r in kept] == [0]
    assert [(d["error_type"], d["source_file"].rsplit(":", 1)[1]) for d in dead] == [
        ("invalid_json", "2")
    ]


def test_written_lines_are_strict_json(tmp_path):
    src = tmp_path / "in.parquet"
    rows = [{"text": "x = 1\n", "score": float("nan"), "ratio": [float("inf"), 1.5]}]
    pq.write_table(pa.Table.from_pylist(rows), src)
    out = tmp_path / "out"
    assert main(["code", "--stages", "syntax", "--input", str(src), "--output", str(out)]) == 0
    for shard in (out / "kept").glob("*.jsonl.gz"):
        text = gzip.decompress(shard.read_bytes()).decode("utf-8")
        assert "NaN" not in text and "Infinity" not in text
        record = json.loads(text, parse_constant=pytest.fail)
        assert record["score"] is None and record["ratio"] == [None, 1.5]


def test_the_records_own_id_and_fields_are_kept(tmp_path):
    rows = [
        {"id": "own-1", "text": "a = 1\n"},
        {"id": 7, "text": "b = 2\n"},
        {"text": "c = 3\n"},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _, kept, _ = _run(tmp_path, src)
    assert sorted(json.dumps(r["id"]) for r in kept) == sorted(
        ['"own-1"', "7", json.dumps(text_id("c = 3\n"))]
    )
    assert all(set(r) == {"id", "text", "language", "syntax_ok", "syntax_checker"} for r in kept)


def test_text_field_and_id_field_never_drop_the_inputs_own_fields(tmp_path):
    rows = [
        {"content": "a = 1\n", "text": "a README line", "id": 1, "blob_id": "b1"},
        {"content": "print 'py2'", "text": "other", "blob_id": "b2"},
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    flags = ("--text_field", "content", "--id_field", "blob_id")
    out_dir = tmp_path / "out"
    _, kept, _ = _run(tmp_path, src, flags=flags)
    assert kept == [
        {**rows[0], "language": "Python", "syntax_ok": True, "syntax_checker": PYTHON_CHECKER}
    ]
    rejected = read_jsonl_dir(out_dir / "rejected")
    assert [{k: r[k] for k in rows[1]} for r in rejected] == [rows[1]]
    assert rejected[0]["reason"] == "syntax_error"
