"""The lint stage behind the result cache: scores are computed once per text and setting.

``CachedLint(cfg, cache)`` is a PTransform returning a
:class:`~beam_swallow.cache.CachedResult`::

    records -> key (lint identity, text) -> CacheLookup
      hits   -> lint_verdict(record, cached LintResult, min_quality)
      misses -> Lint(cfg) -> its kept and rejected outputs -> LintResult -> WriteCache

The cache holds the :class:`~beam_swallow.linting.score.LintResult` (status,
pylint's note, comment ratio, penalized score, error), not the verdict, so a
rerun with another ``--min_quality`` still hits. The key hashes the text and
:func:`lint_identity`: Python's version, pylint's and astroid's, the flags, the
timeouts (both lanes), and the source of :mod:`~beam_swallow.linting.score` (the note and the
comment penalty). Dead letters (a crash) are not cached: a rerun tries again.
Hits leave through the same exits, with ``from_cache`` naming ``lint``.

Counters: those of :mod:`~beam_swallow.transforms.lint` (hits included), plus
``lint.cache_hits``, ``lint.cache_misses``, ``lint.cache_written``,
``lint.cache_corrupt``.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from dataclasses import asdict
from importlib.metadata import version
from typing import Any

import apache_beam as beam
from apache_beam import pvalue

from beam_swallow.cache import (
    CacheConfig,
    CachedResult,
    cache_key,
    cached_record_stage,
    digest,
    mark_cached,
)
from beam_swallow.linting import score
from beam_swallow.linting.config import LintConfig
from beam_swallow.linting.score import PYLINT_FLAGS, LintResult, Status
from beam_swallow.records import REASON, TEXT, Reason, Record, Reject
from beam_swallow.stage import emit_judged
from beam_swallow.transforms.lint import STAGE, Lint, lint_verdict

__all__ = ["CachedLint", "lint_identity", "result_of"]

# The lint result a rejection reason stands for (kept and low_quality carry the scores).
_STATUS = {
    Reason.NO_STATEMENTS: Status.NO_STATEMENTS,
    Reason.UNPARSABLE: Status.UNPARSABLE,
    Reason.LINT_TIMEOUT: Status.TIMEOUT,
}


def lint_identity(cfg: LintConfig) -> dict[str, Any]:
    """Everything besides the text that decides a file's lint result."""
    return {
        "stage": STAGE,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "pylint": version("pylint"),
        "astroid": version("astroid"),
        "flags": list(PYLINT_FLAGS),
        "timeout_s": cfg.timeout_s,
        "slow_timeout_s": cfg.slow_bound,
        "score_code": digest(inspect.getsource(score)),
    }


def result_of(record: Record, kept: bool) -> LintResult | None:
    """The lint result behind one of Lint's kept (``kept``) or rejected outputs; None
    for a rejection no lint result stands for."""
    reason = None if kept else record.get(REASON)
    if reason in _STATUS:
        return LintResult(_STATUS[reason], error=record.get("error", ""))
    if reason not in (None, Reason.LOW_QUALITY):
        return None
    return LintResult(
        Status.OK,
        pylint_score=record["pylint_score"],
        comment_ratio=record["comment_ratio"],
        score=record["quality_score"],
    )


def _key(identity: dict[str, Any], record: Record) -> str | None:
    text = record.get(TEXT)
    return cache_key(identity, text) if isinstance(text, str) else None


def _cached_verdict(record: Record, value: dict[str, Any], min_quality: float) -> Record | Reject:
    return lint_verdict(record, LintResult(**value), min_quality)


class _JudgeHit(beam.DoFn):
    def __init__(self, min_quality: float):
        self._min_quality = min_quality

    def process(self, hit: tuple[str, Record, dict[str, Any]]) -> Iterator[pvalue.TaggedOutput]:
        _, record, value = hit
        marked = mark_cached(record, STAGE)
        yield emit_judged(STAGE, marked, _cached_verdict, value, self._min_quality)


class CachedLint(beam.PTransform):
    """The lint stage with its results cached under ``cache``; returns a CachedResult."""

    stage = STAGE
    languages = Lint.languages

    def __init__(self, cfg: LintConfig, cache: CacheConfig):
        super().__init__(label=STAGE)
        self._cfg = cfg
        self._cache = cache
        self._identity = lint_identity(cfg)

    def expand(self, records: beam.PCollection) -> CachedResult:
        return cached_record_stage(
            records,
            STAGE,
            self._cache,
            self._identity,
            _key,
            _JudgeHit(self._cfg.min_quality),
            "Lint" >> Lint(self._cfg),
            _entry,
        )


def _entry(
    record: Record, identity: dict[str, Any], kept: bool
) -> Iterator[tuple[str, dict[str, Any]]]:
    key = _key(identity, record)
    result = result_of(record, kept)
    if key is not None and result is not None:
        yield key, asdict(result)
