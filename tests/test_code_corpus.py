"""The real code corpus: files of every language found on this machine (toolchains, and
packages ``make corpora`` fetched), each routed to its language by its extension or
label, picked the same way every time, with broken copies that differ by one deletion
and that the language's exact parser (or, without one, the bracket count) refuses."""

from __future__ import annotations

import pytest

from beam_swallow.languages import names
from beam_swallow.languages.formatting.brackets import unbalanced
from beam_swallow.languages.routing import LanguageRouting
from beam_swallow.testing.code_corpus import (
    broken_copies,
    broken_copy,
    code_files,
    corpus_records,
    missing,
    reference_ok,
    reindented_copy,
    samples,
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


def test_files_are_spread_over_the_sorted_list():
    few, many = code_files("Go", count=3), code_files("Go", count=30)
    assert [f.path for f in few] == sorted(f.path for f in few)
    assert few[0] == many[0]  # both start at the first file
    assert len({f.path.rsplit("/src/", 1)[-1].split("/")[0] for f in many}) >= 10  # packages
    assert all(200 <= len(f.text.encode()) <= 64_000 for f in many)
    assert all(len(f.text.encode()) <= 1_000 for f in code_files("Go", 5, max_bytes=1_000))


@pytest.mark.parametrize("language", ["Go", "Shell", "Ruby", "Python"])
def test_samples_pair_a_file_the_parser_accepts_with_a_copy_it_refuses(language):
    rows = samples(language, 4)
    assert len(rows) >= 8 and [row.broken for row in rows] == [False, True] * (len(rows) // 2)
    for real, copy in zip(rows[::2], rows[1::2], strict=True):
        assert real.ok and not copy.ok and copy.name == f"{real.name} (broken)"
        assert reference_ok(language, real.text, real.name) is True
        assert reference_ok(language, copy.text, real.name) is False
        assert 0 < len(real.text) - len(copy.text) <= len("done")


@pytest.mark.parametrize("language", ["Cuda", "C#", "Kotlin", "Swift"])
def test_without_an_exact_parser_the_copy_is_broken_by_its_brackets(language):
    rows = samples(language, 4)
    assert reference_ok(language, rows[0].text) is None
    assert len(rows) >= 6
    for real, copy in zip(rows[::2], rows[1::2], strict=True):
        assert unbalanced(real.text) is None and unbalanced(copy.text) is not None


def test_a_reindented_copy_swaps_tabs_and_four_spaces():
    assert reindented_copy("a\n    b\n\t\tc\n      d\n") == "a\n\tb\n        c\n\t  d\n"
