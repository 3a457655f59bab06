"""Sample inputs for a run without ``--input``.

The code sample is real Python written by others, read at run time from this
interpreter's standard library (nothing of it is stored in this repository):
a deterministic pick of ``.py`` files, test data included, so the sample holds
the odd Python 2 file and deliberately broken file as the wild does.

The math sample, ``data/math_pages.jsonl``, holds pages written for this
project in the shape of FineMath records (``text``, ``url``, ``fetch_time``,
``language``): forum threads, Q&A sites, blogs, worksheets, lecture notes and
calculators, each with the residue a crawl brings along (cookie banners,
navigation, dates, votes, comments, footers) around one question and its
answer: the material the math rewrite is meant to clean. The URLs use reserved
example domains.
"""

from __future__ import annotations

import io
import random
import sys
import sysconfig
from importlib import resources
from pathlib import Path

from apache_beam.io.filesystems import FileSystems

from beam_swallow.jsonl import dumps, parse_objects

__all__ = ["stdlib_python_files", "code_sample_records", "math_sample_records", "write_sample"]

SAMPLE_SEED = 2505_02881


def stdlib_python_files() -> list[Path]:
    """Every ``.py`` file of the running interpreter's standard library, sorted."""
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in root.rglob("*.py") if "site-packages" not in p.parts)


def code_sample_records(size: int, max_bytes: int = 60_000) -> list[dict]:
    """``size`` stdlib files as records ``{"text", "path", "source"}``.

    Files over ``max_bytes`` or not UTF-8 are skipped: the sample is for
    seeing the pipeline work, the tests cover hostile input.
    """
    files = stdlib_python_files()
    random.Random(SAMPLE_SEED).shuffle(files)
    root = Path(sysconfig.get_paths()["stdlib"])
    version = ".".join(map(str, sys.version_info[:3]))
    records = []
    for path in files:
        if len(records) >= size:
            break
        data = path.read_bytes()
        if len(data) > max_bytes:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        records.append(
            {
                "text": text,
                "path": str(path.relative_to(root)),
                "source": f"cpython-{version}-stdlib",
            }
        )
    return records


def math_sample_records(size: int) -> list[dict]:
    """The first ``size`` bundled math pages (there are 14) as records."""
    data = resources.files("beam_swallow").joinpath("data", "math_pages.jsonl").read_bytes()
    return [page for _, page in parse_objects(io.BytesIO(data), "math_pages.jsonl")][:size]


def write_sample(records: list[dict], path: str) -> str:
    """Write records as JSONL to ``path`` (local or gs://) and return it."""
    with FileSystems.create(path, mime_type="application/json") as handle:
        for record in records:
            handle.write((dumps(record) + "\n").encode("utf-8"))
    return path
