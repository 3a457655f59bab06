"""Which language a record is, decided once, when the code pipeline reads it.

The rule (docs, Inputs and outputs: "A record's language"):

1. the label field (``--language_field``, default ``language``: The Stack v2's
   column, GitHub linguist's names), matched with :func:`~beam_swallow.languages.catalog.by_label`;
2. else the extension of the path field (``--path_field``, default ``path``),
   matched with :func:`~beam_swallow.languages.catalog.by_extension`; a label
   wins over an extension, since a ``.h`` file may be C, C++ or Objective-C and
   only its label (linguist reads the content) says which;
3. else the run's ``--language`` (default ``Python``), also for a path without
   an extension (``Makefile``, ``.bashrc``).

A label or an extension the catalog does not know is rejected
``unsupported_language`` (``error`` names it): a file is never taken for
Python because its language is unknown. A known language the run does not take
(``--languages``) is rejected ``other_language``. A record that passes carries
``language``, the catalog's spelling of its language (``cuda`` becomes
``Cuda``); a rejected one carries it too when its language is known, so the
report counts it under its language.

The math and dedup pipelines do not route by language.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from beam_swallow.languages.catalog import PYTHON, Language, by_extension, by_label, names
from beam_swallow.records import LANGUAGE, Reason, Record, Reject

__all__ = [
    "DEFAULT_LANGUAGE",
    "LABEL_FIELD",
    "PATH_FIELD",
    "LanguageRouting",
    "add_language_arguments",
    "canonical_names",
    "comma_separated",
    "extension_of",
    "record_language",
]

LABEL_FIELD = "language"  # The Stack v2's column of linguist's names
PATH_FIELD = "path"
DEFAULT_LANGUAGE = PYTHON.name  # SwallowCode's language, and the paper's

_SEPARATORS = re.compile(r"[/\\]")


def comma_separated(value: str) -> list[str]:
    """A comma-separated flag value, ``"Python, Go"``, as a list of its non-blank parts."""
    # a list, not a tuple: Beam 2.62 cannot put a tuple into the options it sends a runner
    return [name.strip() for name in value.split(",") if name.strip()]


def canonical_names(given: list[str] | tuple[str, ...], flag: str) -> tuple[str, ...]:
    """The catalog's names for ``given`` (any case), in the order given, without repeats;
    ValueError naming ``flag`` and the known names for a name the catalog lacks."""
    found: list[str] = []
    for name in given:
        language = by_label(name)
        if language is None:
            raise ValueError(
                f"{flag}: {name!r} is not a language beam-swallow reads; the languages are "
                f"{', '.join(names())}"
            )
        if language.name not in found:
            found.append(language.name)
    return tuple(found)


def extension_of(path: str) -> str:
    """The extension of a path's last part, lower case with its dot (``""`` for none):
    ``"src/Main.JAVA"`` -> ``".java"``, ``"Makefile"`` and ``".bashrc"`` -> ``""``."""
    name = _SEPARATORS.split(path)[-1]
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not extension:
        return ""
    return "." + extension.lower()


def record_language(record: Record) -> Language:
    """The language the read stage gave ``record`` (its ``language``); Python for a
    record without one (made by hand, as in a test, or by a pipeline that does not route).

    Raises ValueError for a ``language`` the catalog does not know: the read stage
    rejects such records, so one that reaches a stage is broken, never treated as Python.
    """
    value = record.get(LANGUAGE)
    if value is None:
        return PYTHON
    language = by_label(value) if isinstance(value, str) else None
    if language is None:
        raise ValueError(f"language {value!r} is not one the catalog knows")
    return language


@dataclass(frozen=True)
class LanguageRouting:
    """How the read stage decides each record's language, and which languages the run takes.

    ``default`` (``--language``) and ``languages`` (``--languages``) are
    matched to the catalog's names, any case; ValueError for a name it lacks,
    for an empty ``languages``, or for a ``default`` the run does not take.
    """

    label_field: str = LABEL_FIELD
    path_field: str = PATH_FIELD
    default: str = DEFAULT_LANGUAGE
    languages: tuple[str, ...] = names()

    def __post_init__(self) -> None:
        if not self.label_field or not self.path_field:
            raise ValueError("--language_field and --path_field must not be empty")
        (default,) = canonical_names([self.default], "--language")
        languages = canonical_names(self.languages, "--languages")
        if not languages:
            raise ValueError("--languages takes at least one language")
        object.__setattr__(self, "default", default)
        object.__setattr__(self, "languages", languages)

    def language_of(self, record: Record) -> Language | Reject:
        """The record's language by the module's rule, or its rejection ``unsupported_language``."""
        label: Any = record.get(self.label_field)
        if isinstance(label, str) and label.strip():
            language = by_label(label)
            if language is None:
                return _unsupported(
                    f"language label {label!r} is not a language beam-swallow reads"
                )
            return language
        if label is not None and not isinstance(label, str):
            return _unsupported(f"language label {label!r} is not a name")
        path = record.get(self.path_field)
        extension = extension_of(path) if isinstance(path, str) else ""
        if extension:
            language = by_extension(extension)
            if language is None:
                return _unsupported(
                    f"extension {extension!r} of {path!r} is not a language beam-swallow reads"
                )
            return language
        found = by_label(self.default)
        assert found is not None  # checked in __post_init__
        return found

    def judge(self, record: Record) -> Record | Reject:
        """The record with ``language`` set, or its rejection (``unsupported_language``,
        ``other_language``)."""
        language = self.language_of(record)
        if isinstance(language, Reject):
            return language
        if language.name not in self.languages:
            return Reject(Reason.OTHER_LANGUAGE, {LANGUAGE: language.name})
        return {**record, LANGUAGE: language.name}


def _unsupported(error: str) -> Reject:
    return Reject(Reason.UNSUPPORTED_LANGUAGE, {"error": error})


def add_language_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of :class:`LanguageRouting` (``beam-swallow code``), one group."""
    group = parser.add_argument_group("languages (code pipeline; docs: Inputs and outputs)")
    group.add_argument(
        "--language_field",
        default=LABEL_FIELD,
        help="Input field holding each record's language as GitHub linguist names it "
        f"(Python, C++, Go, ...; any case; default '{LABEL_FIELD}', The Stack v2's column). "
        "It wins over the path's extension; a label of no known language is rejected "
        "'unsupported_language'.",
    )
    group.add_argument(
        "--path_field",
        default=PATH_FIELD,
        help="Input field holding the file's path, whose extension gives the language of a "
        f"record without a label (default '{PATH_FIELD}'); an extension of no known language "
        "is rejected 'unsupported_language'.",
    )
    group.add_argument(
        "--language",
        default=None,
        help="The language of records with neither a label nor a path with an extension "
        f"(default {DEFAULT_LANGUAGE}).",
    )
    group.add_argument(
        "--languages",
        type=comma_separated,
        default=None,
        help="Comma-separated languages the run takes, any case, for every input format; a "
        "record of another known language is rejected 'other_language' at read (for The "
        "Stack v2, before its blob is fetched). Default: with the v1 recipe (the paper's), "
        f"{DEFAULT_LANGUAGE} (or --language), whatever --stages; with --recipe v2, every "
        f"language its stages take, all {len(names())}: {', '.join(names())}.",
    )
