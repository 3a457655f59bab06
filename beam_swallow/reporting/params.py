"""What identifies a run: its flags, the versions it ran with, its prompts' hashes.

The report shows these so two reports can be told apart and a result traced to
the exact code, settings and prompt wording that made it.
"""

from __future__ import annotations

import argparse
import platform
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.options import SwallowOptions

__all__ = ["PACKAGES", "run_parameters"]

PACKAGES = (
    "beam-swallow",
    "apache-beam",
    "pylint",
    "astroid",
    "ruff",  # the v2 recipe formats with it; its output changes between releases
    "llama_cpp_python",
    "rich",
    "matplotlib",
)


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _swallow_settings(options: PipelineOptions) -> dict[str, Any]:
    """Every beam-swallow flag with the value this run used (defaults included)."""
    parser = argparse.ArgumentParser(add_help=False)
    SwallowOptions._add_argparse_args(parser)
    opts = options.view_as(SwallowOptions)
    return {action.dest: getattr(opts, action.dest, None) for action in parser._actions}


def run_parameters(
    options: PipelineOptions, stages: list[str], input_pattern: str
) -> dict[str, Any]:
    """The run's identity, for report.json's ``run`` entry; ``input_pattern`` is what
    was read (the sample's path when no ``--input`` was given)."""
    from beam_swallow.prompts import PROMPT_NAMES, load_prompt
    from beam_swallow.transforms.math_styles import PROMPTS as STYLE_PROMPTS
    from beam_swallow.transforms.math_styles import STAGE as STYLES_STAGE

    opts = options.view_as(SwallowOptions)
    # each rewriting stage's prompt is named for it; math_styles has one per style
    named = [
        name
        for stage in stages
        for name in (STYLE_PROMPTS.values() if stage == STYLES_STAGE else (stage,))
    ]
    prompts = {
        name: load_prompt(name, getattr(opts, f"{name}_prompt")).sha
        for name in named
        if name in PROMPT_NAMES
    }
    return {
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "stages": stages,
        "input": input_pattern,
        "flags": options.get_all_options(drop_default=True),
        "settings": _swallow_settings(options),
        "versions": _versions(),
        "prompts": prompts,
    }
