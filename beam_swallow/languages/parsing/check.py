"""One entry for every language's syntax check: :func:`check_sources`, and its :func:`preflight`.

Which parser judges a file (``cfg.mode``, the ``--syntax_check`` flag):

========== ============================== ===========================================
language   ``exact`` parser               how it runs
========== ============================== ===========================================
Python     ``compile()`` (every mode)     in process
Go         ``gofmt -e``                   one process per batch
Rust       ``rustfmt --edition 2021``     one process per batch
Shell      ``bash -n``                    one process per file
JavaScript esbuild                        the Node worker
TypeScript TypeScript's parser            the Node worker
TSX        TypeScript's parser            the Node worker
Java       javac's parser                 the JVM worker
PHP        PHP's parser (``php -l``'s)    the PHP worker
Ruby       Ruby's compiler (``ruby -c``'s) the Ruby worker
others     none: tree-sitter in every mode in process
========== ============================== ===========================================

C, C++ and CUDA have no exact parser here: a compiler needs the file's
project (its headers, its include paths, the CUDA toolkit) and rejects valid
files without them; C#, Kotlin and Swift have none on this kind of machine.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from beam_swallow.languages.catalog import PYTHON, by_label
from beam_swallow.languages.parsing.commands import COMMANDS
from beam_swallow.languages.parsing.config import ParseConfig, ParseVerdict
from beam_swallow.languages.parsing.python import check_python
from beam_swallow.languages.parsing.treesitter import check_tree_sitter, grammar
from beam_swallow.languages.parsing.workers import WORKERS, check_worker
from beam_swallow.languages.tools import ToolMissing, find_tool
from beam_swallow.records import Reason

__all__ = ["check_sources", "exact_checker", "has_exact_parser", "preflight"]

Check = Callable[[list[str], float], list[ParseVerdict]]


def has_exact_parser(language: str) -> bool:
    """Whether ``language`` has an exact parser here (Python's is ``compile()``)."""
    return language == PYTHON.name or language in COMMANDS or language in WORKERS


def exact_checker(language: str) -> Check:
    """The exact parser of ``language`` as ``check(sources, timeout_s) -> verdicts``;
    KeyError when it has none (Python's is :func:`~.python.check_python`)."""
    if language in COMMANDS:
        return COMMANDS[language][0]
    if language in WORKERS:
        return lambda sources, timeout_s: check_worker(language, sources, timeout_s)
    raise KeyError(f"{language} has no exact parser")


def _known(language: str) -> str:
    found = by_label(language)
    if found is None or found.name != language:
        raise ValueError(f"no syntax check for language {language!r}")
    return language


def _batched(check: Check, sources: list[str], cfg: ParseConfig) -> list[ParseVerdict]:
    out: list[ParseVerdict] = []
    for start in range(0, len(sources), cfg.batch_files):
        out.extend(check(sources[start : start + cfg.batch_files], cfg.timeout_s))
    return out


def _tree_sitter(language: str) -> Check:
    return lambda sources, timeout_s: check_tree_sitter(language, sources, timeout_s)


def _judge_all(language: str, sources: list[str], cfg: ParseConfig) -> list[ParseVerdict]:
    exact = has_exact_parser(language)
    if cfg.mode == "tree_sitter" or not exact:
        return _batched(_tree_sitter(language), sources, cfg)
    if cfg.mode == "exact":
        return _batched(exact_checker(language), sources, cfg)
    # both: a file tree-sitter rejects is rejected; the exact parser judges the rest
    first = _batched(_tree_sitter(language), sources, cfg)
    passed = [index for index, verdict in enumerate(first) if verdict.ok]
    second = _batched(exact_checker(language), [sources[index] for index in passed], cfg)
    out = list(first)
    for index, verdict in zip(passed, second, strict=True):
        out[index] = (
            verdict
            if not verdict.ok
            else ParseVerdict(True, f"{first[index].checker} + {verdict.checker}")
        )
    return out


def check_sources(
    language: str, sources: Sequence[str], cfg: ParseConfig | None = None
) -> list[ParseVerdict]:
    """One :class:`ParseVerdict` per source, in order, for files of ``language`` (a catalog
    name).

    Python: ``compile()`` whatever the mode. Others: by ``cfg.mode``; a file
    over ``cfg.max_chars`` is rejected ``too_large`` unparsed. Raises
    ToolError when an exact tool fails a call as a whole (crash, timeout: the
    caller makes those files dead letters), ToolMissing when a needed tool is
    not installed, ValueError for a language the catalog does not name.
    """
    cfg = cfg or ParseConfig()
    sources = list(sources)
    if _known(language) == PYTHON.name:
        return check_python(sources)
    small = [index for index, source in enumerate(sources) if len(source) <= cfg.max_chars]
    judged = iter(_judge_all(language, [sources[index] for index in small], cfg))
    cap = f"max_chars {cfg.max_chars}"
    small_set = set(small)
    return [
        next(judged)
        if index in small_set
        else ParseVerdict.rejected(
            cap, f"{len(source):,} characters, over {cfg.max_chars:,}", reason=Reason.TOO_LARGE
        )
        for index, source in enumerate(sources)
    ]


def preflight(languages: Collection[str], cfg: ParseConfig | None = None) -> None:
    """Raise ToolMissing (naming the tool, the language and how to install it) when a tool
    that ``cfg.mode`` needs for one of ``languages`` is not installed."""
    cfg = cfg or ParseConfig()
    for language in sorted(_known(name) for name in languages):
        if language == PYTHON.name:
            continue
        exact = cfg.mode != "tree_sitter" and has_exact_parser(language)
        if cfg.mode != "exact" or not exact:
            grammar(language)
        if not exact:
            continue
        try:
            if language in COMMANDS:
                for program, install in COMMANDS[language][1]:
                    find_tool(program, install)
            else:
                WORKERS[language].args()
        except ToolMissing as exc:
            raise ToolMissing(f"--syntax_check {cfg.mode} on {language}: {exc}") from exc
