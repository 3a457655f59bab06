"""Planted duplicates: real code copied with controlled edits.

Used by the ``dedup`` pipeline's sample (no ``--input``), by the accuracy
tests and by ``bench/dedup.py``. Texts come from the caller (the standard
library's own files); the edits are line-level, like those that separate
forks and vendored copies in the wild: a line deleted, duplicated, an
identifier renamed, a comment inserted. ``rate`` is the share of lines
edited, so a family of copies at increasing rates spans the whole range of
Jaccard similarity, above and below any threshold.
"""

from __future__ import annotations

import random
import re

from beam_swallow.records import Record

__all__ = ["family_corpus", "mutate", "near_copy", "plant_copies"]

_WORD = re.compile(r"[A-Za-z_]\w*")


def mutate(text: str, rate: float, rng: random.Random) -> str:
    """``text`` with about ``rate`` of its lines edited, drawn from ``rng``."""
    out: list[str] = []
    for line in text.splitlines():
        if rng.random() >= rate:
            out.append(line)
            continue
        edit = rng.randrange(4)
        if edit == 0:
            continue  # deleted
        if edit == 1:
            out.extend((line, line))
        elif edit == 2:
            out.append(_WORD.sub(rf"\g<0>_{rng.randrange(1000)}", line))
        else:
            indent = line[: len(line) - len(line.lstrip())]
            out.extend((f"{indent}# edited {rng.randrange(10**6)}", line))
    return "\n".join(out) + "\n"


def near_copy(text: str, rng: random.Random) -> str:
    """``text`` with a blank line and one statement added: still valid Python when
    ``text`` is, never an exact copy, and a near one for files of a few lines or more."""
    return text.replace("\n", "\n\n", 1) + f"\nedited = {rng.randrange(10**6)}\n"


def plant_copies(records: list[Record], seed: int = 6) -> list[Record]:
    """``records`` plus, for every fourth, an exact copy and a near copy.

    The exact copy differs only in whitespace Python ignores (Windows line
    endings, a blank line at the end: found by ``exact_dedup``'s python and
    whitespace normalizations); the near copy has 3% of its lines edited.
    Copies carry ``planted`` and ``planted_from`` (the original's ``path``).
    """
    rng = random.Random(seed)
    out = list(records)
    for number, record in enumerate(records):
        if number % 4 == 0:
            copy = dict(record, planted="exact_copy", planted_from=record.get("path"))
            copy["text"] = record["text"].replace("\n", "\r\n") + "\r\n"
            out.append(copy)
        elif number % 4 == 1:
            copy = dict(record, planted="near_copy", planted_from=record.get("path"))
            copy["text"] = mutate(record["text"], 0.03, rng)
            out.append(copy)
    return out


def family_corpus(texts: list[str], rates: tuple[float, ...], seed: int = 6) -> list[Record]:
    """For each text, the text itself and one copy per edit rate.

    Records carry ``family`` (the text's number) and ``rate`` (0 for the
    original); ids are ``f{family}v{variant}``.
    """
    rng = random.Random(seed)
    records = []
    for family, text in enumerate(texts):
        records.append({"id": f"f{family}v0", "text": text, "family": family, "rate": 0.0})
        for variant, rate in enumerate(rates, start=1):
            records.append(
                {
                    "id": f"f{family}v{variant}",
                    "text": mutate(text, rate, rng),
                    "family": family,
                    "rate": rate,
                }
            )
    return records
