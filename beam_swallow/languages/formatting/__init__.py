"""Each language's formatter: which tool, its version, a batch of sources through it.

| language | formatter |
|---|---|
| Python | ruff format (``--isolated``) |
| C, C++, Cuda | clang-format ``--style=LLVM`` (files with unbalanced brackets refused first) |
| Go | gofmt |
| Rust | rustfmt ``--edition 2021`` |
| JavaScript, TypeScript, TSX | Biome (Prettier's style, 2-space indent) |
| Java | google-java-format |
| Shell | shfmt ``-ln bash`` |
| PHP, Ruby, C#, Kotlin, Swift | none: passes unchanged |

:func:`format_sources` formats a batch of one language's sources with one run
of its tool (a batch of files in a private folder; :mod:`.batch`), each
source's outcome the text the tool's CLI writes for that file alone or the
tool's reason for refusing it. :func:`formatter_label` is what records carry
as ``formatter`` (tool and version: ``"gofmt go1.26.8"``, or ``"none"``).
:func:`preflight` checks, before a run reads anything, that the tools its
languages need are installed and start. Each tool lives in a module of its
own here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from types import MappingProxyType

from beam_swallow.languages.catalog import names
from beam_swallow.languages.formatting.batch import FormatConfig, FormatOutcome
from beam_swallow.languages.formatting.biome import Biome
from beam_swallow.languages.formatting.clang_format import ClangFormat
from beam_swallow.languages.formatting.formatter import NO_FORMATTER, Formatter, Unformatted
from beam_swallow.languages.formatting.gofmt import Gofmt
from beam_swallow.languages.formatting.google_java_format import GoogleJavaFormat
from beam_swallow.languages.formatting.ruff import Ruff
from beam_swallow.languages.formatting.rustfmt import Rustfmt
from beam_swallow.languages.formatting.shfmt import Shfmt
from beam_swallow.languages.tools import ToolError, ToolMissing

__all__ = [
    "FORMATTERS",
    "NO_FORMATTER",
    "FormatConfig",
    "FormatOutcome",
    "Formatter",
    "format_sources",
    "formatter_label",
    "formatter_of",
    "preflight",
]

_NONE = Unformatted()

FORMATTERS: Mapping[str, Formatter] = MappingProxyType(
    {
        "Python": Ruff(),
        "C": ClangFormat(".c"),
        "C++": ClangFormat(".cpp"),
        "Cuda": ClangFormat(".cu"),
        "Go": Gofmt(),
        "Rust": Rustfmt(),
        "JavaScript": Biome(".jsx", ".cjs"),
        "TypeScript": Biome(".ts", ".cts"),
        "TSX": Biome(".tsx", None),
        "Java": GoogleJavaFormat(),
        "Shell": Shfmt(),
        "PHP": _NONE,
        "Ruby": _NONE,
        "C#": _NONE,
        "Kotlin": _NONE,
        "Swift": _NONE,
    }
)


def formatter_of(language: str) -> Formatter:
    """The formatter of ``language`` (a catalog name, e.g. ``"C++"``); ValueError for a
    name the catalog does not hold."""
    try:
        return FORMATTERS[language]
    except KeyError:
        raise ValueError(f"no such language: {language!r} (known: {', '.join(names())})") from None


def formatter_label(language: str) -> str:
    """The tool and version that format ``language``, as records carry it: ``"gofmt
    go1.26.8"``, ``"none"``. Raises ToolMissing or ToolError when the tool is absent or
    does not run."""
    return formatter_of(language).label()


def format_sources(language: str, sources: Sequence[str], cfg: FormatConfig) -> list[FormatOutcome]:
    """Each source of ``language`` formatted (the text the tool's CLI writes for it alone)
    or refused (``error``, the tool's message), in order, with one run of the tool over
    the batch. Raises ToolError (ToolMissing when absent) when the tool fails the batch:
    a crash, ``cfg.timeout_s`` exceeded (the tool is killed), output it cannot place."""
    return formatter_of(language).format(sources, cfg)


def preflight(languages: Collection[str]) -> None:
    """Check that the formatter of each language is installed and reports its version.

    Raises ToolMissing with one line naming the tool, the language that needs it and
    how to install it, for the first language whose tool is missing or does not run.
    """
    for language in sorted(languages):
        try:
            formatter_label(language)
        except ToolError as exc:
            raise ToolMissing(f"format ({language}): {exc}") from exc
