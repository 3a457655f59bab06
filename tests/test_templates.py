"""The Dataflow flex template stays in step with the options and launches for real."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

from beam_swallow.options import SwallowOptions

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "dataflow"


def _load_launcher():
    spec = importlib.util.spec_from_file_location("launch", TEMPLATES / "launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_template_parameter_is_a_flag():
    parser = argparse.ArgumentParser()
    SwallowOptions._add_argparse_args(parser)
    flags = {action.dest for action in parser._actions}
    metadata = json.loads((TEMPLATES / "metadata.json").read_text())
    names = [p["name"] for p in metadata["parameters"]]
    assert set(names) - {"pipeline"} <= flags
    assert len(names) == len(set(names))


def test_launcher_runs_the_named_pipeline(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "x = 1\\n"}\n{"text": "print 1\\n"}\n')
    out = tmp_path / "out"
    launch = _load_launcher().launch
    argv = [f"--input={source}", f"--output={out}", "--stages=syntax"]
    assert launch(["--pipeline=code", *argv]) == 0
    report = json.loads((out / "report.json").read_text())
    assert (report["input"], report["kept"], report["rejected"]) == (2, 1, {"syntax_error": 1})
    assert launch(["--pipeline=nope", *argv]) == 2
