"""Prompt templates: built-ins, user files, content hashes, and the flags that pick them."""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.inference.base import Message
from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.registry import rewrite_config
from beam_swallow.prompts import PROMPT_NAMES, load_prompt, parse_prompt
from beam_swallow.transforms.math_rewrite import MathRewrite
from beam_swallow.transforms.parse import NO_SCORE, parse_sgcr
from beam_swallow.transforms.rewriting import MAX_PROMPT_CHARS, SHORT_CHARS
from beam_swallow.transforms.sgcr import Sgcr


@pytest.mark.parametrize("name", PROMPT_NAMES)
def test_builtin_sha_is_the_file_hash(name):
    data = resources.files("beam_swallow.prompts").joinpath(f"{name}.md").read_bytes()
    prompt = load_prompt(name)
    assert prompt.sha == hashlib.sha256(data).hexdigest()
    assert prompt.source == f"built-in:{name}"
    assert prompt.turns[0].role == "system"


def test_math_prompt_is_one_shot():
    prompt = load_prompt("math_rewrite")
    assert [turn.role for turn in prompt.turns] == ["system", "user", "assistant"]
    messages = prompt.messages("a page")
    assert messages[-1] == Message("user", "a page")
    assert len(messages) == 4
    assert prompt.chars == sum(len(turn.content) for turn in prompt.turns)


def test_sgcr_prompt_names_the_layout_the_parser_reads():
    text = load_prompt("sgcr").turns[0].content
    for header in ("### Evaluation Score", "### Suggestions", "### Improved Code"):
        assert f"`{header}`" in text
    assert "python" in text and "three backticks" in text


@pytest.mark.parametrize("name", PROMPT_NAMES)
def test_prompts_hold_no_placeholder_a_model_could_copy(name):
    """Small models copy a template's fill-in text (``<one number from 1 to 10>``)
    literally: the prompts describe the layout in words instead."""
    for turn in load_prompt(name).turns:
        if turn.role == "system":
            assert not re.search(r"<[^<>\n]{3,}>", turn.content), turn.content
            assert parse_sgcr(turn.content).score == NO_SCORE


def test_code_prompts_are_system_turns_only():
    for name in ("sgcr", "scor"):
        prompt = load_prompt(name)
        assert len(prompt.turns) == 1
        assert prompt.messages("x = 1\n")[1] == Message("user", "x = 1\n")


def test_user_file_replaces_builtin(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("Rewrite this code better.\n", encoding="utf-8")
    prompt = load_prompt("scor", str(path))
    assert prompt.turns == (Message("system", "Rewrite this code better."),)
    assert prompt.sha == hashlib.sha256(path.read_bytes()).hexdigest()
    assert prompt.sha != load_prompt("scor").sha
    assert prompt.source == str(path)


def test_turn_markers_and_crlf():
    data = b"=== system ===\r\nBe brief.\r\n=== user ===\r\nQ?\r\n=== assistant ===\r\nA.\r\n"
    prompt = parse_prompt("math", data, "t")
    assert prompt.turns == (
        Message("system", "Be brief."),
        Message("user", "Q?"),
        Message("assistant", "A."),
    )


@pytest.mark.parametrize(
    "data",
    [
        b"preamble\n=== system ===\nx\n",
        b"=== system ===\n\n=== user ===\nq\n=== assistant ===\na\n",
        b"=== system ===\nx\n=== user ===\nq\n",
        b"\xff\xfe not utf-8",
    ],
)
def test_malformed_prompt_files_are_refused(data):
    with pytest.raises(ValueError):
        parse_prompt("math", data, "bad")


def test_unknown_prompt_name():
    with pytest.raises(ValueError):
        load_prompt("poetry")


def test_flags_reach_the_config(tmp_path):
    path = tmp_path / "sgcr.txt"
    path.write_text("Rate and rewrite.\n", encoding="utf-8")
    opts = PipelineOptions([f"--sgcr_prompt={path}", "--keep_original"]).view_as(SwallowOptions)
    sgcr = rewrite_config(opts, Sgcr)
    assert sgcr.prompt.turns[0].content == "Rate and rewrite."
    assert sgcr.keep_original and not sgcr.keep_uncompilable
    assert sgcr.max_prompt_chars is None
    assert sgcr.grammar == Sgcr.grammar  # structured generation is on by default
    math = rewrite_config(opts, MathRewrite)
    assert math.prompt.sha == load_prompt("math_rewrite").sha
    assert math.max_prompt_chars == MAX_PROMPT_CHARS
    assert math.short_chars == SHORT_CHARS
    assert math.grammar is None  # free text
    off = PipelineOptions(["--structured=off"]).view_as(SwallowOptions)
    assert rewrite_config(off, Sgcr).grammar is None
