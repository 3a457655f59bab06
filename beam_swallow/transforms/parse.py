"""Reading the model's answers: the SGCR sections and fenced code blocks.

Two extraction rules, one per stage, as the paper applies them:

- SGCR (:func:`parse_sgcr`): the answer is split into sections at ``###``
  header lines. The score section is the first whose title holds "score"
  (our prompt's ``### Evaluation Score``) or starts with "evaluation" (the
  paper's ``### Evaluation: 7``); its value, after a colon in the title or
  else on its first line, parses as a float (``7``, ``7.5``, ``**8**``,
  ``Score: 7/10`` all do; ``N/A``, an empty section, a value outside 0-10 or
  out of another scale is ``-1.0``). The suggestions are the items of the
  suggestions section. The code is the first fenced block tagged ``python``
  anywhere in the answer, stripped, as the paper extracts it: the tag is
  required, and the fences must be on lines of their own.
- SCOR (:func:`extract_code_block`): the first fenced block with any tag or
  none. It must be closed; its content is stripped and given one trailing
  newline. The v2 rewrite reads the same block with its tag
  (:func:`first_code_block`), to check the tag against the record's language.

A fence is a line of three or more backticks (indentation allowed); a block
closes at the first later line of at least as many backticks and nothing else,
so a block may quote shorter fences. Windows line endings are read as ``\\n``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "NO_SCORE",
    "SGCRAnswer",
    "extract_code_block",
    "fenced_blocks",
    "first_code_block",
    "parse_sgcr",
]

NO_SCORE = -1.0

_OPEN = re.compile(r"^[ \t]*(`{3,})[ \t]*([^`\s]*)[^`]*$")
_CLOSE = re.compile(r"^[ \t]*(`{3,})[ \t]*$")
_HEADER = re.compile(r"^[ \t]*###[ \t]*(.*?)[ \t#]*$")
_NUMBER = re.compile(
    r"^[\s>]*(?:[-*+][ \t]+)?[*_`\s]*(?:[a-z][a-z ]*:[*_`\s]*)?"  # bullet, emphasis, label
    r"(\d+(?:\.\d+)?)[*_`\s]*(?:(?:/|out of)\s*(\d+(?:\.\d+)?))?",
    re.IGNORECASE,
)
_ITEM = re.compile(r"^[ \t]*(?:[-*+•]|\d+[.)])[ \t]+(.*)$")
_MAX_SCORE = 10.0


@dataclass(frozen=True)
class SGCRAnswer:
    """What an SGCR answer holds; ``code`` is None when it has no python block."""

    score: float = NO_SCORE
    suggestions: list[str] = field(default_factory=list)
    code: str | None = None


def _lines(answer: str) -> list[str]:
    return answer.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def fenced_blocks(answer: str) -> list[tuple[str, str]]:
    """Every closed fenced block of ``answer``, in order, as ``(tag, content)``.

    The tag is the first word after the opening fence, lower-cased (``""`` when
    there is none). An unclosed block ends the search: nothing after its
    opening fence counts as a block of its own.
    """
    lines = _lines(answer)
    blocks = []
    index = 0
    while index < len(lines):
        opening = _OPEN.match(lines[index])
        if not opening:
            index += 1
            continue
        width = len(opening.group(1))
        for end in range(index + 1, len(lines)):
            closing = _CLOSE.match(lines[end])
            if closing and len(closing.group(1)) >= width:
                blocks.append((opening.group(2).lower(), "\n".join(lines[index + 1 : end])))
                index = end + 1
                break
        else:
            break
    return blocks


def first_code_block(answer: str) -> tuple[str, str] | None:
    """The first closed fenced block of any language as ``(tag, code)``: the tag lower
    case (``""`` for none), the code stripped, plus ``\\n``.

    None when there is no closed block, or the first one is blank.
    """
    blocks = fenced_blocks(answer)
    if not blocks:
        return None
    tag, content = blocks[0]
    code = content.strip()
    return (tag, code + "\n") if code else None


def extract_code_block(answer: str) -> str | None:
    """SCOR's rule: the first closed fenced block of any language, stripped, plus ``\\n``.

    None when there is no closed block, or the first one is blank.
    """
    block = first_code_block(answer)
    return None if block is None else block[1]


def _sections(answer: str) -> list[tuple[str, list[str]]]:
    """``(title, body lines)`` per ``###`` header; text before the first is untitled.

    Fenced blocks are left out of the bodies (each leaves one blank line), so a
    ``###`` comment in code is never a header and code never joins a list item.
    """
    sections: list[tuple[str, list[str]]] = [("", [])]
    fence_width = 0
    for line in _lines(answer):
        if fence_width:
            closing = _CLOSE.match(line)
            if closing and len(closing.group(1)) >= fence_width:
                fence_width = 0
                sections[-1][1].append("")
        elif opening := _OPEN.match(line):
            fence_width = len(opening.group(1))
        elif header := _HEADER.match(line):
            sections.append((header.group(1).lower(), []))
        else:
            sections[-1][1].append(line)
    return sections


def _score(title: str, body: list[str]) -> float:
    """The first value given: after a colon in the title, else the first non-blank line."""
    candidates = [title.split(":", 1)[1]] if ":" in title else []
    candidates += [line for line in body if line.strip()][:1]
    for candidate in candidates:
        if not candidate.strip():
            continue
        match = _NUMBER.match(candidate)
        if not match:
            return NO_SCORE
        value = float(match.group(1))
        scale = float(match.group(2) or _MAX_SCORE)
        return value if scale == _MAX_SCORE and 0.0 <= value <= _MAX_SCORE else NO_SCORE
    return NO_SCORE


def _suggestions(body: list[str]) -> list[str]:
    """List items (``-``, ``*``, ``1.``); wrapped lines join their item; else paragraphs."""
    items: list[str] = []
    in_item = False
    for line in body:
        match = _ITEM.match(line)
        if match:
            items.append(match.group(1).strip())
            in_item = True
        elif not line.strip():
            in_item = False
        elif in_item:
            items[-1] = f"{items[-1]} {line.strip()}"
        else:
            items.append(line.strip())
    return [item for item in items if item]


def parse_sgcr(answer: str) -> SGCRAnswer:
    """Split an SGCR answer into score, suggestions and the improved code."""
    score = NO_SCORE
    suggestions: list[str] = []
    for title, body in _sections(answer):
        if ("score" in title or title.startswith("evaluation")) and score == NO_SCORE:
            score = _score(title, body)
        elif "suggestion" in title and not suggestions:
            suggestions = _suggestions(body)
    code = next(
        (content.strip() for tag, content in fenced_blocks(answer) if tag == "python"), None
    )
    if not code:
        code = None
    return SGCRAnswer(score, suggestions, code)
