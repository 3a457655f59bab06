"""The answer layouts the code rewriting stages parse, as GBNF grammars.

With structured generation on (``--structured on``, the default) an engine
decodes each sgcr and scor answer under its stage's grammar, so every answer
that finishes has the layout the parser in :mod:`~beam_swallow.transforms.parse`
reads: no GPU time is spent on answers that are thrown away for their form.
The paper generated unconstrained and lost about 13% of SGCR answers to an
unparsable score; ``--structured off`` restores that, for ablations.

Each grammar only narrows what the parser accepts, never widens it: an answer
it allows is read by the paper's rules with nothing left to chance.

- SGCR: ``### Evaluation Score``, a line holding a whole score from 1 to 10,
  ``### Suggestions`` with one to :data:`MAX_SUGGESTIONS` items (``- `` and
  text), then ``### Improved Code`` and one python block holding at least one
  non-blank line. :func:`~beam_swallow.transforms.parse.parse_sgcr` reads the
  score, the items and the block.
- SCOR: one python block and nothing else, read by
  :func:`~beam_swallow.transforms.parse.extract_code_block`.
- the v2 ``rewrite`` (:func:`program_grammar`): one block tagged for the
  record's language (its first fence tag: ``go``, ``cpp``, ``bash``) and
  nothing else.

Inside a python block no line may start (after indentation) with a backtick:
the parser closes a block at any line of three or more backticks, so such a
line would cut the code short, and no Python statement starts with one. Other
languages start lines with backticks (a Go raw string's closing line, a
JavaScript template literal, a shell command substitution), so their blocks
refuse only what the parser would take for the closing fence: three or more
backticks alone on a line. The math rewrite is free text and has no layout to
enforce.

The notation is llama.cpp's GBNF; vLLM's grammar backends (xgrammar,
llguidance) and SGLang's ``ebnf`` read the same text.
"""

from __future__ import annotations

__all__ = ["MAX_SUGGESTIONS", "SCOR_GRAMMAR", "SGCR_GRAMMAR", "program_grammar"]

MAX_SUGGESTIONS = 5  # items enough for ten criteria in brief; a small model may list forever

# A python block: blank lines, then a line with code, then any lines, then the
# closing fence on a line of its own.
_PYTHON_BLOCK = r"""
block ::= "```python\n" blank* codeline line* "```"
line ::= codeline | blank
codeline ::= [ \t]* [^`\n \t] [^\n]* "\n"
blank ::= [ \t]* "\n"
"""

SGCR_GRAMMAR = (
    r"""root ::= "### Evaluation Score\n" score "\n\n### Suggestions\n" suggestions """
    r""""\n### Improved Code\n" block
score ::= [1-9] | "10"
suggestions ::= item"""
    + " item?" * (MAX_SUGGESTIONS - 1)
    + r"""
item ::= "- " [^\n]+ "\n"
"""
    + _PYTHON_BLOCK
)

SCOR_GRAMMAR = "root ::= block\n" + _PYTHON_BLOCK

# A block of any language: a code line is any line but a closing fence (three or more
# backticks, alone); "ticked" lines start with one, two, or three or more backticks
# followed by something else.
_BLOCK = r"""
block ::= "```TAG\n" blank* codeline line* "```"
line ::= codeline | blank
codeline ::= [ \t]* (plain | ticked) "\n"
plain ::= [^`\n \t] [^\n]*
ticked ::= "`" ("`" ("`"+ [^`\n \t] [^\n]* | [^`\n] [^\n]*)? | [^`\n] [^\n]*)?
blank ::= [ \t]* "\n"
"""


def program_grammar(fence: str) -> str:
    """The v2 rewrite's layout for a language: one block opened with ``fence`` (the
    language's first tag, e.g. ``go``) and nothing else."""
    if not fence or any(ch in fence for ch in '`"\\\n '):
        raise ValueError(f"not a code-fence tag: {fence!r}")
    return "root ::= block\n" + _BLOCK.replace("TAG", fence)
