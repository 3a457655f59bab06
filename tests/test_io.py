"""Turning input lines and rows into records, and records back into output."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import gzip
import json

import pytest

from beam_swallow.cli import main
from beam_swallow.io import InvalidRecord, ReaderConfig, parse_line, to_output, to_record
from beam_swallow.jsonl import dumps, encode_line
from beam_swallow.records import text_id
from beam_swallow.report import build_report
from beam_swallow.testing import assert_conserved, read_outputs, read_report


def test_parse_line_keeps_metadata_and_hashes_the_text():
    record = parse_line(b'{"text": "x = 1\\n", "repo": "a/b", "stars": 3}', ReaderConfig())
    assert record == {"text": "x = 1\n", "repo": "a/b", "stars": 3, "id": text_id("x = 1\n")}


def test_text_field_and_id_field():
    cfg = ReaderConfig(text_field="content", id_field="blob_id")
    record = parse_line(b'{"content": "pass", "blob_id": 42}', cfg)
    assert record["text"] == "pass" and "content" not in record
    assert record["id"] == "42"
    assert to_output(record, "content") == {"content": "pass", "blob_id": 42, "id": "42"}


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (b'{"text": "unterminated', "invalid_json"),
        (b"[1, 2, 3]", "not_an_object"),
        (b'"just a string"', "not_an_object"),
        (b'{"content": "x"}', "missing_text"),
        (b'{"text": 5}', "missing_text"),
        (b'{"text": null}', "missing_text"),
        (b'{"text": "caf\xe9"}', "invalid_utf8"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
    ],
)
def test_bad_lines_raise_invalid_record_with_kind(line, kind):
    with pytest.raises(InvalidRecord) as info:
        parse_line(line, ReaderConfig())
    assert info.value.kind == kind


def test_missing_id_field_is_invalid():
    with pytest.raises(InvalidRecord) as info:
        to_record({"text": "x"}, ReaderConfig(id_field="blob_id"))
    assert info.value.kind == "missing_id"


@pytest.mark.parametrize(
    "line",
    [
        b'{"text": "a\\ud800b"}',
        b'{"text": "ok", "path": "\\uDC80"}',
        b'{"text": "ok", "tags": ["\\u00e9", "\\udBfF"]}',  # any case, after a plain escape
        b'{"text": "\\ud83d\\ude00\\uDE00"}',  # a pair, then a lone low half
    ],
)
def test_lone_surrogates_are_invalid_unicode(line):
    with pytest.raises(InvalidRecord) as info:
        parse_line(line, ReaderConfig())
    assert info.value.kind == "invalid_unicode"


def test_escaped_pairs_and_plain_escapes_are_fine():
    record = parse_line(b'{"text": "\\ud83d\\ude00 \\u00e9"}', ReaderConfig())
    assert record["text"] == "\U0001f600 \u00e9"


def test_the_read_stage_balances_against_its_own_count_of_input():
    # the reader counts what it read apart from its exits: a lost line unbalances the run
    lost_one = [("read", "input", "", 5), ("read", "kept", "", 3), ("read", "dead_letter", "", 1)]
    report = build_report(lost_one, ["read"])
    assert report["stages"]["read"]["input"] == 5
    assert report["stages"]["read"]["balanced"] is False and report["balanced"] is False
    whole = [("read", "input", "", 4), ("read", "kept", "", 3), ("read", "dead_letter", "", 1)]
    assert build_report(whole, ["read"])["balanced"] is True


def test_a_truncated_shard_counts_as_one_input_unit(tmp_path):
    lines = b"".join(json.dumps({"text": f"x = {i}"}).encode() + b"\n" for i in range(10))
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(lines)[:-8])  # no trailer
    out = tmp_path / "out"
    assert (
        main(
            ["code", "--input", str(tmp_path / "*.gz"), "--output", str(out), "--stages", "syntax"]
        )
        == 0
    )
    report = read_report(out)
    assert_conserved(report, read_outputs(out))
    assert report["stages"]["read"]["input"] == 11  # ten lines, then the file's failure
    assert (report["kept"], report["dead_letter"]) == (10, 1)


@dataclasses.dataclass
class _Point:
    x: int


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value",
    [
        {"text": "def f():\n\treturn '\u00e9\u2028\U0001f600'\n", "id": "a", "n": -3, "x": 1e16},
        {"score": float("nan"), "ratio": [float("inf"), -0.0, 1.5]},  # non-finite -> null
        {"big": 2**70, "neg": -(2**64)},  # beyond 64 bits: orjson refuses, json writes them
        {1: "int key", None: "null key"},  # keys that are not strings
        {"when": datetime.datetime(2024, 5, 1, 12, 0), "day": datetime.date(2024, 5, 1)},
        {"price": decimal.Decimal("1.10"), "point": _Point(1), "raw": b"\x00"},
        {"deep": _nested(300)},  # past orjson's 254 levels
    ],
    ids=["text", "non_finite", "big_ints", "non_str_keys", "datetimes", "default_str", "deep"],
)
def test_encode_line_writes_the_json_value_dumps_writes(value):
    line = encode_line(value, default=str)
    assert b"\n" not in line
    assert json.loads(line) == json.loads(dumps(value, ensure_ascii=False, default=str))


def test_encode_line_refuses_a_lone_surrogate_like_utf8():
    with pytest.raises(UnicodeEncodeError):
        encode_line({"text": "\udc80"})
