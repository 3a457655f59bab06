"""Stage ``syntax``: keep the files that parse, in each record's language (SwallowCode stage 1).

Python keeps the paper's rule, ``compile(src, "<string>", "exec")``, whatever
the flags; every exception is a rejection with a specific reason (``null_bytes``,
``too_deep``, ``syntax_error``, ``uncompilable``; see
:mod:`beam_swallow.languages.parsing.python`). Every other language is parsed as
``--syntax_check`` says: ``tree_sitter`` (the default), ``exact`` (the language's
own parser where a cheap one needs no project context, tree-sitter elsewhere)
or ``both`` (rejected when either rejects); a file over ``--syntax_max_chars``
is rejected ``too_large`` unparsed. Which parser judges which language, and why
tree-sitter is the default: :mod:`beam_swallow.languages.parsing.check`, docs,
Languages.

The record's ``language`` field (a catalog name) picks the parser; a record
without one is Python (what every record was before the read stage named
languages). Files judged in process (Python, tree-sitter) leave at once; files
for an external exact parser are held per language until
``--syntax_batch_files`` have come (or the bundle ends) and checked in one call,
so a process or worker request serves many files.

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
from collections.abc import Collection, Iterator
from typing import Any, ClassVar

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.utils.windowed_value import WindowedValue

from beam_swallow.languages.catalog import PYTHON
from beam_swallow.languages.parsing import (
    SYNTAX_CHECKS,
    ParseConfig,
    ParseVerdict,
    check_sources,
    has_exact_parser,
    preflight,
)
from beam_swallow.languages.routing import record_language
from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_dead_letter,
    emit_judged,
)

__all__ = ["STAGE", "Syntax", "add_syntax_arguments", "judge_syntax", "parse_config"]

STAGE = "syntax"
_DEFAULT = ParseConfig()


def judge_syntax(record: Record, verdict: ParseVerdict) -> Record | Reject:
    """The record kept (``syntax_ok``, ``syntax_checker``) or rejected by its verdict."""
    if verdict.ok:
        return {**record, "syntax_ok": True, "syntax_checker": verdict.checker}
    return Reject(
        verdict.reason or Reason.SYNTAX_ERROR,
        {"error": verdict.error[:500], "syntax_checker": verdict.checker},
    )


def _check_one(record: Record, cfg: ParseConfig) -> Record | Reject:
    [verdict] = check_sources(record_language(record).name, [record[TEXT]], cfg)
    return judge_syntax(record, verdict)


class _SyntaxDoFn(beam.DoFn):
    """Judges in-process files at once; holds the files of an external parser per language."""

    def __init__(self, cfg: ParseConfig):
        self._cfg = cfg
        self._held: dict[str, list[WindowedValue]] = {}

    def start_bundle(self) -> None:
        self._held = {}

    def _external(self, language: str) -> bool:
        return (
            self._cfg.mode != "tree_sitter"
            and language != PYTHON.name
            and has_exact_parser(language)
        )

    def process(
        self, record: Record, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam
    ) -> Iterator[pvalue.TaggedOutput]:
        if not isinstance(record.get(TEXT), str):
            yield emit_dead_letter(STAGE, record, TypeError("record has no string text"))
            return
        try:
            language = record_language(record).name
        except ValueError as exc:
            yield emit_dead_letter(STAGE, record, exc)
            return
        if not self._external(language):
            yield emit_judged(STAGE, record, _check_one, self._cfg)
            return
        held = self._held.setdefault(language, [])
        held.append(WindowedValue(record, timestamp, [window]))
        if len(held) >= self._cfg.batch_files:
            yield from self._flush(language)

    def finish_bundle(self) -> Iterator[pvalue.TaggedOutput]:
        for language in list(self._held):
            yield from self._flush(language)

    def _flush(self, language: str) -> Iterator[pvalue.TaggedOutput]:
        held = self._held.pop(language, [])
        if not held:
            return
        try:
            verdicts = check_sources(language, [item.value[TEXT] for item in held], self._cfg)
        except Exception as exc:  # the parser failed the call: each record is a dead letter
            for item in held:
                out = emit_dead_letter(STAGE, item.value, exc)
                yield pvalue.TaggedOutput(out.tag, item.with_value(out.value))
            return
        for item, verdict in zip(held, verdicts, strict=True):
            out = emit_judged(STAGE, item.value, judge_syntax, verdict)
            yield pvalue.TaggedOutput(out.tag, item.with_value(out.value))


class Syntax(beam.PTransform):
    """The syntax stage: ``Syntax(ParseConfig)`` returns a StageResult."""

    stage: ClassVar[str] = STAGE
    languages: ClassVar[frozenset[str] | None] = None  # every language of the catalog

    def __init__(self, cfg: ParseConfig | None = None):
        super().__init__(label=self.stage)
        self._cfg = cfg or ParseConfig()

    def tools_preflight(self, languages: Collection[str]) -> None:
        """Raise ToolMissing when a parser ``--syntax_check`` needs for ``languages`` is absent."""
        preflight(languages, self._cfg)

    def expand(self, records: beam.PCollection) -> StageResult:
        tagged = records | "Parse" >> beam.ParDo(_SyntaxDoFn(self._cfg)).with_outputs(
            KEPT, REJECTED, DEAD_LETTER
        )
        return StageResult.from_tagged(tagged)


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
        help="syntax, --syntax_check exact or both: files of one language per exact-parser "
        f"call (one process, or one request to a long-lived worker). Default "
        f"{_DEFAULT.batch_files}.",
    )
