"""The syntax stage agrees with compile() and never raises."""

from __future__ import annotations

import pytest

from beam_swallow.records import Reason, Reject
from beam_swallow.samples import stdlib_python_files
from beam_swallow.transforms.syntax import compile_verdict, judge_syntax


def _compiles(source: str) -> bool:
    try:
        compile(source, "<string>", "exec")
    except BaseException:  # the reference: anything at all means "does not compile"
        return False
    return True


def test_verdicts_equal_compile_on_stdlib_files():
    files = stdlib_python_files()
    # Every 7th file (about 250) plus every file in test folders named like bad syntax.
    picked = files[::7] + [p for p in files if "bad" in p.name or "py2" in p.name]
    assert len(picked) > 200
    rejected = 0
    for path in picked:
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        reason, _ = compile_verdict(source)
        assert (reason is None) == _compiles(source), path
        rejected += reason is not None
    assert rejected > 0, "the pick holds known-bad files: some must be rejected"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("print 'hello'\n", Reason.SYNTAX_ERROR),  # Python 2
        ("exec 'x = 1'\n", Reason.SYNTAX_ERROR),
        ("x = 1\0\n", Reason.NULL_BYTES),
        ("x = " + "(" * 300 + ")" * 300 + "\n", Reason.TOO_DEEP),  # parser nesting limit
        ("x = " + "1+" * 100_000 + "1\n", Reason.TOO_DEEP),  # RecursionError
        ("x = " + "-" * 100_000 + "1\n", Reason.TOO_DEEP),  # MemoryError
        ("def f(:\n", Reason.SYNTAX_ERROR),
    ],
)
def test_hostile_sources_are_rejected_with_specific_reasons(source, reason):
    assert not _compiles(source)
    verdict = judge_syntax({"id": "x", "text": source})
    assert isinstance(verdict, Reject)
    assert verdict.reason == reason
    assert verdict.fields["error"]


@pytest.mark.parametrize("source", ["", "\n", "# only a comment\n", "x = 1\n" * 200_000])
def test_valid_sources_are_kept_and_marked(source):
    verdict = judge_syntax({"id": "x", "text": source})
    assert verdict == {"id": "x", "text": source, "syntax_ok": True}
