"""The languages the code pipeline knows: their names, file extensions and code-fence tags.

A record's language is named as The Stack v2 names it in its ``language`` column:
GitHub linguist's names (``Python``, ``C++``, ``Cuda``, ``TSX``, ...). Those names
are the values of the ``language`` field every output record carries, of
``--language`` and of The Stack v2 reader's ``--languages``; labels are matched
without regard to case (:func:`by_label`).

What each language's files are checked and formatted with lives in the homes of
those tools (:mod:`beam_swallow.languages.parsing`,
:mod:`beam_swallow.languages.formatting`); this table is only what names a language.

Extensions follow linguist's lists for the extensions that are unambiguous. A
``.h`` file may be C, C++ or Objective-C (linguist decides by its content), so a
label wins over it; a ``.h`` without a label is taken for C, linguist's own
fallback for the extension.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LANGUAGES", "PYTHON", "Language", "by_extension", "by_label", "names"]


@dataclass(frozen=True)
class Language:
    """One language: its linguist name, its file extensions (lower case, with the dot),
    and the info strings a Markdown code fence of it may carry (lower case; the first
    is the one our prompts ask for)."""

    name: str
    extensions: tuple[str, ...]
    fences: tuple[str, ...]


PYTHON = Language("Python", (".py", ".pyw", ".pyi"), ("python", "py", "python3"))

LANGUAGES: tuple[Language, ...] = (
    PYTHON,
    Language("C", (".c", ".h"), ("c",)),
    Language(
        "C++",
        (".cpp", ".cc", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".inl", ".tpp"),
        ("cpp", "c++", "cxx", "cc"),
    ),
    Language("Cuda", (".cu", ".cuh"), ("cuda", "cu", "cpp")),
    Language("Go", (".go",), ("go", "golang")),
    Language("Rust", (".rs",), ("rust", "rs")),
    Language("JavaScript", (".js", ".mjs", ".cjs", ".jsx"), ("javascript", "js", "jsx")),
    Language("TypeScript", (".ts", ".mts", ".cts"), ("typescript", "ts")),
    Language("TSX", (".tsx",), ("tsx", "typescript", "ts")),
    Language("Java", (".java",), ("java",)),
    Language("Shell", (".sh", ".bash"), ("bash", "sh", "shell")),
    Language("PHP", (".php",), ("php",)),
    Language("Ruby", (".rb", ".rake", ".gemspec"), ("ruby", "rb")),
    Language("C#", (".cs",), ("csharp", "cs", "c#")),
    Language("Kotlin", (".kt", ".kts"), ("kotlin", "kt")),
    Language("Swift", (".swift",), ("swift",)),
)

_BY_LABEL = {language.name.casefold(): language for language in LANGUAGES}
_BY_EXTENSION = {ext: language for language in LANGUAGES for ext in language.extensions}


def names() -> tuple[str, ...]:
    """Every language's name, in the table's order (Python first)."""
    return tuple(language.name for language in LANGUAGES)


def by_label(label: str) -> Language | None:
    """The language a linguist label names, any case (``"cuda"`` is ``Cuda``); else None."""
    return _BY_LABEL.get(label.strip().casefold())


def by_extension(extension: str) -> Language | None:
    """The language of a file extension (``".rs"``, any case); else None."""
    return _BY_EXTENSION.get(extension.lower())
