"""Prompt templates: the built-in ones shipped here, or a user's own file.

A prompt file is plain text. It is either one system turn (the whole file), or
a sequence of chat turns, each opened by a marker line such as ``=== system ===``,
``=== user ===`` or ``=== assistant ===`` (the one-shot math prompt is system,
example user, example assistant). The stage appends the record's text as the
last user turn.

A prompt may name the record's language: ``{language}`` in its text becomes
the language's name (``Go``, ``C++``) and ``{fence}`` the tag its code block
opens with (``go``, ``cpp``), as the v2 ``score`` and ``rewrite`` prompts do;
nothing else in braces is touched, so a prompt without them reads as written.

Every prompt is identified by ``sha``, the SHA-256 of the file's bytes (the
template, before any language is filled in): the rewriting stages write it on
each output, so an output can always be traced to the exact wording that
produced it, built-in or not; the record's ``language`` completes it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from apache_beam.io.filesystems import FileSystems

from beam_swallow.inference.base import Message

__all__ = ["PLACEHOLDERS", "PROMPT_NAMES", "Prompt", "load_prompt", "parse_prompt"]

PROMPT_NAMES = (
    "sgcr",
    "scor",
    "math_rewrite",
    "score",
    "rewrite",
    "math_extract",
    "math_textbook",
    "math_qa",
)

PLACEHOLDERS = ("language", "fence")  # what a prompt's ``{name}`` may stand for

_MARKER = re.compile(r"^=== *(system|user|assistant) *===[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    """A prompt's turns, where it came from, and its content hash."""

    name: str
    turns: tuple[Message, ...]
    sha: str
    source: str

    def messages(
        self, user_text: str, fields: Mapping[str, str] | None = None
    ) -> tuple[Message, ...]:
        """The conversation to send: the prompt's turns, with each ``{name}`` of
        ``fields`` (keys among :data:`PLACEHOLDERS`) filled in, then ``user_text``."""
        turns = self.turns
        if fields:
            turns = tuple(Message(turn.role, _fill(turn.content, fields)) for turn in turns)
        return (*turns, Message("user", user_text))

    @property
    def names_language(self) -> bool:
        """Whether any turn holds a placeholder (``{language}``, ``{fence}``): only then
        does a request need its record's language (a math page's ``language`` is a
        natural language, which no prompt of its stages asks for)."""
        return any("{" + name + "}" in turn.content for turn in self.turns for name in PLACEHOLDERS)

    @property
    def chars(self) -> int:
        """Characters in the prompt's own turns (the record's text not counted)."""
        return sum(len(turn.content) for turn in self.turns)


def _fill(text: str, fields: Mapping[str, str]) -> str:
    for name, value in fields.items():
        if name not in PLACEHOLDERS:
            raise ValueError(f"a prompt has no placeholder {{{name}}}; known: {PLACEHOLDERS}")
        text = text.replace("{" + name + "}", value)
    return text


def parse_prompt(name: str, data: bytes, source: str) -> Prompt:
    """Turn a prompt file's bytes into a :class:`Prompt`; raise ValueError if malformed."""
    text = data.decode("utf-8").replace("\r\n", "\n")
    markers = list(_MARKER.finditer(text))
    if not markers:
        turns = (Message("system", text.strip()),)
    else:
        if text[: markers[0].start()].strip():
            raise ValueError(f"prompt {source}: text before the first '=== role ===' marker")
        ends = [m.start() for m in markers[1:]] + [len(text)]
        turns = tuple(
            Message(m.group(1), text[m.end() : end].strip())
            for m, end in zip(markers, ends, strict=True)
        )
    if any(not turn.content for turn in turns):
        raise ValueError(f"prompt {source}: empty turn")
    if turns[-1].role == "user":
        raise ValueError(f"prompt {source}: ends with a user turn; the record is the user turn")
    return Prompt(name, turns, hashlib.sha256(data).hexdigest(), source)


def load_prompt(name: str, path: str | None = None) -> Prompt:
    """The built-in prompt ``name``, or the file at ``path`` (local or gs://) instead."""
    if name not in PROMPT_NAMES:
        raise ValueError(f"unknown prompt {name!r}; known: {', '.join(PROMPT_NAMES)}")
    if path:
        with FileSystems.open(path) as handle:
            return parse_prompt(name, handle.read(), path)
    data = resources.files(__package__).joinpath(f"{name}.md").read_bytes()
    return parse_prompt(name, data, f"built-in:{name}")
