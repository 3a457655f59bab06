"""The docs stay in step with the code: the CLI reference, the floors table, the README's links.

The reference page is generated at build time by ``docs/hooks/reference.py``; these tests
call the same generator, so they need no MkDocs (CI's ``make docs`` builds the site strictly).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path

import pytest

from beam_swallow.cli import PIPELINES, TOOLS, main
from tests.test_layout import LAYERS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _load_reference():
    spec = importlib.util.spec_from_file_location("docs_reference", DOCS / "hooks" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = _load_reference()

# An option line of argparse's --help: two spaces, then the flag (after a short form, if any).
_HELP_FLAG = re.compile(r"^  (?:-\w, )?(--[\w-]+)", re.M)
# A row of the reference's tables: its first cell holds the flags, each in backticks.
_ROW_FLAGS = re.compile(r"`(--[\w-]+)")


def _help_flags(command: str, capsys: pytest.CaptureFixture[str]) -> set[str]:
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    return set(_HELP_FLAG.findall(capsys.readouterr().out)) - {"--help"}


def _reference_flags(section: str) -> set[str]:
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {flag for row in rows for flag in _ROW_FLAGS.findall(row.split(" | ")[0])}


def _sections(text: str) -> dict[str, str]:
    """The reference split at its ``## `` headings: heading -> body."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.fixture(scope="module")
def cli_sections() -> dict[str, str]:
    return _sections(reference.cli_reference())


@pytest.mark.parametrize("command", list(PIPELINES))
def test_every_flag_of_a_pipeline_help_is_in_the_reference(command, capsys, cli_sections):
    (pipelines,) = [body for title, body in cli_sections.items() if title.startswith("Pipelines")]
    assert f"`beam-swallow {command}`" in pipelines
    flags = _help_flags(command, capsys)
    assert len(flags) > 40  # the parse found the options, not an empty page
    assert flags == _reference_flags(pipelines)


@pytest.mark.parametrize("command", list(TOOLS))
def test_every_flag_of_a_tool_help_is_in_the_reference(command, capsys, cli_sections):
    section = cli_sections[f"beam-swallow {command}"]
    assert _help_flags(command, capsys) == _reference_flags(section)


def test_every_tool_has_its_parser_mapped():
    assert set(reference.TOOL_PARSERS) == set(TOOLS)


def test_a_flag_without_help_fails_the_reference():
    parser = argparse.ArgumentParser(prog="beam-swallow demo", description="A tool.")
    parser.add_argument("--documented", help="Has a help line.")
    assert "`--documented DOCUMENTED`" in reference.tool_section("demo", parser)
    parser.add_argument("--silent")
    with pytest.raises(ValueError, match="--silent has no help"):
        reference.tool_section("demo", parser)


def test_help_placeholders_are_expanded():
    parser = argparse.ArgumentParser(prog="beam-swallow demo")
    parser.add_argument("--size", type=int, default=7, help="How many (default %(default)s).")
    assert "How many (default 7)." in reference.tool_section("demo", parser)


def test_the_api_reference_lists_every_stage_and_config():
    from beam_swallow.transforms import STAGES

    api = reference.api_reference()
    stages = re.findall(r"^::: ([\w.]+)\n    options:\n      members: \[(\w+)\]$", api, re.M)
    assert stages == [(stage.__module__, stage.__qualname__) for stage in STAGES]
    assert "::: beam_swallow.linting.config.LintConfig\n" in api
    assert "::: beam_swallow.transforms.decontaminate.DecontamConfig\n" in api
    assert "::: beam_swallow.pipelines.code.run_code\n" in api


def test_the_architecture_floors_are_the_layout_tests():
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    floors: dict[int, set[str]] = {}
    for floor, modules in re.findall(r"^\| (\d+) \| ([^|]+) \|", text, flags=re.M):
        names = {name.removesuffix(".py").rstrip("/") for name in re.findall(r"`([^`]+)`", modules)}
        floors.setdefault(int(floor), set()).update(names)
    assert [floors[level] for level in sorted(floors)] == LAYERS


def _anchors(markdown: str) -> set[str]:
    """The anchors MkDocs gives a page's headings (its default slugs)."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.M)
    return {re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", h).strip().lower()) for h in headings}


def test_readme_links_lead_somewhere():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#([\w-]+))?\)", readme)
    assert len(links) > 20
    for path, anchor in links:
        if "://" in path:
            continue
        target = ROOT / path
        assert target.is_file(), path
        if anchor:
            assert anchor in _anchors(target.read_text(encoding="utf-8")), f"{path}#{anchor}"


def test_readme_stays_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 170, f"README.md has {lines} lines: put the detail on a page in docs/"


# Flags the pages name that belong to other programs: Beam's SDK worker pool (--service_port),
# mkdocs (--strict), pylint (--persistent, --disable), uv (--override), ruff (--isolated,
# --select), gcloud's flex-template commands (--image, --parameters) and llama.cpp's
# llama-server (--alias). Hyphenated flags
# (vLLM's server, chromium) are never ours, whose flags are snake_case.
_OTHER_PROGRAMS = {
    "--alias",
    "--service_port",
    "--strict",
    "--persistent",
    "--disable",
    "--override",
    "--isolated",
    "--select",
    "--image",
    "--parameters",
}
# Misspelt on purpose: the failures page shows what a typo gets.
_TYPOS = {"--min_qualty"}


def _beam_flags() -> set[str]:
    """Every flag of Beam's PipelineOptions classes, the runners' included."""
    import apache_beam.runners.portability.flink_runner  # noqa: F401  (FlinkRunnerOptions)
    import apache_beam.runners.portability.prism_runner  # noqa: F401  (PrismRunnerOptions)
    from apache_beam.options.pipeline_options import PipelineOptions

    classes, flags = [PipelineOptions], set()
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        parser = argparse.ArgumentParser(conflict_handler="resolve")
        cls._add_argparse_args(parser)
        flags.update(flag for action in parser._actions for flag in action.option_strings)
    return flags


def test_every_flag_the_pages_name_exists():
    ours = set(_ROW_FLAGS.findall(reference.cli_reference()))
    known = ours | _beam_flags() | _OTHER_PROGRAMS | _TYPOS
    pages = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    named = {
        (page.name, flag)
        for page in pages
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9_]*)(?![\w-])", page.read_text("utf-8"))
    }
    assert len(named) > 100
    assert sorted((page, flag) for page, flag in named if flag not in known) == []
