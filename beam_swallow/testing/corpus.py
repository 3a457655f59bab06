"""A large code corpus from the Python installation, for memory and scale runs.

Real code written by others, read at run time (nothing of it is stored in
this repository): every ``.py`` file of the running interpreter's standard
library and of its ``site-packages``, in sorted order. A file of at most
``max_bytes`` is one document; a larger one gives one document per top-level
function or class definition (decorators included) of at most ``max_bytes``,
since whole large files would make a 500k-document run a test of ``compile()``
and ``tokenize`` speed, not of the shuffles. Files that are not UTF-8 are skipped.

Every ``plant_every``-th real document of at least ``MIN_PLANT_BYTES`` is
followed by a planted near copy (:func:`~beam_swallow.testing.planted.near_copy`:
a blank line and one statement added), and once the real documents run out the rest of the corpus
is near copies of them, each with its own added statement. Planted copies carry
``planted_from`` (the original's id), so a run's rejections can be checked
against what was planted. Real files repeat across packages (the empty
``__init__.py`` most of all): those are found as duplicates too, unplanted.
"""

from __future__ import annotations

import ast
import itertools
import json
import random
import site
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, TextIO

from beam_swallow.testing.planted import near_copy

__all__ = ["CorpusStats", "python_sources", "real_documents", "write_corpus"]

SEED = 18
MIN_PLANT_BYTES = 200


class CorpusStats(NamedTuple):
    """What :func:`write_corpus` wrote: documents in all, real ones, planted copies, bytes."""

    documents: int
    real: int
    planted: int
    text_bytes: int


def python_sources() -> list[Path]:
    """Every ``.py`` file of the standard library and of ``site-packages``, sorted."""
    roots = [Path(sysconfig.get_paths()["stdlib"]), *map(Path, site.getsitepackages())]
    files = set()
    for root in roots:
        files.update(p for p in root.rglob("*.py") if p.is_file())
    return sorted(files)


def _definitions(text: str, max_bytes: int) -> Iterator[str]:
    """The top-level function and class definitions of ``text`` of at most ``max_bytes``."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    lines = text.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            unit = "".join(lines[start : node.end_lineno])
            if 0 < len(unit.encode("utf-8", "surrogatepass")) <= max_bytes:
                yield unit


def real_documents(max_bytes: int) -> Iterator[dict]:
    """Records ``{"id", "text", "path"}`` from :func:`python_sources`, in a fixed order."""
    for path in python_sources():
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if len(text.encode("utf-8", "surrogatepass")) <= max_bytes:
            units = [text]
        else:
            units = list(_definitions(text, max_bytes))
        for number, unit in enumerate(units):
            yield {"id": f"{path}#{number}", "text": unit, "path": str(path)}


def write_corpus(
    path: Path, documents: int, max_bytes: int = 4_000, plant_every: int = 10
) -> CorpusStats:
    """Write ``documents`` records as JSONL to ``path``, streaming (never all in memory).

    Copies are planted only of documents of at least ``MIN_PLANT_BYTES``: one added
    statement is a large share of a smaller one, whose copy is then no near duplicate.

    Raises:
        ValueError: copies are needed and no document is large enough to copy.
    """
    rng = random.Random(SEED)
    real = planted = text_bytes = eligible = 0

    def copy_of(record: dict) -> dict:
        return {
            "id": f"{record['id']}~{planted}",
            "text": near_copy(record["text"], rng),
            "path": record["path"],
            "planted_from": record["id"],
        }

    def emit(out: TextIO, record: dict) -> None:
        nonlocal text_bytes
        out.write(json.dumps(record) + "\n")
        text_bytes += len(record["text"].encode("utf-8", "surrogatepass"))

    with path.open("w", encoding="utf-8") as out:
        for record in real_documents(max_bytes):
            if real + planted >= documents:
                break
            emit(out, record)
            real += 1
            if len(record["text"]) >= MIN_PLANT_BYTES:
                eligible += 1
                if eligible % plant_every == 0 and real + planted < documents:
                    emit(out, copy_of(record))
                    planted += 1
    if real + planted < documents and not eligible:
        raise ValueError(
            f"no Python file of {MIN_PLANT_BYTES} bytes or more to copy in this installation"
        )
    with path.open("a", encoding="utf-8") as out:  # past the real ones: copies of them only
        while real + planted < documents:
            out.flush()
            with path.open(encoding="utf-8") as written:
                for line in itertools.islice(written, real + planted):
                    record = json.loads(line)
                    if "planted_from" in record or len(record["text"]) < MIN_PLANT_BYTES:
                        continue
                    if real + planted >= documents:
                        break
                    emit(out, copy_of(record))
                    planted += 1
    return CorpusStats(real + planted, real, planted, text_bytes)
