"""Whether the brackets of C, C++ or CUDA source pair up: clang-format's missing refusal.

clang-format parses no C: it lays out whatever it is given and exits 0, a file
cut in half or missing a brace included (the issue's Facts), and its
``--fail-on-incomplete-format`` names no file in a batch and misses a missing
closing brace. A parse check is no substitute here: tree-sitter flags errors
in most real headers, whose macros it cannot expand (measured: 29 of 121 of
Python's C headers, 6 of 130 libstdc++ headers and 5 of 166 CUB headers come
out clean), and a compiler needs the project's headers.

So the format stage refuses C-family code whose ``( ) [ ] { }`` do not pair
up, the structure clang-format lays out. Brackets are counted outside
comments, string and character literals (raw strings included) and
preprocessor lines. Each branch of an ``#if``/``#ifdef``/``#ifndef`` is counted
from where the ``#if`` left off (a closer must close what was open there or in
the branch); after the ``#endif`` the count goes on from the first branch, and
when the conditional has an ``#else`` every branch must leave the same brackets
open (a missing brace in a header whose whole body is an ``#else`` branch is
found so). A conditional without ``#else`` may leave them differently (``#ifdef
__cplusplus`` / ``extern "C" {`` / ``#endif``, closed by another such block).

Measured on real files (:mod:`beam_swallow.testing.code_corpus`, 2026-12-07):
every one of 255 C files (Go's C sources, Python's headers), 141 of googletest's
C++ files and 215 CUB headers passes, and 129 of 130 of libstdc++'s ``bits`` headers
(``fs_path.h`` opens a block in one branch of an ``#ifdef``/``#else`` and closes
it after); of the first three's copies with the last ``}`` on a line of code
deleted (else the last ``)``), 573 of 588 are refused (the rest lost it on
the last line of a macro, inside a multi-line comment or in a ``#if``'s
condition, lines the count leaves to the preprocessor). What this misses (a
deleted keyword) is the syntax stage's to judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["unbalanced"]

_TOKEN = re.compile(
    r"""
      (?P<comment>//(?:\\\n|[^\n])*|/\*.*?(?:\*/|\Z))
    | (?P<raw>R"(?P<delim>[^()\\\s"]{0,16})\(.*?\)(?P=delim)")
    | (?P<string>"(?:\\.|[^"\\\n])*")
    | (?P<char>'(?:\\.|[^'\\\n])*')
    | (?P<directive>^[ \t]*\#[ \t]*(?P<word>\w*)(?:\\\n|/\*.*?(?:\*/|\Z)|//[^\n]*|[^\n])*)
    | (?P<open>[{(\[])
    | (?P<close>[})\]])
    """,
    re.X | re.S | re.M,
)
_OPENER = {")": "(", "]": "[", "}": "{"}
_CONDITIONAL = {"if", "ifdef", "ifndef"}
_ALTERNATIVE = {"elif", "else", "elifdef", "elifndef"}

Opened = list[tuple[str, int]]  # each open bracket and its offset, innermost last


@dataclass
class _Conditional:
    """One open ``#if``: the brackets open where it began, each finished branch's, and
    whether it has an ``#else``."""

    start: Opened
    offset: int
    ends: list[Opened] = field(default_factory=list)
    has_else: bool = False


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"{line}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def unbalanced(text: str) -> str | None:
    """None when the brackets of ``text`` pair up (see the module docstring); else why
    not, with the 1-based ``line:column`` of the bracket (or ``#if``) at fault."""
    opened: Opened = []
    conditionals: list[_Conditional] = []
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        if kind == "directive":
            word = token["word"]
            if word in _CONDITIONAL:
                conditionals.append(_Conditional(list(opened), token.start()))
            elif word in _ALTERNATIVE and conditionals:
                conditional = conditionals[-1]
                conditional.ends.append(opened)
                conditional.has_else |= word == "else"
                opened = list(conditional.start)
            elif word == "endif" and conditionals:
                conditional = conditionals.pop()
                conditional.ends.append(opened)
                first = conditional.ends[0]
                if conditional.has_else and any(
                    [b for b, _ in end] != [b for b, _ in first] for end in conditional.ends
                ):
                    return (
                        f"{_position(text, conditional.offset)}: the branches of this "
                        "conditional leave different brackets open"
                    )
                opened = first
            continue
        if kind not in ("open", "close"):
            continue
        bracket = token.group()
        if kind == "open":
            opened.append((bracket, token.start()))
        elif not opened:
            return f"{_position(text, token.start())}: '{bracket}' closes nothing"
        elif opened[-1][0] != _OPENER[bracket]:
            what, where = opened[-1]
            return (
                f"{_position(text, token.start())}: '{bracket}' does not close "
                f"'{what}' at {_position(text, where)}"
            )
        else:
            opened.pop()
    if opened:
        what, where = opened[-1]
        return f"{_position(text, where)}: '{what}' is never closed"
    return None
