"""Java: google-java-format, one JVM over a batch of files.

The all-deps jar from Maven Central (``make tools`` puts it under
:func:`~beam_swallow.languages.tools.tools_home`), run by the ``java`` on
``PATH`` (17 or later). It parses with javac's own parser, which on Java 16+
it may reach only through ``--add-exports`` of ``jdk.compiler``'s packages;
so the syntax it takes is that of the running JDK, and the label names both
(``google-java-format 1.28.0 (openjdk 17.0.15)``).

A JVM costs about 0.8 s to start, more than formatting a file, so one JVM
formats a whole batch: ``java -jar ... --replace 0.java 1.java ...`` in a
private folder (google-java-format spreads the files over its threads). It
has no configuration, so what it writes equals ``java -jar ... -`` on one
file's stdin. A file it cannot parse is named on stderr (``3.java:12:5:
error: ';' expected``, then the source line and a caret): refused with its
first error, the file name removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from beam_swallow.languages.formatting.batch import (
    FormatConfig,
    FormatOutcome,
    Refusals,
    format_in_folder,
)
from beam_swallow.languages.formatting.formatter import Formatter
from beam_swallow.languages.tools import (
    ToolError,
    ToolMissing,
    find_tool,
    run_tool,
    tool_version,
    tools_home,
)

__all__ = ["GJF_VERSION", "JAVA_ARGS", "GoogleJavaFormat", "jar_path"]

GJF_VERSION = "1.28.0"  # the newest that runs on Java 17; the Makefile's GJF_VERSION
JAVA_INSTALL = "install a Java runtime, 17 or later (apt-get install openjdk-17-jre-headless)"
# google-java-format's own documentation gives these for Java 16 and later.
JAVA_ARGS = tuple(
    f"--add-exports=jdk.compiler/com.sun.tools.javac.{package}=ALL-UNNAMED"
    for package in ("api", "code", "file", "parser", "tree", "util")
)
_REFUSED = 1
_ERROR = re.compile(r"^(?P<name>[^:\s]+\.java):(?P<message>\d+:\d+: error: .*)$")
# the JVM's own notes: JAVA_TOOL_OPTIONS or the like set, deprecations of newer JDKs
_JVM_NOTE = ("Picked up ", "WARNING: ")
_CRASH = re.compile(r"^(?:Exception in thread|\tat |Caused by: |Error: )")


def jar_path() -> Path:
    """Where ``make tools`` puts google-java-format's all-deps jar."""
    return tools_home() / "java" / f"google-java-format-{GJF_VERSION}-all-deps.jar"


def _refusals(stderr: str, names: Sequence[str]) -> Refusals:
    """The first error of each file google-java-format names; ToolError on any line that
    is neither an error nor the source excerpt that follows one."""
    wanted = set(names)
    refusals: Refusals = {}
    in_error = False
    for line in stderr.splitlines():
        found = _ERROR.match(line)
        if found and found["name"] in wanted:
            refusals.setdefault(found["name"], found["message"].replace(" error:", "", 1))
            in_error = True
        elif line.startswith(_JVM_NOTE) or not line.strip():
            continue
        elif not in_error or _CRASH.match(line):
            raise ToolError(f"google-java-format failed: {stderr.strip()[:2000]}")
    return refusals


class GoogleJavaFormat(Formatter):
    """google-java-format (see the module docstring)."""

    def command(self) -> list[str]:
        java = find_tool("java", JAVA_INSTALL)
        jar = jar_path()
        if not jar.is_file():
            raise ToolMissing(f"google-java-format {GJF_VERSION} is not installed: make tools")
        return [java, *JAVA_ARGS, "-jar", str(jar)]

    def label(self) -> str:
        command = self.command()
        # "google-java-format: Version 1.28.0"; "openjdk 17.0.15 2025-04-15"
        version = tool_version((*command, "--version")).rsplit(" ", 1)[-1]
        runtime = " ".join(tool_version((command[0], "--version")).split()[:2])
        return f"google-java-format {version} ({runtime})"

    def format(self, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
        command = self.command()

        def run(folder: Path, names: list[str]) -> Refusals:
            done = run_tool([*command, "--replace", *names], cwd=folder, timeout_s=cfg.timeout_s)
            if done.returncode == 0:
                return {}
            refusals = _refusals(done.stderr, names)
            if done.returncode != _REFUSED or not refusals:
                raise ToolError(
                    f"google-java-format exited {done.returncode}: {done.stderr.strip()[:2000]}"
                )
            return refusals

        return format_in_folder(sources, ".java", run, tool="google-java-format")
