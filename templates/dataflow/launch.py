"""Entry point of the Dataflow flex template image.

The template launcher runs this file with the job's parameters as
``--name=value`` flags, and Dataflow's own options (project, region, staging);
``--pipeline`` picks the beam-swallow pipeline (code, math or dedup, default
code) and every other flag goes to it unchanged, so the template accepts
exactly what ``beam-swallow <pipeline> --help`` lists and refuses a misspelt
parameter (exit 2). What the command then prints (a template written, or the
job submitted) is the CLI's (docs, Runners: Dataflow).
"""

from __future__ import annotations

import sys

from beam_swallow.cli import PIPELINES, main


def launch(argv: list[str]) -> int:
    pipeline = "code"
    rest = []
    for arg in argv:
        if arg.startswith("--pipeline="):
            pipeline = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if pipeline not in PIPELINES:
        print(
            f"unknown --pipeline {pipeline!r}; choose from {', '.join(PIPELINES)}", file=sys.stderr
        )
        return 2
    return main([pipeline, *rest])


if __name__ == "__main__":
    sys.exit(launch(sys.argv[1:]))
