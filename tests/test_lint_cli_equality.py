"""The lint engine's scores equal the pylint CLI's, file by file.

Every file goes through warm workers that have already checked other files,
so any state one file leaves behind (astroid's caches, attributes assigned
onto shared modules, a reused path) would show up as a different score.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from beam_swallow.cli import main
from beam_swallow.linting import LintPool, Status
from beam_swallow.testing.lint_reference import cli_score, stdlib_sources

# Pairs run in this order on one worker: the first file assigns an attribute
# onto a shared (standard-library) object, the second reads it. The CLI,
# which sees only the second file, reports no-member.
LEAK_PAIRS = [
    ("import os\nos.swallow_probe = 1\n", "import os\nprint(os.swallow_probe)\n"),
    (
        "import logging\nlogging.Handler.swallow_probe = 3\n",
        "import logging\nprint(logging.Handler.swallow_probe)\n",
    ),
    (
        "import logging\nhandler = logging.Handler()\nhandler.swallow_probe = 2\n",
        "import logging\nprint(logging.Handler().swallow_probe)\n",
    ),
    (
        "def helper():\n    return 1\n\n\nprint(helper())\n",
        "print(helper())\n",
    ),
]

# What building a library module does to the rest of astroid happens, in the
# CLI, only in a file whose analysis builds that module; a warm worker built it
# for an earlier file, and must replay it for the files that use it.
# 1. Writes onto other modules: building tkinter gives astroid's sys a
#    ``last_type``, which the files in between must not see.
TKINTER = "import tkinter\n\nprint(tkinter.TkVersion)\n"
READS_SYS_LAST_TYPE = "import sys\n\nprint(sys.last_type)\n"
# 2. Inference-cache resets: building colorsys clears astroid's inference
#    cache, after which ``module`` infers afresh and the CLI no longer sees
#    the attribute assigned to it.
USES_COLORSYS = (
    "import colorsys\nimport types\n\nprint(colorsys.ONE_THIRD, types.ModuleType('x'))\n"
)
READS_AFTER_COLORSYS = (
    "import types\n\nimport colorsys\n\n"
    "module = types.ModuleType('blah')\nmodule.__loader__ = None\n"
    "print(module.__loader__, colorsys.ONE_THIRD)\n"
)
LIBRARY_BUILD_SEQUENCE = [
    TKINTER,
    READS_SYS_LAST_TYPE,
    "import sys\nimport tkinter\n\nprint(sys.last_type, tkinter.TkVersion)\n",
    READS_SYS_LAST_TYPE,
    "from tkinter import ttk\nimport sys\n\nprint(sys.last_type, ttk.Button)\n",
    READS_SYS_LAST_TYPE,
    USES_COLORSYS,
    READS_AFTER_COLORSYS,
    READS_AFTER_COLORSYS,
]

EDGE_CASES = [
    "# only a comment\n",
    "",
    '"""Only a docstring."""\n',
    "import os\nimport sys\nx = undefined_name + os.sep\n",
]


@pytest.fixture(scope="module")
def real_files() -> list[str]:
    return stdlib_sources(36)


def _cli_scores(sources: list[str]) -> list[float | None]:
    with ThreadPoolExecutor(2) as executor:
        return list(executor.map(cli_score, sources))


def test_real_files_score_as_the_cli_prints(real_files):
    sources = real_files + EDGE_CASES
    with LintPool(workers=2, timeout_s=300, recycle_after=10_000) as pool:
        results = pool.map(sources)
        assert pool.stats.started == 2  # warm workers served every file
    expected = _cli_scores(sources)
    got = [r.pylint_score for r in results]
    mismatches = [(i, g, e) for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    assert mismatches == []
    assert sum(score is not None for score in expected) >= 36
    for result, score in zip(results, expected, strict=True):
        assert result.status == (Status.OK if score is not None else Status.NO_STATEMENTS)


def test_no_state_leaks_from_one_file_into_the_next():
    sequence = [source for pair in LEAK_PAIRS for source in pair]
    with LintPool(workers=1, timeout_s=300, recycle_after=10_000) as pool:
        got = [r.pylint_score for r in pool.map(sequence)]
    expected = _cli_scores(sequence)
    assert got == expected
    # The probes are real: every second file is penalized by the CLI.
    assert all(score < 10.0 for score in expected[1::2])


def test_library_module_builds_are_replayed_for_the_files_that_use_them():
    with LintPool(workers=1, timeout_s=300, recycle_after=10_000) as pool:
        got = [r.pylint_score for r in pool.map(LIBRARY_BUILD_SEQUENCE)]
    expected = _cli_scores(LIBRARY_BUILD_SEQUENCE)
    assert got == expected
    # The probes are real: the CLI penalizes sys.last_type only without
    # tkinter, and the attribute read only after colorsys was built.
    assert expected[1] < 10.0 and expected[2] == 10.0
    assert expected[6] == 10.0 and expected[7] < 10.0


def test_lint_score_tool_prints_the_cli_scores(tmp_path, capsys, real_files):
    paths = []
    for index, source in enumerate(real_files[:4] + EDGE_CASES[:1]):
        path = tmp_path / f"file{index}.py"
        path.write_text(source, encoding="utf-8", newline="")
        paths.append(str(path))
    assert main(["lint-score", "--format", "jsonl", "--lint_workers", "2", *paths]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["path"] for line in lines] == paths
    expected = _cli_scores(real_files[:4] + EDGE_CASES[:1])
    assert [line["pylint_score"] for line in lines] == expected
    assert lines[-1]["status"] == "no_statements" and lines[-1]["score"] is None
    for line in lines[:-1]:
        assert set(line) == {"path", "pylint_score", "comment_ratio", "score", "status"}
        assert line["status"] == "ok"
        assert line["score"] == pytest.approx(line["pylint_score"] * (1 - line["comment_ratio"]))
