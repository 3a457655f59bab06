"""Prompt templates: the built-in ones shipped here, or a user's own file.

A prompt file is plain text. It is either one system turn (the whole file), or
a sequence of chat turns, each opened by a marker line such as ``=== system ===``,
``=== user ===`` or ``=== assistant ===`` (the one-shot math prompt is system,
example user, example assistant). The stage appends the record's text as the
last user turn.

Every prompt is identified by ``sha``, the SHA-256 of the file's bytes: the
rewriting stages write it on each output, so an output can always be traced to
the exact wording that produced it, built-in or not.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from apache_beam.io.filesystems import FileSystems

from beam_swallow.inference.base import Message

__all__ = ["PROMPT_NAMES", "Prompt", "load_prompt", "parse_prompt"]

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

_MARKER = re.compile(r"^=== *(system|user|assistant) *===[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    """A prompt's turns, where it came from, and its content hash."""

    name: str
    turns: tuple[Message, ...]
    sha: str
    source: str

    def messages(self, user_text: str) -> tuple[Message, ...]:
        """The conversation to send: the prompt's turns, then ``user_text``."""
        return (*self.turns, Message("user", user_text))

    @property
    def chars(self) -> int:
        """Characters in the prompt's own turns (the record's text not counted)."""
        return sum(len(turn.content) for turn in self.turns)


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
