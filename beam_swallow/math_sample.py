"""The math sample: scraped-looking web pages for a run without ``--input``.

``data/math_pages.jsonl`` holds pages written for this project in the shape of
FineMath records (``text``, ``url``, ``fetch_time``, ``language``): forum
threads, Q&A sites, blogs, worksheets, lecture notes and calculators, each with
the residue a crawl brings along (cookie banners, navigation, dates, votes,
comments, footers) around one question and its answer: the material the math
rewrite is meant to clean. The URLs use reserved example domains.
"""

from __future__ import annotations

import json
from importlib import resources

__all__ = ["math_sample_records"]

_SAMPLE = "math_pages.jsonl"


def math_sample_records(size: int) -> list[dict]:
    """The first ``size`` sample pages (there are 14) as records."""
    lines = resources.files("beam_swallow").joinpath("data", _SAMPLE).read_text("utf-8")
    return [json.loads(line) for line in lines.splitlines() if line.strip()][:size]
