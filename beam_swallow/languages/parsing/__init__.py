"""Is a file well-formed: the syntax check of every language of the code pipeline.

:func:`check_sources` judges a batch of files of one language and answers one
:class:`ParseVerdict` each: Python by ``compile()`` (the paper's rule), the
others by tree-sitter, by the language's exact parser where a cheap one needs
no project context, or by both (:data:`SYNTAX_CHECKS`; docs, Languages).
:func:`preflight` names a missing tool before anything is read. Modules:
``config`` (the config and the verdict), ``python``, ``treesitter``,
``commands`` (gofmt, rustfmt, bash), ``workers`` (Node, JVM, PHP, Ruby) and
``check`` (which judges what).
"""

from beam_swallow.languages.parsing.check import (
    check_sources,
    exact_checker,
    has_exact_parser,
    preflight,
)
from beam_swallow.languages.parsing.config import (
    DEFAULT_SYNTAX_CHECK,
    SYNTAX_CHECKS,
    ParseConfig,
    ParseVerdict,
)
from beam_swallow.languages.parsing.python import compile_verdict

__all__ = [
    "DEFAULT_SYNTAX_CHECK",
    "SYNTAX_CHECKS",
    "ParseConfig",
    "ParseVerdict",
    "check_sources",
    "compile_verdict",
    "exact_checker",
    "has_exact_parser",
    "preflight",
]
