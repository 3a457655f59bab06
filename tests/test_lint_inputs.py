"""Files as they come: declared encodings (PEP 263), unreadable files, repeated paths.

Right values come from the ``pylint`` CLI on each file saved in its declared
encoding (:func:`~beam_swallow.testing.lint_reference.cli_score`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.linting import LintPool, Status
from beam_swallow.linting.source import decode_source, encode_source
from beam_swallow.records import Reason
from beam_swallow.testing import read_jsonl_dir
from beam_swallow.testing.lint_reference import cli_score
from beam_swallow.transforms.lint import lint_verdict

CASES = Path(__file__).parent / "data" / "cases"
GREEK = '# -*- coding: iso-8859-7 -*-\n"""Πίνακας."""\n\nNAME = \'Αθήνα\'\nprint(NAME)\n'
UTF16_COOKIE = "# coding: utf-16\nx = 1\n"


def _records(name: str) -> dict[str, str]:
    lines = (CASES / name).read_text(encoding="utf-8").splitlines()
    return {row["name"]: row["text"] for row in map(json.loads, lines)}


def test_text_becomes_the_file_its_coding_line_declares():
    euc = _records("02-legacy-encoding-cookie.jsonl")["eucjp"]
    assert encode_source(euc) == euc.encode("euc-jp")
    assert decode_source(euc.encode("euc-jp")) == euc
    assert encode_source(GREEK) == GREEK.encode("iso-8859-7")
    assert encode_source("x = 'é'\n") == "x = 'é'\n".encode()
    assert decode_source(b"\xef\xbb\xbfx = 1\r\n") == "x = 1\r\n"  # BOM dropped, CRLF kept
    # a codec Python lacks, or text the codec cannot hold: written as stored, UTF-8
    utf9 = _records("01-unknown-encoding-cookie.jsonl")["utf9"]
    assert encode_source(utf9) == utf9.encode("utf-8")
    assert (
        encode_source("# coding: latin-1\nx = '日本'\n")
        == "# coding: latin-1\nx = '日本'\n".encode()
    )
    with pytest.raises(SyntaxError):
        decode_source(utf9.encode("utf-8"))
    with pytest.raises(SyntaxError):
        decode_source(b"x = '\xe9'\n")  # not UTF-8, no coding line


def test_legacy_and_unknown_encodings_in_the_pool():
    legacy = _records("02-legacy-encoding-cookie.jsonl")
    unknown = _records("01-unknown-encoding-cookie.jsonl")
    sources = [*legacy.values(), *unknown.values(), GREEK, UTF16_COOKIE]
    with LintPool(workers=1, timeout_s=300, recycle_after=100) as pool:
        results = dict(zip([*legacy, *unknown, "greek", "utf16"], pool.map(sources), strict=True))
    assert results["eucjp"].pylint_score == 8.33  # the CLI's, issue case 02
    assert results["cp1252"].pylint_score == 9.17
    for name in ("eucjp", "cp1252", "latin1"):
        assert lint_verdict({"id": name}, results[name], 7.0) == {
            "id": name,
            "pylint_score": results[name].pylint_score,
            "comment_ratio": results[name].comment_ratio,
            "quality_score": results[name].score,
        }
    assert results["utf"].pylint_score == 6.67  # a real alias of UTF-8
    broken = results["utf9"]
    assert broken.status == Status.UNPARSABLE and broken.pylint_score is None
    assert "E0001" in broken.error and "unknown encoding" in broken.error
    assert "<file>" in broken.error and "/" not in broken.error  # no temporary path
    verdict = lint_verdict({"id": "utf9"}, broken, 7.0)
    assert (verdict.reason, verdict.fields) == (Reason.UNPARSABLE, {"error": broken.error})
    assert results["utf16"].status == Status.UNPARSABLE
    expected = [cli_score(s) for s in (*legacy.values(), unknown["utf"], GREEK)]
    got = [results[n].pylint_score for n in (*legacy, "utf", "greek")]
    assert got == expected


def test_the_lint_stage_rejects_what_pylint_cannot_parse(tmp_path):
    out = tmp_path / "out"
    inputs = ",".join(str(CASES / n) for n in ("01-unknown-encoding-cookie.jsonl",))
    argv = ["code", "--stages", "lint", "--lint_workers", "1", "--input", inputs]
    assert main([*argv, "--output", str(out)]) == 0
    rejected = {r["name"]: r for r in read_jsonl_dir(out / "rejected")}
    assert rejected["utf9"]["reason"] == Reason.UNPARSABLE
    assert "unknown encoding" in rejected["utf9"]["error"]
    assert (
        rejected["utf"]["reason"] == Reason.LOW_QUALITY and rejected["utf"]["pylint_score"] == 6.67
    )
    assert json.loads((out / "report.json").read_text())["balanced"]


def test_lint_score_gives_every_argument_its_own_line(tmp_path, capsys):
    eucjp = str(CASES / "02-legacy-encoding-cookie-eucjp.py")
    note = str(CASES / "14-lint-score-same-path-twice.py")
    clean = tmp_path / "clean.py"
    clean.write_text('"""Clean."""\n\nprint(1)\n')
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"x = '\xe9'\n")  # not UTF-8 and no coding line
    missing = str(tmp_path / "missing.py")
    args = [note, note, eucjp, note, str(clean), missing, str(tmp_path), str(latin), note]
    assert main(["lint-score", "--lint_workers", "2", *args]) == 1  # missing and the directory
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["path"] for line in lines] == args
    scores = [line["pylint_score"] for line in lines]
    assert scores == [1.67, 1.67, 8.33, 1.67, 10.0, None, None, None, 1.67]
    statuses = [line["status"] for line in lines]
    assert statuses[5:8] == [Status.ERROR, Status.ERROR, Status.UNPARSABLE]
    assert "FileNotFoundError" in lines[5]["error"] and "IsADirectoryError" in lines[6]["error"]
    assert "encoding" in lines[7]["error"]
    assert cli_score((CASES / "14-lint-score-same-path-twice.py").read_text()) == 1.67


def test_lint_score_on_one_repeated_file(capsys):
    note = str(CASES / "14-lint-score-same-path-twice.py")
    assert main(["lint-score", "--lint_workers", "1", note, note]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["path"], line["pylint_score"]) for line in lines] == [(note, 1.67)] * 2
