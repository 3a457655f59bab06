"""tree-sitter: one grammar per language, from the pinned single-grammar wheels, in process.

A file is rejected when its tree holds an ``ERROR`` or ``MISSING`` node; the
verdict locates the first of them in document order (1-based line and
column, the column in characters). Grammars come from PyPI's
``tree-sitter-<lang>`` wheels (the ``languages`` extra), which hold the
compiled grammar and need nothing at run time (tree-sitter-language-pack 1.x
downloads its grammars when first used, so it is not used).

Bounds: the caller caps the size (:class:`~.config.ParseConfig` ``max_chars``);
here a parse is given ``timeout_s`` seconds through tree-sitter's progress
callback (tree-sitter 0.25+ calls it only when the source is read through a
callback, as here) and rejected ``too_large`` when it runs out. An aborted
parse leaves its state in the parser, which the next parse would resume (its
tree is then wrong), so the parser is reset at once. Parsers are not
thread-safe: each thread keeps its own, one per language.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from functools import cache
from importlib import metadata

from beam_swallow.languages.parsing.config import ParseVerdict
from beam_swallow.languages.tools import ToolMissing
from beam_swallow.records import Reason

__all__ = ["GRAMMARS", "check_tree_sitter", "grammar", "tree_sitter_checker"]

# language -> (module of its wheel, the function that returns the grammar). Python's is
# not here: compile() judges Python in every mode.
GRAMMARS: dict[str, tuple[str, str]] = {
    "C": ("tree_sitter_c", "language"),
    "C++": ("tree_sitter_cpp", "language"),
    "Cuda": ("tree_sitter_cuda", "language"),
    "Go": ("tree_sitter_go", "language"),
    "Rust": ("tree_sitter_rust", "language"),
    "JavaScript": ("tree_sitter_javascript", "language"),
    "TypeScript": ("tree_sitter_typescript", "language_typescript"),
    "TSX": ("tree_sitter_typescript", "language_tsx"),
    "Java": ("tree_sitter_java", "language"),
    "Shell": ("tree_sitter_bash", "language"),
    "PHP": ("tree_sitter_php", "language_php"),  # PHP with its HTML around, as files are
    "Ruby": ("tree_sitter_ruby", "language"),
    "C#": ("tree_sitter_c_sharp", "language"),
    "Kotlin": ("tree_sitter_kotlin", "language"),
    "Swift": ("tree_sitter_swift", "language"),
}

_INSTALL = "pip install 'beam-swallow[languages]'"
_CHUNK = 1 << 16
_local = threading.local()


@cache
def grammar(language: str):  # -> tree_sitter.Language
    """The tree-sitter grammar of ``language``; raises ToolMissing when its wheel is absent."""
    module_name, function = GRAMMARS[language]
    try:
        import tree_sitter

        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ToolMissing(
            f"tree-sitter's {language} grammar ({exc.name}) is not installed: {_INSTALL}"
        ) from exc
    return tree_sitter.Language(getattr(module, function)())


@cache
def tree_sitter_checker(language: str) -> str:
    """``"tree-sitter 0.26.1 (tree-sitter-go 0.25.0)"``: the library and the grammar's wheel."""
    wheel = GRAMMARS[language][0].replace("_", "-")
    return f"tree-sitter {metadata.version('tree-sitter')} ({wheel} {metadata.version(wheel)})"


def _parser(language: str):  # -> tree_sitter.Parser
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        import tree_sitter

        parser = parsers[language] = tree_sitter.Parser(grammar(language))
    return parser


def _first_error(root):  # -> tree_sitter.Node
    """The first ERROR or MISSING node in document order (the root has an error)."""
    node = root
    while not (node.is_error or node.is_missing):
        for child in node.children:
            if child.has_error or child.is_missing:
                node = child
                break
        else:  # has_error with no child to blame: the node itself
            return node
    return node


def _reader(data: bytes) -> Callable[[int, tuple[int, int]], bytes]:
    return lambda offset, _point: data[offset : offset + _CHUNK]


def _judge(language: str, source: str, timeout_s: float) -> ParseVerdict:
    checker = tree_sitter_checker(language)
    data = source.encode("utf-8", "surrogatepass")
    parser = _parser(language)
    deadline = time.monotonic() + timeout_s
    try:
        tree = parser.parse(
            _reader(data), progress_callback=lambda _offset, _err: time.monotonic() > deadline
        )
    except ValueError:  # tree-sitter's "Parsing failed": the progress callback stopped it
        parser.reset()
        return ParseVerdict.rejected(
            checker, f"not parsed within {timeout_s:g} s", reason=Reason.TOO_LARGE
        )
    root = tree.root_node
    if not root.has_error:
        return ParseVerdict(True, checker)
    node = _first_error(root)
    row, byte_column = node.start_point
    line_start = node.start_byte - byte_column
    column = len(data[line_start : node.start_byte].decode("utf-8", "replace")) + 1
    if node.is_missing:
        message = f"missing {node.type}"
    else:
        near = data[node.start_byte : node.start_byte + 20].decode("utf-8", "replace").strip()
        message = f"syntax error near {near.splitlines()[0]!r}" if near else "syntax error"
    return ParseVerdict.rejected(checker, message, row + 1, column)


def check_tree_sitter(language: str, sources: list[str], timeout_s: float) -> list[ParseVerdict]:
    """One verdict per source, in order; ``timeout_s`` bounds each parse.

    Raises ToolMissing when the language's grammar is not installed.
    """
    return [_judge(language, source, timeout_s) for source in sources]
