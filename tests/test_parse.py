"""The answer parsers on crafted answers: the layouts models really produce."""

from __future__ import annotations

import pytest

from beam_swallow.transforms.parse import (
    NO_SCORE,
    SGCRAnswer,
    extract_code_block,
    fenced_blocks,
    parse_sgcr,
)

FULL = """### Evaluation Score
6

### Suggestions
- Add type hints to `area`.
- Rename `x` to
  `radius`.
1. Add a docstring.

### Improved Code
```python
def area(radius: float) -> float:
    return 3.14159 * radius**2
```
"""


def test_full_answer():
    answer = parse_sgcr(FULL)
    assert answer == SGCRAnswer(
        6.0,
        ["Add type hints to `area`.", "Rename `x` to `radius`.", "Add a docstring."],
        "def area(radius: float) -> float:\n    return 3.14159 * radius**2",
    )


def test_crlf_answer_parses_like_lf():
    assert parse_sgcr(FULL.replace("\n", "\r\n")) == parse_sgcr(FULL)
    assert extract_code_block("```\r\nx = 1\r\n```\r\n") == "x = 1\n"


@pytest.mark.parametrize(
    ("section", "score"),
    [
        ("7", 7.0),
        ("7.5", 7.5),
        ("**8**", 8.0),
        ("7/10", 7.0),
        ("7 / 10", 7.0),
        ("7 out of 10", 7.0),
        ("Score: 9", 9.0),
        ("- 4", 4.0),
        ("10", 10.0),
        ("0", 0.0),
        ("N/A", NO_SCORE),
        ("", NO_SCORE),
        ("seven", NO_SCORE),
        ("11", NO_SCORE),
        ("7/100", NO_SCORE),
        ("-3", NO_SCORE),
    ],
)
def test_score_values(section, score):
    answer = parse_sgcr(
        f"### Evaluation Score\n{section}\n\n### Improved Code\n```python\npass\n```"
    )
    assert answer.score == score
    assert answer.code == "pass"


def test_score_in_the_header_line():
    assert parse_sgcr("### Evaluation Score: 8/10\nGood code.").score == 8.0


# The layout the paper's prompt asks for and its parser reads: the score after
# "Evaluation:" in a header line, the code block stripped.
PAPER_LAYOUT = """### Evaluation: 6.5

### Suggestions
- Add type hints.

### Improved Code
```python

def double(value: int) -> int:
    return value * 2

```
"""


def test_the_papers_layout():
    answer = parse_sgcr(PAPER_LAYOUT)
    assert answer == SGCRAnswer(
        6.5, ["Add type hints."], "def double(value: int) -> int:\n    return value * 2"
    )
    assert parse_sgcr(PAPER_LAYOUT.replace("6.5", "nine")).score == NO_SCORE
    assert parse_sgcr("### Evaluation\n8\n").score == 8.0
    # a title that merely mentions evaluation later is not the score
    assert parse_sgcr("### Notes on evaluation: 3\n").score == NO_SCORE


def test_no_score_section():
    assert parse_sgcr("```python\nx = 1\n```").score == NO_SCORE


def test_python_tag_required_for_sgcr():
    answer = parse_sgcr("### Improved Code\n```\nx = 1\n```\n")
    assert answer.code is None
    assert parse_sgcr("```py\nx = 1\n```").code is None
    assert parse_sgcr("```Python\nx = 1\n```").code == "x = 1"


def test_sgcr_takes_first_python_block_after_other_languages():
    text = "```bash\npip install x\n```\n```python\na = 1\n```\n```python\nb = 2\n```"
    assert parse_sgcr(text).code == "a = 1"


def test_fences_must_stand_on_their_own_lines():
    assert parse_sgcr("here: ```python x = 1```").code is None
    assert parse_sgcr("```python\nx = 1```").code is None
    assert extract_code_block("text ```x = 1``` text") is None


def test_unclosed_fence_gives_no_code():
    truncated = "### Improved Code\n```python\ndef f():\n    return 1\n"
    assert parse_sgcr(truncated).code is None
    assert extract_code_block(truncated) is None


def test_empty_answers():
    assert parse_sgcr("") == SGCRAnswer()
    assert extract_code_block("") is None
    assert extract_code_block("```python\n\n   \n```") is None
    assert parse_sgcr("```python\n\n```").code is None


def test_hash_comments_inside_code_are_not_headers():
    text = "### Suggestions\n- one\n```python\n### not a header\nx = 1\n```\n- two"
    answer = parse_sgcr(text)
    assert answer.code == "### not a header\nx = 1"
    assert answer.suggestions[0] == "one"


def test_suggestions_as_paragraphs():
    answer = parse_sgcr("### Suggestions\nUse clearer names.\n\nAdd tests.\n### Improved Code\n")
    assert answer.suggestions == ["Use clearer names.", "Add tests."]


def test_extract_first_block_any_language_stripped_with_newline():
    text = "Here it is:\n\n```javascript\n\n  let a = 1;  \n\n```\n```python\nx = 1\n```"
    assert extract_code_block(text) == "let a = 1;\n"
    assert extract_code_block("```\nx = 1\n```") == "x = 1\n"


def test_longer_fences_may_quote_shorter_ones():
    text = "````python\ndoc = '''\n```\ninner\n```\n'''\n````"
    assert parse_sgcr(text).code == "doc = '''\n```\ninner\n```\n'''"
    assert fenced_blocks(text)[0][0] == "python"


def test_indented_fence_in_a_list():
    assert extract_code_block("1. Code:\n   ```python\n   x = 1\n   ```\n") == "x = 1\n"
