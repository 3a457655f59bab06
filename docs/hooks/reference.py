"""MkDocs hook: the reference pages, generated from the code at every build.

Two markers in a page's Markdown are replaced before it is rendered:

- ``<!-- cli-reference -->``: every ``beam-swallow`` command with each of its flags (name,
  value, default, choices, help), read from the same argparse parsers the commands parse
  with: the pipeline commands' (``SwallowOptions._add_argparse_args``, as ``cli.py`` builds
  it; the three share them, so they are listed once) and each tool's ``_parser()``. A flag without a help line raises ``ValueError``, which
  fails the build.
- ``<!-- api-reference -->``: mkdocstrings directives (``::: module.Name``) for the public
  Python API: the pipeline entry points, every stage class in ``transforms.STAGES``, the
  shared stage plumbing, and every ``*Config`` dataclass in the package (found in the
  source, so a new config appears without an edit here).

``tests/test_docs.py`` imports this module to check that every flag ``--help`` prints is in
the generated reference.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # document this tree's code, not an installed copy's
    sys.path.insert(0, str(ROOT))

CLI_MARKER = "<!-- cli-reference -->"
API_MARKER = "<!-- api-reference -->"

# Each tool subcommand of cli.TOOLS -> the module whose _parser() builds its flags.
TOOL_PARSERS = {
    "lint-score": "beam_swallow.lint_score",
    "report": "beam_swallow.reporting.rebuild",
    "inspect": "beam_swallow.reporting.journey",
    "plan": "beam_swallow.reporting.plan",
}

# API entries that are not found by rule: entry points and the plumbing every stage shares.
API_FIXED = (
    (
        "Pipelines",
        (
            "beam_swallow.pipelines.code.run_code",
            "beam_swallow.pipelines.math.run_math",
            "beam_swallow.pipelines.dedup.run_dedup",
        ),
    ),
    (
        "Stage plumbing",
        (
            "beam_swallow.stage.StageResult",
            "beam_swallow.stage.RecordStage",
            "beam_swallow.records.Reason",
            "beam_swallow.records.ErrorKind",
        ),
    ),
)


def pipeline_parser(name: str) -> argparse.ArgumentParser:
    """The parser of pipeline command ``name``, built as ``cli.py`` builds it."""
    from beam_swallow.cli import _BEAM_OPTIONS_NOTE, PIPELINES
    from beam_swallow.options import SwallowOptions

    parser = argparse.ArgumentParser(
        prog=f"beam-swallow {name}", description=PIPELINES[name][0], epilog=_BEAM_OPTIONS_NOTE
    )
    SwallowOptions._add_argparse_args(parser)
    return parser


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand's parser, in ``beam-swallow --help`` order.

    Raises ``KeyError`` for a tool in ``cli.TOOLS`` that :data:`TOOL_PARSERS` does not map,
    so a new tool cannot go undocumented.
    """
    from beam_swallow.cli import PIPELINES, TOOLS

    parsers = {name: pipeline_parser(name) for name in PIPELINES}
    for name in TOOLS:
        module = importlib.import_module(TOOL_PARSERS[name])
        parsers[name] = module._parser()
    return parsers


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The action's help as ``--help`` prints it (``%(default)s`` and the like expanded)."""
    if not action.help or not action.help.strip():
        names = "/".join(action.option_strings) or action.dest
        raise ValueError(f"{parser.prog}: flag {names} has no help line")
    params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
    params["prog"] = parser.prog
    if params.get("choices") is not None:
        params["choices"] = ", ".join(str(c) for c in params["choices"])
    return action.help % params


def _default(action: argparse.Action) -> str:
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        return "off" if action.default is False else "on"
    if action.default in (None, argparse.SUPPRESS) or action.required:
        return "required" if action.required else ""
    return f"`{action.default}`"


