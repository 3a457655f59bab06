"""The code pipeline suite and the lint stage on Prism, Beam's portable runner in Go.

Prism is what Beam's DirectRunner uses by default, so users meet it. ``make
test-prism`` builds it from the Go module proxy at the SDK's Beam version and
names the binary in ``PRISM_LOCATION``; elsewhere these tests are skipped.
Prism runs the SDK workers in this process (LOOPBACK).
"""

from __future__ import annotations

import os

import pytest

from tests import test_lint_stage, test_pipeline_code

pytestmark = [
    pytest.mark.prism,
    pytest.mark.skipif(
        "PRISM_LOCATION" not in os.environ, reason="needs a Prism binary: make test-prism"
    ),
]

PRISM_ARGS = [
    "--runner=PrismRunner",
    f"--prism_location={os.environ.get('PRISM_LOCATION', '')}",
    "--environment_type=LOOPBACK",
]


class TestCodePipelineOnPrism(test_pipeline_code._CodePipelineSuite):
    beam_args = PRISM_ARGS


class TestLintStageOnPrism(test_lint_stage._LintStageSuite):
    beam_args = PRISM_ARGS
