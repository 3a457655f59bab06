"""The real code corpora: files of every language found on this machine (toolchains,
system packages, ``make corpora``), each routed to its language by its extension or
label, picked the same way every time, with broken copies that differ by one deletion."""

from __future__ import annotations

import pytest

from beam_swallow.languages import names
from beam_swallow.languages.routing import LanguageRouting
from beam_swallow.testing.code_corpus import (
    broken_copies,
    broken_copy,
    code_files,
    corpus_records,
    missing,
)

ROUTING = LanguageRouting()


def test_this_machine_has_files_of_every_language():
    assert missing() == {}, "run make corpora (Makefile) for these"


@pytest.mark.parametrize("language", names())
def test_files_of_each_language_route_to_it(language):
    files = code_files(language, count=5)
    assert len(files) == 5 and files == code_files(language, count=5)
    assert len({f.path for f in files}) == 5
    for record in corpus_records(files, labelled=False):
        if "." in record["path"].rsplit("/", 1)[-1]:  # a script in /usr/bin has no extension
            assert ROUTING.judge(record)["language"] in (language, "C"), record["path"]
    for record in corpus_records(files):
        assert ROUTING.judge(record)["language"] == language  # the label wins over .h


@pytest.mark.parametrize("language", names())
def test_a_broken_copy_is_the_file_less_one_deletion(language):
    for file in code_files(language, count=5):
        for copy in broken_copies(file):
            removed = len(file.text) - len(copy)
            assert 0 < removed <= len("done")
            cut = next(
                (i for i, (a, b) in enumerate(zip(copy, file.text, strict=False)) if a != b),
                len(copy),
            )
            assert file.text[:cut] + file.text[cut + removed :] == copy


def _python_rejects(_language: str, text: str) -> bool:
    try:
        compile(text, "<string>", "exec")
    except (SyntaxError, ValueError):
        return True
    return False


def test_python_broken_copies_are_broken_for_compile():
    files = code_files("Python", count=10)
    records = corpus_records(files, rejects=_python_rejects)
    broken = [r for r in records if r["broken"]]
    assert len(broken) >= 8  # nearly every file has a copy compile() refuses
    for record in broken:
        assert _python_rejects("Python", record["text"])
    for record in records:
        if not record["broken"]:
            assert not _python_rejects("Python", record["text"])


def test_broken_copy_takes_the_first_the_parser_refuses():
    files = code_files("Go", count=1)
    copies = list(broken_copies(files[0]))
    assert broken_copy(files[0]) == copies[0]
    assert broken_copy(files[0], lambda text: text == copies[-1]) == copies[-1]
    assert broken_copy(files[0], lambda text: False) is None
