"""LLM engines behind one RunInference model handler (see base.py for the contract).

``make_handler(config)`` returns the handler ``--engine`` names; the engine
modules import llama_cpp, httpx or vllm only when a model loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from beam_swallow.inference.config import EngineConfig
    from beam_swallow.inference.handler import ChatModelHandler

__all__ = ["make_handler"]


def make_handler(config: EngineConfig) -> ChatModelHandler:
    """The model handler for ``config.engine``."""
    if config.engine == "embedded":
        from beam_swallow.inference.embedded import EmbeddedHandler

        return EmbeddedHandler(config)
    if config.engine == "openai":
        from beam_swallow.inference.openai import OpenAIHandler

        return OpenAIHandler(config)
    if config.engine == "vllm":
        from beam_swallow.inference.vllm import VLLMHandler

        return VLLMHandler(config)
    raise ValueError(f"unknown engine {config.engine!r}")
