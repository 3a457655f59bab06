"""Prompt templates for the rewriting stages, written for this project and content-hashed."""

from beam_swallow.prompts.loader import PROMPT_NAMES, Prompt, load_prompt, parse_prompt

__all__ = ["PROMPT_NAMES", "Prompt", "load_prompt", "parse_prompt"]