def _flag(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    value = "" if action.nargs == 0 else f" {action.metavar or action.dest.upper()}"
    return ", ".join(f"`{name}{value}`" for name in action.option_strings)


def _groups(parser: argparse.ArgumentParser, heading: str) -> list[str]:
    """One table per argument group of ``parser``: flag, default, help (as ``--help`` has it)."""
    lines = []
    for group in parser._action_groups:
        actions = [
            a
            for a in group._group_actions
            if a.help is not argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)
        ]
        if not actions:
            continue
        lines += [f"{heading} {group.title}", "", "| flag | default | what |", "|---|---|---|"]
        for action in actions:
            what = _help(parser, action)
            if action.choices is not None and "choices" not in (action.help or ""):
                what += f" One of: {', '.join(f'`{c}`' for c in action.choices)}."
            lines.append(f"| {_flag(action)} | {_default(action)} | {_cell(what)} |")
        lines.append("")
    return lines


def pipelines_section() -> str:
    """The pipeline commands: what each does, then their flags, which they share, once."""
    from beam_swallow.cli import PIPELINES

    lines = ["## Pipelines: " + ", ".join(f"`{name}`" for name in PIPELINES), ""]
    lines += [f"- `beam-swallow {name}`: {summary}" for name, (summary, _) in PIPELINES.items()]
    lines.append("")
    parsers = [pipeline_parser(name) for name in PIPELINES]
    lines += _groups(parsers[0], "###")
    if parsers[0].epilog:
        lines += [_cell(parsers[0].epilog) + ".", ""]
    return "\n".join(lines)


def tool_section(name: str, parser: argparse.ArgumentParser) -> str:
    """One tool command's section: its description, then its flags."""
    lines = [f"## beam-swallow {name}", "", _cell(parser.description or ""), ""]
    return "\n".join(lines + _groups(parser, f"### {name}:"))


def cli_reference() -> str:
    """The whole CLI reference: the pipelines' flags, then each tool's, in ``--help`` order."""
    from beam_swallow.cli import TOOLS

    parsers = command_parsers()
    return "\n".join([pipelines_section(), *(tool_section(name, parsers[name]) for name in TOOLS)])


def _configs() -> list[str]:
    """Dotted names of every top-level ``*Config`` class in the package's source."""
    found = []
    for path in sorted((ROOT / "beam_swallow").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef) and node.name.endswith("Config"):
                found.append(f"{module}.{node.name}")
    return found


def _directive(name: str, with_module: bool) -> str:
    """A mkdocstrings directive for ``module.Name``.

    ``with_module`` shows the object under its module's docstring: a stage's module docstring
    holds its rules, exits and counters, where the class's own says only what it is.
    """
    if not with_module:
        return f"::: {name}\n"
    module, member = name.rsplit(".", 1)
    return f"::: {module}\n    options:\n      members: [{member}]\n"


def api_reference() -> str:
    """mkdocstrings directives for the public API, grouped under headings."""
    from beam_swallow.transforms import STAGES

    groups = [
        *((title, names, False) for title, names in API_FIXED),
        ("Stages", tuple(f"{c.__module__}.{c.__qualname__}" for c in STAGES), True),
        ("Configs", tuple(_configs()), False),
    ]
    lines = []
    for title, names, with_module in groups:
        lines += [f"## {title}", "", *(_directive(name, with_module) for name in names)]
    return "\n".join(lines)


# Sphinx roles in docstrings (:class:`~pkg.Name`), as Markdown renders them: role text, then code.
_ROLE = re.compile(r":(?:class|mod|func|meth|attr|data|exc|obj):<code>(~?)([^<]+)</code>")


def on_page_content(html: str, page: Page, **_: object) -> str:
    """MkDocs event: on the API page, show Sphinx roles as plain code (``Name``, not ``:class:``)."""
    if page.file.src_uri != "reference/api.md":
        return html

    def code(match: re.Match[str]) -> str:  # ~pkg.mod.Name reads Name, as in Sphinx
        target = match.group(2)
        return f"<code>{target.rsplit('.', 1)[-1] if match.group(1) else target}</code>"

    return _ROLE.sub(code, html)


def on_page_markdown(markdown: str, **_: object) -> str:
    """MkDocs event: fill in the markers of a reference page."""
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if API_MARKER in markdown:
        markdown = markdown.replace(API_MARKER, api_reference())
    return markdown
