"""How OpenAI-compatible servers say that a prompt does not fit the model's context.

A server measures the prompt with its own tokenizer and refuses one that leaves
no room in the context, each in its own words. :func:`prompt_overflow` reads an
error answer (HTTP status and body) and returns the prompt's token count when
the answer means "too long" (``0`` when the server does not give the count),
or ``None`` for any other error. The stage rejects such a record ``too_long``
instead of dead-lettering it.

The wordings, one pattern each, with the server and version they come from
(tests hold a recorded body for each, and run the ones whose server runs here):

- OpenAI's API: code ``context_length_exceeded``, "This model's maximum
  context length is 8192 tokens. However, your messages resulted in 9000
  tokens".
- vLLM before 0.10: "This model's maximum context length is 2048 tokens.
  However, you requested 2100 tokens (2052 in the messages, 48 in the
  completion)".
- vLLM 0.10 and later: "This model's maximum context length is 2048 tokens.
  However, your request has 2600 input tokens"; vLLM 0.32: "... your prompt
  contains [at least] 2600 input tokens, which exceeds this limit even without
  any output tokens" (at least: its tokenizer stopped one past the limit), or,
  from its check on characters before tokenizing, "... your prompt contains
  20000 characters (more than ...)" (no token count).
- llama.cpp's server: type ``exceed_context_size_error``, "the request exceeds
  the available context size, try increasing it", with ``n_prompt_tokens``.
- llama-cpp-python's server: "Requested tokens (2600) exceed context window of
  1024".
- SGLang: "The input (2600 tokens) is longer than the model's context length
  (2048 tokens)."
- TGI (HTTP 422): "Input validation error: `inputs` tokens + `max_new_tokens`
  must be <= 2048. Given: 2600 `inputs` tokens and 48 `max_new_tokens`".

Not a too-long prompt, and so not matched: vLLM's "max_tokens=8192 cannot be
greater than max_model_len=2048" (a setting every request shares: the
preflight check refuses it before the run, see :mod:`.preflight`).
"""

from __future__ import annotations

import json
import re

__all__ = ["prompt_overflow"]

# Statuses a server uses to refuse a request it will not run (TGI validates with 422).
_STATUSES = (400, 413, 422)

_OVERFLOW = re.compile(
    r"context_length_exceeded|maximum context length|exceed_context_size_error"
    r"|exceeds? the available context size|exceed context window"
    r"|longer than the model's context length|must be <= \d+\. Given: \d+ `inputs` tokens",
    re.I,
)

# Where each wording puts the prompt's token count; the first that matches is used.
_COUNTS = (
    re.compile(r"\((\d+) in the messages"),  # vLLM < 0.10
    re.compile(r"your (?:request has|prompt contains) (?:at least )?(\d+) input tokens", re.I),
    re.compile(r"your messages resulted in (\d+) tokens", re.I),  # OpenAI
    re.compile(r"Requested tokens \((\d+)\)"),  # llama-cpp-python
    re.compile(r"The input \((\d+) tokens\)"),  # SGLang
    re.compile(r"Given: (\d+) `inputs` tokens"),  # TGI
    re.compile(r'"n_prompt_tokens"\s*:\s*(\d+)'),  # llama.cpp, in the error object
)


def prompt_overflow(status: int, body: str) -> int | None:
    """The prompt's token count if ``(status, body)`` says the prompt is too long.

    Returns ``None`` when the answer is any other error, ``0`` when it is a
    too-long answer without a count.
    """
    if status not in _STATUSES:
        return None
    text = _decoded(body)
    if not _OVERFLOW.search(text):
        return None
    for pattern in _COUNTS:
        found = pattern.search(text)
        if found:
            return int(found.group(1))
    return 0


def _decoded(body: str) -> str:
    """The body with JSON string escapes undone, so patterns see the server's words."""
    try:
        return json.dumps(json.loads(body), ensure_ascii=False)
    except ValueError:
        return body
