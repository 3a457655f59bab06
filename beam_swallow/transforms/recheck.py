"""Does a piece of code parse in its language: the one check the v2 rewrite and the quality
measures make of a text after (and before) a rewrite.

- Python: ``compile(code, "<string>", "exec")``, the paper's rule and the
  syntax stage's (:func:`~beam_swallow.transforms.syntax.compile_verdict`).
- Every other language: the parse home's ``check_sources(language, [code],
  ParseConfig(mode="exact"))`` (:mod:`beam_swallow.languages.parsing`): the
  language's exact parser where a cheap one exists (``gofmt -e``, ``rustfmt``,
  javac's parser, ...), tree-sitter where none does. A file cut from its
  repository is parsed, never compiled: its headers and imports are elsewhere.

A build without the parse home (:func:`parsing_home` is None) checks Python
only: a rewrite in another language then fails its check with
:class:`~beam_swallow.languages.tools.ToolMissing`, which makes the record a
dead letter (``tool_missing``), never a verdict.
"""

from __future__ import annotations

import platform
from collections.abc import Collection
from dataclasses import dataclass
from types import ModuleType

from beam_swallow.languages import PYTHON
from beam_swallow.languages.tools import ToolMissing
from beam_swallow.transforms.syntax import compile_verdict

__all__ = ["ParseCheck", "parse_check", "parsing_home", "recheck_preflight"]

_COMPILE = f"compile() CPython {platform.python_version()}"


@dataclass(frozen=True)
class ParseCheck:
    """A text's verdict: ``ok``; ``error`` (``""`` when ok; else the first error, with its
    1-based ``line:column`` where the parser gives one); ``checker``, the tool and
    version that judged (``"gofmt go1.26.8"``, ``"compile() CPython 3.11.7"``)."""

    ok: bool
    error: str
    checker: str


def parsing_home() -> ModuleType | None:
    """:mod:`beam_swallow.languages.parsing` (the languages' parsers), or None in a build
    that does not have it yet."""
    try:
        from beam_swallow.languages import parsing
    except ImportError:
        return None
    return parsing


def parse_check(language: str, code: str) -> ParseCheck:
    """Whether ``code`` parses as ``language`` (a catalog name); raises ToolMissing when
    the language's parser is not installed."""
    if language == PYTHON.name:
        reason, error = compile_verdict(code)
        return ParseCheck(reason is None, error, _COMPILE)
    parsing = parsing_home()
    if parsing is None:
        raise ToolMissing(
            f"no parser for {language} in this build (beam_swallow.languages.parsing)"
        )
    [verdict] = parsing.check_sources(language, [code], parsing.ParseConfig(mode="exact"))
    if verdict.ok:
        return ParseCheck(True, "", verdict.checker)
    where = f"{verdict.line}:{verdict.column}: " if verdict.line is not None else ""
    return ParseCheck(False, f"{where}{verdict.message}", verdict.checker)


def recheck_preflight(languages: Collection[str]) -> None:
    """Raise ToolMissing (one line: tool, language, how to install) when a parser that
    :func:`parse_check` needs for ``languages`` is missing."""
    others = [language for language in languages if language != PYTHON.name]
    parsing = parsing_home()
    if others and parsing is not None:
        parsing.preflight(others, parsing.ParseConfig(mode="exact"))
