"""Does a piece of code parse in its language: the one check the v2 rewrite and the quality
measures make of a text after (and before) a rewrite.

It is the parse home's ``check_sources(language, [code], ParseConfig(mode="exact"))``
(:mod:`beam_swallow.languages.parsing`): for Python ``compile(code, "<string>",
"exec")``, the paper's rule and the syntax stage's; for the others the language's
exact parser where a cheap one exists (``gofmt -e``, ``rustfmt``, javac's parser,
...), tree-sitter where none does. A file cut from its repository is parsed, never
compiled: its headers and imports are elsewhere.
"""

from __future__ import annotations

from collections.abc import Collection

from beam_swallow.languages.parsing import ParseConfig, ParseVerdict, check_sources, preflight

__all__ = ["parse_check", "recheck_preflight"]

_EXACT = ParseConfig(mode="exact")


def parse_check(language: str, code: str) -> ParseVerdict:
    """Whether ``code`` parses as ``language`` (a catalog name): ``ok``, the first error
    (``error``) and the ``checker`` that judged. Raises ToolMissing when the language's
    parser is not installed, ToolError when it fails to answer."""
    [verdict] = check_sources(language, [code], _EXACT)
    return verdict


def recheck_preflight(languages: Collection[str]) -> None:
    """Raise ToolMissing (one line: tool, language, how to install) when a parser that
    :func:`parse_check` needs for ``languages`` is missing."""
    preflight(list(languages), _EXACT)
