"""The v2 recipe on every language, without a model: the score and rewrite prompts name
the record's language, the rewrite's layout and code fence are its language's, the
rewrite is parsed again by its language's parser, lint_errors passes files ruff cannot
read, and the quality measures are taken per language. The parsers of languages other
than Python live in the parse home (beam_swallow.languages.parsing); the checks that
need them skip where it is not installed."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that, equal_to

from beam_swallow.inference.base import ChatResult, Message
from beam_swallow.inference.config import EngineConfig
from beam_swallow.languages import LANGUAGES, by_label
from beam_swallow.languages.parsing.python import CHECKER as PYTHON_CHECKER
from beam_swallow.prompts import load_prompt, parse_prompt
from beam_swallow.records import TEXT, Reason, Reject
from beam_swallow.testing.code_corpus import code_files
from beam_swallow.transforms import LintErrors
from beam_swallow.transforms.layouts import SCOR_GRAMMAR, program_grammar
from beam_swallow.transforms.quality import code_measures
from beam_swallow.transforms.recheck import parse_check
from beam_swallow.transforms.rewrite import build_rewrite_request, judge_rewrite
from beam_swallow.transforms.rewriting import RewriteConfig, build_request

ENGINE = EngineConfig()
REWRITE = RewriteConfig(prompt=load_prompt("rewrite"), grammar=SCOR_GRAMMAR)
PYTHON_CODE = '''def area(width: float, height: float) -> float:
    """The area of a rectangle, in the square of the sides' unit."""
    return width * height
'''


def _system(messages: tuple[Message, ...]) -> str:
    return next(m.content for m in messages if m.role == "system")


@pytest.mark.parametrize("language", [language.name for language in LANGUAGES])
def test_the_score_and_rewrite_prompts_name_the_records_language(language):
    record = {"id": "1", "text": "code\n", "language": language}
    score = build_request(record, ENGINE, RewriteConfig(prompt=load_prompt("score")))
    rewrite = build_rewrite_request(record, ENGINE, REWRITE)
    fence = by_label(language).fences[0]
    for request in (score, rewrite):
        system = _system(request.messages)
        assert f"{language} file" in system and "{language}" not in system
        assert request.messages[-1] == Message("user", "code\n")
    assert f"one fenced code block tagged {fence}," in _system(rewrite.messages)
    assert rewrite.grammar == program_grammar(fence) and f'"```{fence}\\n"' in rewrite.grammar


def test_the_template_is_what_the_prompt_sha_covers():
    prompt = load_prompt("rewrite")
    assert "{language}" in prompt.turns[0].content and "{fence}" in prompt.turns[0].content
    go = prompt.messages("x", {"language": "Go", "fence": "go"})
    assert "experienced Go engineer" in go[0].content
    with pytest.raises(ValueError, match="no placeholder"):
        prompt.messages("x", {"lang": "Go"})
    plain = parse_prompt("rewrite", b"Rewrite {this} well.", "own")  # braces of its own
    assert plain.messages("x", {"language": "Go"})[0].content == "Rewrite {this} well."


def test_structured_generation_off_sends_no_layout():
    unstructured = RewriteConfig(prompt=load_prompt("rewrite"), grammar=None)
    request = build_rewrite_request(
        {"id": "1", "text": "x", "language": "Go"}, ENGINE, unstructured
    )
    assert request.grammar is None


def test_a_layout_refuses_what_is_no_fence_tag():
    with pytest.raises(ValueError):
        program_grammar("go\n```")


def _judge(language: str, answer: str, **cfg) -> dict | Reject:
    record = {"id": "1", "text": "old\n", "language": language}
    config = RewriteConfig(prompt=load_prompt("rewrite"), short_chars=10, **cfg)
    return judge_rewrite(record, ChatResult(id="1", text=answer, finish_reason="stop"), config)


@pytest.mark.parametrize("fence", ["python", "py", "PYTHON3", ""])
def test_a_python_rewrite_in_a_fence_of_its_language_or_none_is_kept(fence):
    out = _judge("Python", f"```{fence}\n{PYTHON_CODE}```\n")
    assert out[TEXT] == PYTHON_CODE and out["rewritten"] is True
    assert out["parses"] is True and out["parse_checker"] == PYTHON_CHECKER
    assert out["original_sha1"]


@pytest.mark.parametrize(("language", "fence"), [("Python", "js"), ("Go", "rust"), ("C", "cpp")])
def test_a_fence_of_another_language_is_wrong_language(language, fence):
    verdict = _judge(language, f"```{fence}\n{PYTHON_CODE}```\n")
    assert verdict.reason == Reason.WRONG_LANGUAGE and verdict.fields["fence"] == fence
    assert verdict.fields["answer"].startswith(f"```{fence}")


def test_a_rewrite_that_does_not_parse_is_rejected_with_where():
    verdict = _judge("Python", "```python\ndef broken(:\n    return 1\n```\n")
    assert verdict.reason == Reason.DOES_NOT_PARSE
    assert verdict.fields["parses"] is False and "SyntaxError" in verdict.fields["error"]
    kept = _judge("Python", "```python\ndef broken(:\n    return 1\n```\n", keep_uncompilable=True)
    assert kept["parses"] is False and kept["rewritten"] is True


def test_no_block_and_too_short():
    assert _judge("Go", "no code here").reason == Reason.NO_CODE_BLOCK
    assert _judge("Go", "```go\n\n```").reason == Reason.NO_CODE_BLOCK
    assert _judge("Go", "```go\nx := 1\n```").reason == Reason.TOO_SHORT


@pytest.mark.parametrize("language", ["Go", "C", "JavaScript", "Shell", "Java", "Rust"])
def test_real_files_rewritten_in_their_language_are_parsed_by_its_parser(language):
    """A real file its parser accepts, given back as a rewrite, is kept; cut short, refused."""
    files = code_files(language, count=20, max_bytes=4_000)
    file = next(f for f in files if parse_check(language, f.text).ok)
    fence = by_label(language).fences[0]
    out = _judge(language, f"```{fence}\n{file.text}```\n")
    assert out["parses"] is True and out["rewritten"] is True, out.get("error")
    broken = file.text[: file.text.rfind("}")] if "}" in file.text else None
    if broken is not None and not parse_check(language, broken).ok:
        assert _judge(language, f"```{fence}\n{broken}\n```\n").reason == Reason.DOES_NOT_PARSE


def test_quality_measures_of_another_language_have_no_pylint_scores():
    file = code_files("Go", count=1)[0]
    measures = code_measures(file.text, "Go", None)
    assert measures == {"chars": len(file.text), "parses": True}


def test_lint_errors_checks_python_and_passes_other_languages(tmp_path):
    go = code_files("Go", count=1)[0].text
    records = [
        {"id": "py-bad", "text": "print(undefined_name)\n", "language": "Python"},
        {"id": "py-ok", "text": PYTHON_CODE, "language": "Python"},
        {"id": "go", "text": go, "language": "Go"},
        {"id": "sh", "text": "echo $undefined\n", "language": "Shell"},
    ]
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = pipeline | beam.Create(records) | LintErrors()
        kept = out.kept | "KeptIds" >> beam.Map(lambda r: (r["id"], r.get("lint_errors_checked")))
        rejected = out.rejected | beam.Map(lambda r: (r["id"], r["reason"]))
        assert_that(kept, equal_to([("py-ok", None), ("go", False), ("sh", False)]), label="kept")
        assert_that(rejected, equal_to([("py-bad", Reason.LINT_ERRORS)]), label="rejected")
        assert_that(out.dead_letter, equal_to([]), label="dead")
