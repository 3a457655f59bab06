"""What the preflight tests against each kind of server share: a short sgcr run whose
``--model`` the server does not list, and the preflight's log lines."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from beam_swallow.cli import main
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.llama_server import ALIAS

PREFLIGHT_LOG = "beam_swallow.inference.preflight"


def preflight_lines(caplog) -> list[str]:
    """The messages the preflight logged."""
    return [record.getMessage() for record in caplog.records if record.name == PREFLIGHT_LOG]


def run_unlisted_name(capsys, caplog, tmp_path: Path, url: str) -> list[str]:
    """Run sgcr over three records against the server at ``url`` as ``--model smollm2``,
    which it does not list; assert the run ends balanced with no dead letter, and return
    the preflight's log lines."""
    source = tmp_path / "in.jsonl"
    rows = [{"id": f"f{i}", "text": f"value_{i} = {i} * 2\n"} for i in range(3)]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "out"
    caplog.set_level(logging.WARNING, logger=PREFLIGHT_LOG)
    status = main(
        [
            *("code", "--stages", "sgcr", "--input", str(source), "--output", str(out)),
            *("--engine", "openai", "--endpoint", url, "--model", ALIAS),
            *("--max_tokens", "16", "--structured", "off"),
        ]
    )
    assert status == 0, capsys.readouterr().err
    report = read_report(out)
    assert_conserved(report, read_outputs(out))
    assert report["balanced"] and report["stages"]["sgcr"]["input"] == len(rows)
    assert report["stages"]["sgcr"]["dead_letter"] == 0
    return preflight_lines(caplog)
