"""Programming languages: which language a record is, and the tools that judge and format it.

``catalog`` names the languages (linguist's names, extensions, code-fence
tags); ``routing`` decides each record's language when the code pipeline
reads it (label, extension, default) and which languages a run takes;
``tools`` finds, versions, bounds and keeps warm the external programs
the language homes call. Each concern has a home of its own below this
package: ``parsing`` (is a file well-formed: tree-sitter, and the exact parser
where a cheap one exists) and ``formatting`` (each language's formatter).
"""

from beam_swallow.languages.catalog import (
    LANGUAGES,
    PYTHON,
    Language,
    by_extension,
    by_label,
    names,
)

__all__ = ["LANGUAGES", "PYTHON", "Language", "by_extension", "by_label", "names"]
