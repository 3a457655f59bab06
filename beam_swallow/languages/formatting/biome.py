"""JavaScript, TypeScript and TSX: Biome's formatter, one native process over a batch.

Biome (``@biomejs/biome``, pinned in ``templates/tools/package.json`` and
installed by ``make tools``) formats in Prettier's style; it was chosen over
Prettier itself for speed (``bench/format_languages.py``: 12 to 17 times
Prettier's API in a warm Node process, 33 to 51 times its CLI over a folder,
on the same files). Its native binary
is called directly (the npm package's ``biome`` is a Node script that starts
it: a Node start per call).

``biome format --write --reporter=json 0.jsx 1.jsx ...`` in a private folder
that holds our ``biome.json`` (:data:`BIOME_CONFIG`: Prettier's 2-space
indent instead of Biome's tabs, no EditorConfig, no version control, no size
limit), so no configuration elsewhere applies and what it writes equals
``biome format --stdin-file-path=x.jsx`` with that configuration. Errors come
back as JSON diagnostics, each naming its file.

Biome parses a ``.js``/``.ts`` file as an ES module, in which sloppy-mode
scripts (``with``, legacy octals, ``protected`` as a name) do not parse, and
``.js`` without JSX. So JavaScript is written as ``.jsx`` (a module, JSX
allowed) and TypeScript as ``.ts``; a file that does not parse so is tried
again as a script (``.cjs``, ``.cts``), as Prettier's Babel parser falls back
from module to script. TSX has no script form. A file neither form parses is
refused with the first error of each (``as a module: 3:7: ...; as a script:
...``; one message when both forms fail alike).
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path

from beam_swallow.languages.formatting.batch import (
    FormatConfig,
    FormatOutcome,
    Refusals,
    format_in_folder,
)
from beam_swallow.languages.formatting.formatter import Formatter
from beam_swallow.languages.tools import ToolError, find_tool, run_tool, tool_version, tools_home

__all__ = ["BIOME_CONFIG", "Biome", "biome_binary"]

INSTALL = "make tools (npm's @biomejs/biome)"
BIOME_CONFIG = {
    "formatter": {"indentStyle": "space", "useEditorconfig": False},
    "files": {"maxSize": 1 << 30},
    "vcs": {"enabled": False},
}
BIOME_ARGS = ("format", "--write", "--reporter=json", "--max-diagnostics=none", "--colors=off")
_ARCH = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}
_REFUSED = 1


def biome_binary() -> str:
    """``$BEAM_SWALLOW_BIOME``, else the native binary of the npm package for this machine
    (``@biomejs/cli-<os>-<arch>``), else ``biome`` as
    :func:`~beam_swallow.languages.tools.find_tool` finds it."""
    if "BEAM_SWALLOW_BIOME" not in os.environ:
        system = platform.system().lower()
        arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
        package = tools_home() / "node" / "node_modules" / "@biomejs" / f"cli-{system}-{arch}"
        if (package / "biome").is_file():
            return str(package / "biome")
    return find_tool("biome", INSTALL)


def _refusals(stdout: str, names: Sequence[str]) -> Refusals:
    """Each refused file's first parse error (else its first error) in Biome's JSON report;
    ToolError when the report cannot be read or names a file not of the batch."""
    try:
        diagnostics = json.loads(stdout)["diagnostics"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ToolError(f"biome wrote no JSON report: {stdout[:500]!r}") from exc
    wanted = set(names)
    first: Refusals = {}
    parse: Refusals = {}
    for diagnostic in diagnostics:
        if diagnostic.get("severity") not in ("error", "fatal"):
            continue
        location = diagnostic.get("location") or {}
        name = Path(str(location.get("path", ""))).name
        if name not in wanted:
            raise ToolError(f"biome: {diagnostic.get('message')} ({location.get('path')})")
        start = location.get("start") or {}
        message = f"{start.get('line', 0)}:{start.get('column', 0)}: {diagnostic.get('message')}"
        first.setdefault(name, message)
        if diagnostic.get("category") == "parse":
            parse.setdefault(name, message)
    return {name: parse.get(name, message) for name, message in first.items()}


class Biome(Formatter):
    """Biome for a language written as ``suffix`` files, tried again as ``script_suffix``
    files where it has a script form (see the module docstring)."""

    def __init__(self, suffix: str, script_suffix: str | None) -> None:
        self.suffix = suffix
        self.script_suffix = script_suffix

    def command(self) -> list[str]:
        return [biome_binary()]

    def label(self) -> str:
        [biome] = self.command()
        return "biome " + tool_version((biome, "--version")).removeprefix("Version:").strip()

    def format(self, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
        outcomes = self._batch(sources, self.suffix, cfg)
        if self.script_suffix is None:
            return outcomes
        again = [index for index, outcome in enumerate(outcomes) if outcome.text is None]
        if again:
            scripts = self._batch([sources[index] for index in again], self.script_suffix, cfg)
            for index, script in zip(again, scripts, strict=True):
                module = outcomes[index].error
                if script.text is None and script.error != module:
                    script = FormatOutcome(
                        None, f"as a module: {module}; as a script: {script.error}"
                    )
                outcomes[index] = script
        return outcomes

    def _batch(self, sources: Sequence[str], suffix: str, cfg: FormatConfig) -> list[FormatOutcome]:
        biome = self.command()

        def run(folder: Path, names: list[str]) -> Refusals:
            (folder / "biome.json").write_text(json.dumps(BIOME_CONFIG), encoding="utf-8")
            args = [*biome, *BIOME_ARGS, f"--config-path={folder}", *names]
            done = run_tool(args, cwd=folder, timeout_s=cfg.timeout_s)
            if done.returncode == 0:
                return {}
            refusals = _refusals(done.stdout, names)
            if done.returncode != _REFUSED or not refusals:
                raise ToolError(f"biome exited {done.returncode}: {done.stderr.strip()[:2000]}")
            return refusals

        return format_in_folder(sources, suffix, run, tool="biome")
