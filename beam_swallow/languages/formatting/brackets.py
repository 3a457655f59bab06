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
preprocessor lines; of each ``#if``/``#ifdef``/``#ifndef`` only the first
branch counts (the ``#elif``/``#else`` branches often repeat an opening line
such as a function head with another signature). A deleted or extra bracket in
code that counts is always found; what this misses (a deleted keyword, a
bracket in a branch that does not count) is the syntax stage's to judge.
"""

from __future__ import annotations

import re

__all__ = ["unbalanced"]

_TOKEN = re.compile(
    r"""
      (?P<comment>//(?:\\\n|[^\n])*|/\*.*?(?:\*/|\Z))
    | (?P<raw>R"(?P<delim>[^()\\\s"]{0,16})\(.*?\)(?P=delim)")
    | (?P<string>"(?:\\.|[^"\\\n])*")
    | (?P<char>'(?:\\.|[^'\\\n])*')
    | (?P<directive>^[ \t]*\#[ \t]*(?P<word>\w*)(?:\\\n|[^\n])*)
    | (?P<open>[{(\[])
    | (?P<close>[})\]])
    """,
    re.X | re.S | re.M,
)
_OPENER = {")": "(", "]": "[", "}": "{"}
_CONDITIONAL = {"if", "ifdef", "ifndef"}
_ALTERNATIVE = {"elif", "else", "elifdef", "elifndef"}


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"{line}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def unbalanced(text: str) -> str | None:
    """None when the brackets of ``text`` pair up (see the module docstring); else why
    not, with the 1-based ``line:column`` of the bracket at fault."""
    opened: list[tuple[str, int]] = []
    skipping: list[bool] = []  # per open conditional: in a branch that does not count
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        if kind == "directive":
            word = token["word"]
            if word in _CONDITIONAL:
                skipping.append(False)
            elif word in _ALTERNATIVE and skipping:
                skipping[-1] = True
            elif word == "endif" and skipping:
                skipping.pop()
            continue
        if kind not in ("open", "close") or any(skipping):
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
