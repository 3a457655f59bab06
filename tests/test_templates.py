"""The Dataflow flex template stays in step with the options and launches for real."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
from pathlib import Path

from beam_swallow.cli import PIPELINES, unknown_flags
from beam_swallow.options import SwallowOptions

TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "dataflow"


def _load_launcher():
    spec = importlib.util.spec_from_file_location("launch", TEMPLATES / "launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parameters() -> list[dict]:
    return json.loads((TEMPLATES / "metadata.json").read_text())["parameters"]


def test_every_template_parameter_is_a_flag():
    parser = argparse.ArgumentParser()
    SwallowOptions._add_argparse_args(parser)
    actions = {action.dest: action for action in parser._actions}
    names = [p["name"] for p in _parameters()]
    assert len(names) == len(set(names)) and "pipeline" in names
    for parameter in _parameters():
        name = parameter["name"]
        if name == "pipeline":  # launch.py's own: which pipeline gets the other flags
            assert [c for c in PIPELINES if re.fullmatch(parameter["regexes"][0], c)] == list(
                PIPELINES
            )
            continue
        assert name in actions, name
        choices = actions[name].choices
        # the launcher passes --name=value; the CLI's own check of flags takes it
        value = choices[0] if choices else "1"
        assert unknown_flags([f"--{name}={value}"]) == [], name
        # a value the template's regex admits is one the flag takes, and back
        if choices is not None:
            (regex,) = parameter["regexes"]
            assert [c for c in choices if re.fullmatch(regex, c)] == list(choices), name
            assert not re.fullmatch(regex, "nonsense"), name


def test_a_misspelt_template_parameter_is_refused(tmp_path, capsys):
    launch = _load_launcher().launch
    argv = ["--pipeline=code", f"--input={tmp_path / 'in.jsonl'}", f"--output={tmp_path}/out"]
    assert launch([*argv, "--min_qualty=9"]) == 2
    err = capsys.readouterr().err
    assert "error: unknown flag --min_qualty (did you mean --min_quality" in err
    assert not (tmp_path / "out").exists()


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
