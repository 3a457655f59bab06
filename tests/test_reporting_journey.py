"""``beam-swallow inspect`` on rewritten records: the diffs original -> sgcr -> scor.

The records are made by the rewriting stages' own :func:`rewritten` (what sgcr
and scor do to a record they keep), then written where a run writes them, so
the journey is read back exactly as from a run's outputs.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from beam_swallow.cli import main
from beam_swallow.prompts import load_prompt
from beam_swallow.records import text_id
from beam_swallow.report import build_report
from beam_swallow.transforms.rewriting import RewriteConfig, rewritten

ORIGINAL = "def add(a,b):\n  return a+b\n"
SGCR = 'def add(a: int, b: int) -> int:\n    """Add."""\n    return a + b\n'
SCOR = 'def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n    return a + b\n'
STAGES = ["read", "syntax", "lint", "sgcr", "scor"]


def _write(out: Path, sink: str, records: list[dict]) -> None:
    (out / sink).mkdir(parents=True, exist_ok=True)
    with gzip.open(out / sink / "part-00000-of-00001.jsonl.gz", "wt") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records)


def _run_dir(tmp_path: Path, keep_original: bool) -> tuple[Path, dict, dict]:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"text": ORIGINAL}) + "\n" + json.dumps({"text": ORIGINAL + "#\n"}) + "\n"
    )
    cfg = RewriteConfig(prompt=load_prompt("sgcr"), keep_original=keep_original)
    kept = {"id": text_id(ORIGINAL), "text": ORIGINAL, "quality_score": 7.5}
    kept = rewritten(rewritten(kept, "sgcr", cfg, SGCR), "scor", cfg, SCOR)
    # rejected at scor: its text is what scor was given, sgcr's rewrite
    refused = rewritten(
        {"id": text_id(ORIGINAL + "#\n"), "text": ORIGINAL + "#\n"}, "sgcr", cfg, SGCR
    )
    refused.update(stage="scor", reason="no_code_block", answer="I cannot help with that.")
    out = tmp_path / "out"
    _write(out, "kept", [kept])
    _write(out, "rejected", [refused])
    _write(out, "dead_letter", [])
    rows = [(s, "kept", "", 2) for s in STAGES[:-1]]
    rows += [("scor", "kept", "", 1), ("scor", "rejected", "no_code_block", 1)]
    report = build_report(rows, STAGES)
    report["run"] = {"stages": STAGES, "input": str(src), "settings": {"text_field": "text"}}
    (out / "report.json").write_text(json.dumps(report))
    return out, kept, refused


def test_keep_original_keeps_the_text_between_rewrites(tmp_path):
    _, kept, _ = _run_dir(tmp_path, keep_original=True)
    assert kept["original_text"] == ORIGINAL
    assert kept["text_before"] == {"scor": SGCR}  # sgcr's own input is original_text


def test_inspect_diffs_each_rewrite_of_a_kept_record(tmp_path, capsys):
    out, kept, _ = _run_dir(tmp_path, keep_original=True)
    assert main(["inspect", str(out), "--id", kept["id"]]) == 0
    text = capsys.readouterr().out
    assert "lint           passed  (quality_score=7.5)" in text
    assert "diff original -> sgcr:" in text and "diff sgcr -> scor:" in text
    assert "-def add(a,b):" in text and "+def add(a: int, b: int) -> int:" in text
    assert '-    """Add."""' in text and '+    """Return the sum of a and b."""' in text
    assert "kept: in kept/" in text


def test_inspect_without_keep_original_finds_the_original_in_the_input(tmp_path, capsys):
    out, kept, refused = _run_dir(tmp_path, keep_original=False)
    assert main(["inspect", str(out), "--id", refused["id"]]) == 0
    text = capsys.readouterr().out
    assert "scor           REJECTED: no_code_block" in text
    assert "refused answer:\nI cannot help with that." in text
    assert "diff original -> sgcr:" in text and "+def add(a: int, b: int) -> int:" in text
    assert main(["inspect", str(out), "--id", kept["id"]]) == 0
    text = capsys.readouterr().out
    assert "diff original -> sgcr: the sgcr text was not kept (run with --keep_original" in text
