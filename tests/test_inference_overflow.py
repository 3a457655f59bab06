"""Too-long answers in each server's words, and the other errors that must not match.

Bodies as each server sends them (status, JSON error object); the servers that
run here (vLLM's CPU build, llama-cpp-python's server) are also asked for real
in test_inference_vllm.py and test_inference_openai.py.
"""

from __future__ import annotations

import json

import pytest

from beam_swallow.inference.overflow import prompt_overflow


def _openai_error(message: str, **extra) -> str:
    return json.dumps({"error": {"message": message, "type": "invalid_request_error", **extra}})


TOO_LONG = [
    pytest.param(
        400,
        _openai_error(
            "This model's maximum context length is 8192 tokens. However, your messages "
            "resulted in 9000 tokens. Please reduce the length of the messages.",
            code="context_length_exceeded",
        ),
        9000,
        id="openai",
    ),
    pytest.param(
        400,
        json.dumps(
            {
                "object": "error",
                "message": "This model's maximum context length is 2048 tokens. However, you "
                "requested 2100 tokens (2052 in the messages, 48 in the completion). Please "
                "reduce the length of the messages or completion.",
                "type": "BadRequestError",
                "code": 400,
            }
        ),
        2052,
        id="vllm-0.6",
    ),
    pytest.param(
        400,
        json.dumps(
            {
                "error": {
                    "message": "This model's maximum context length is 2048 tokens. However, "
                    "your request has 3013 input tokens. Please reduce the length of the "
                    "input messages.",
                    "type": "BadRequestError",
                    "param": None,
                    "code": 400,
                }
            }
        ),
        3013,
        id="vllm-0.10",
    ),
    pytest.param(
        400,
        json.dumps(
            {
                "error": {
                    "message": "This model's maximum context length is 2048 tokens. However, "
                    "your prompt contains 3013 input tokens, which leaves no room for output.",
                    "type": "BadRequestError",
                    "code": 400,
                }
            }
        ),
        3013,
        id="vllm-prompt-contains",
    ),
    pytest.param(
        400,
        _openai_error(
            "This model's maximum context length is 2048 tokens. However, your prompt contains "
            "at least 2049 input tokens, which exceeds this limit even without any output "
            "tokens. Please reduce the length of the input prompt.",
            type="BadRequestError",
            param="input_tokens",
        ),
        2049,
        id="vllm-0.32-at-least",
    ),
    pytest.param(
        400,
        _openai_error(
            "This model's maximum context length is 2048 tokens. However, your prompt contains "
            "30000 characters (more than 20480 characters, which is the upper bound for 2048 "
            "input tokens). Please reduce the length of the input prompt.",
            type="BadRequestError",
            param="input_text",
        ),
        0,
        id="vllm-0.32-characters",
    ),
    pytest.param(
        400,
        json.dumps(
            {
                "error": {
                    "code": 400,
                    "message": "the request exceeds the available context size, try increasing it",
                    "type": "exceed_context_size_error",
                    "n_prompt_tokens": 4410,
                    "n_ctx": 4096,
                }
            }
        ),
        4410,
        id="llama.cpp",
    ),
    pytest.param(
        400,
        _openai_error(
            "Requested tokens (3021) exceed context window of 1024", code="context_length_exceeded"
        ),
        3021,
        id="llama-cpp-python",
    ),
    pytest.param(
        400,
        json.dumps(
            {
                "object": "error",
                "message": "The input (5000 tokens) is longer than the model's context length "
                "(4096 tokens).",
                "type": "BadRequestError",
                "code": 400,
            }
        ),
        5000,
        id="sglang",
    ),
    pytest.param(
        422,
        json.dumps(
            {
                "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be "
                "<= 4096. Given: 5000 `inputs` tokens and 100 `max_new_tokens`",
                "error_type": "validation",
            }
        ),
        5000,
        id="tgi",
    ),
    pytest.param(400, "maximum context length exceeded", 0, id="plain-text-no-count"),
]


@pytest.mark.parametrize(("status", "body", "tokens"), TOO_LONG)
def test_each_servers_too_long_wording_gives_the_prompt_tokens(status, body, tokens):
    assert prompt_overflow(status, body) == tokens


NOT_TOO_LONG = [
    pytest.param(
        400,
        _openai_error(
            "max_tokens=8192 cannot be greater than max_model_len=2048. Please request fewer "
            "output tokens."
        ),
        id="vllm-max-tokens-setting",
    ),
    pytest.param(500, _openai_error("maximum context length is 2048 tokens"), id="a-5xx"),
    pytest.param(400, _openai_error("'messages' is a required property"), id="other-400"),
    pytest.param(401, _openai_error("Incorrect API key provided"), id="auth"),
]


@pytest.mark.parametrize(("status", "body"), NOT_TOO_LONG)
def test_other_errors_are_not_too_long(status, body):
    assert prompt_overflow(status, body) is None
