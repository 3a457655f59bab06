"""Stage ``syntax``: keep the files that parse, in each record's language (SwallowCode stage 1).

Python keeps the paper's rule, ``compile(src, "<string>", "exec")``, whatever
the flags; every exception is a rejection with a specific reason (``null_bytes``,
``too_deep``, ``syntax_error``, ``uncompilable``; see
:mod:`beam_swallow.languages.parsing.python`). Every other language is parsed as
``--syntax_check`` says: ``exact`` (the default: the language's own parser where
a cheap one needs no project context, tree-sitter elsewhere), ``tree_sitter``
or ``both`` (rejected when either rejects); a file over ``--syntax_max_chars``
is rejected ``too_large`` unparsed. Which parser judges which language, and why
``exact`` is the default: :mod:`beam_swallow.languages.parsing.check`, docs,
Languages.

The record's ``language`` field (a catalog name) picks the parser; a record
without one is Python (what every record was before the read stage named
languages). The files of an external parser are held per language until
``--syntax_batch_files`` have come (or the bundle ends) and checked in one call
(:class:`~beam_swallow.transforms.tool_stage.ToolStage`), so a process or worker
request serves many files; files judged in process (``compile()``, tree-sitter)
leave at once.

Kept records gain ``syntax_ok: true`` and ``syntax_checker`` (the tool and
version that judged: ``"gofmt go1.26.8"``); rejected records carry ``error``
(``"line 3, column 7: <the parser's words>"``) and ``syntax_checker``. A parser
call that fails as a whole (crash, ``--syntax_timeout``) makes each of its
records a dead letter (``tool_error``); so does a record without a string text
or with a language the catalog does not name.

Counters: ``syntax.kept``, ``syntax.<reason>``, ``syntax.dead_letter``.
"""

from __future__ import annotations

import argparse
from collections.abc import Collection
from typing import Any, ClassVar

from beam_swallow.languages import PYTHON
from beam_swallow.languages.parsing import (
    SYNTAX_CHECKS,
    ParseConfig,
    ParseVerdict,
    check_sources,
    has_exact_parser,
    preflight,
)
from beam_swallow.records import Reason, Record, Reject
from beam_swallow.transforms.tool_stage import ToolStage

__all__ = ["STAGE", "Syntax", "add_syntax_arguments", "judge_syntax", "parse_config"]

STAGE = "syntax"
_DEFAULT = ParseConfig()


def judge_syntax(record: Record, verdict: ParseVerdict, stage: str = STAGE) -> Record | Reject:
    """The record kept (``syntax_ok``, ``syntax_checker``) or rejected by its verdict."""
    if verdict.ok:
        return {**record, "syntax_ok": True, "syntax_checker": verdict.checker}
    return Reject(
        verdict.reason or Reason.SYNTAX_ERROR,
        {"error": verdict.error[:500], "syntax_checker": verdict.checker},
    )


class Syntax(ToolStage):
    """The syntax stage: ``Syntax(ParseConfig)`` returns a StageResult."""

    stage = STAGE
    languages: ClassVar[frozenset[str] | None] = None  # every language of the catalog
    run = staticmethod(check_sources)
    verdict = staticmethod(judge_syntax)

    @classmethod
    def default_config(cls) -> ParseConfig:
        return ParseConfig()

    @staticmethod
    def holds(language: str, cfg: ParseConfig) -> bool:
        """Only an external parser's files wait for a batch: Python's ``compile()`` and
        tree-sitter judge in process, one file as it comes."""
        return cfg.mode != "tree_sitter" and language != PYTHON.name and has_exact_parser(language)

    def tools_preflight(self, languages: Collection[str]) -> None:
        """Raise ToolMissing when a parser ``--syntax_check`` needs for ``languages`` is absent."""
        preflight(languages, self._cfg)


def parse_config(opts: Any) -> ParseConfig:
    """The stage's config from the parsed flags of :func:`add_syntax_arguments`."""
    return ParseConfig(
        mode=opts.syntax_check,
        timeout_s=opts.syntax_timeout,
        max_chars=opts.syntax_max_chars,
        batch_files=opts.syntax_batch_files,
    )


def add_syntax_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``syntax`` flag group to ``parser``."""
    group = parser.add_argument_group("syntax (docs: Languages)")
    group.add_argument(
        "--syntax_check",
        choices=SYNTAX_CHECKS,
        default=_DEFAULT.mode,
        help="syntax, for every language but Python (always compile()): tree_sitter (the "
        "language's tree-sitter grammar, in process), exact (the language's own parser where "
        "a cheap one exists: gofmt, rustfmt, bash -n, esbuild, TypeScript, javac, PHP, Ruby; "
        f"tree-sitter elsewhere) or both (rejected when either rejects). Default {_DEFAULT.mode}.",
    )
    group.add_argument(
        "--syntax_timeout",
        type=float,
        default=_DEFAULT.timeout_s,
        help="syntax: seconds one parser call may take: a tree-sitter parse of one file "
        "(then rejected 'too_large') or an exact parser's call over a batch (then its files are "
        f"dead letters). Default {_DEFAULT.timeout_s:g}.",
    )
    group.add_argument(
        "--syntax_max_chars",
        type=int,
        default=_DEFAULT.max_chars,
        help="syntax: a file longer than this many characters is rejected 'too_large' "
        f"unparsed (not Python's: compile() takes any length). Default {_DEFAULT.max_chars:,}.",
    )
    group.add_argument(
        "--syntax_batch_files",
        type=int,
        default=_DEFAULT.batch_files,
        help="syntax: files of one language per parser call (for an exact parser: one "
        f"process, or one request to a long-lived worker). Default "
        f"{_DEFAULT.batch_files}.",
    )
