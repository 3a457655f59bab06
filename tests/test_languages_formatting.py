"""Each language's formatter held to its own CLI, run once per file on the same real files.

The reference is the tool as a person runs it on one file (stdin in, stdout
out, the same settings); ours runs the tool once over a batch of files in a
folder. Outputs are compared as bytes, on real files and on copies of them
with tabs and spaces swapped in the indentation (many real files are their
formatter's output already: Go's own sources are gofmt's). Each real file also has a broken copy
(its last closing brace, parenthesis or keyword deleted) that the formatter
must refuse with its message whenever the CLI refuses it; C, C++ and CUDA,
whose CLI refuses nothing, are refused by the bracket check instead.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from beam_swallow.languages import names
from beam_swallow.languages.formatting import (
    FORMATTERS,
    NO_FORMATTER,
    FormatConfig,
    format_sources,
    formatter_label,
)
from beam_swallow.languages.formatting.biome import BIOME_CONFIG, biome_binary
from beam_swallow.languages.formatting.brackets import unbalanced
from beam_swallow.languages.formatting.clang_format import STYLE, clang_format_binary
from beam_swallow.languages.formatting.formatter import Unformatted
from beam_swallow.languages.formatting.google_java_format import GoogleJavaFormat
from beam_swallow.languages.formatting.ruff import ruff_binary
from beam_swallow.languages.formatting.rustfmt import EDITION
from beam_swallow.languages.formatting.shfmt import SHFMT_ARGS
from beam_swallow.languages.tools import find_tool
from beam_swallow.testing.code_corpus import CodeFile, broken_copy, code_files, reindented_copy

# Files per language: enough to meet many constructs; fewer for Java, whose CLI starts a JVM
# for every reference file.
_COUNT = {"Java": 12}
_DEFAULT_COUNT = 30
# Patient enough that a loaded machine answers well inside it; only a hang reaches it.
_PATIENT_S = 300.0
_CFG = FormatConfig(batch_files=1000, timeout_s=_PATIENT_S)

_SUFFIX = {
    "Python": ".py",
    "C": ".c",
    "C++": ".cpp",
    "Cuda": ".cu",
    "JavaScript": ".jsx",
    "TypeScript": ".ts",
    "TSX": ".tsx",
}
_SCRIPT_SUFFIX = {"JavaScript": ".cjs", "TypeScript": ".cts"}
_FORMATTED = ("Python", "C", "C++", "Cuda", "Go", "Rust", "JavaScript", "TypeScript", "TSX")
_FORMATTED += ("Java", "Shell")


def _cli(language: str, source: str, suffix: str | None, tmp: Path) -> tuple[int, bytes]:
    """The tool's CLI on one source's stdin: (exit status, stdout bytes)."""
    suffix = suffix or _SUFFIX.get(language, "")
    if language == "Python":
        args = [ruff_binary(), "format", "--isolated", "-"]
    elif language in ("C", "C++", "Cuda"):
        args = [clang_format_binary(), f"--style={STYLE}", f"--assume-filename=x{suffix}"]
    elif language == "Go":
        args = [find_tool("gofmt", "-")]
    elif language == "Rust":
        args = [find_tool("rustfmt", "-"), "--edition", EDITION]
    elif language in ("JavaScript", "TypeScript", "TSX"):
        config = tmp / "biome.json"
        config.write_text(json.dumps(BIOME_CONFIG), encoding="utf-8")
        args = [biome_binary(), "format", f"--stdin-file-path=x{suffix}", f"--config-path={tmp}"]
    elif language == "Java":
        args = [*GoogleJavaFormat().command(), "-"]
    elif language == "Shell":
        args = [find_tool("shfmt", "-"), *SHFMT_ARGS]
    else:
        raise AssertionError(language)
    done = subprocess.run(
        args, input=source.encode("utf-8"), capture_output=True, cwd=tmp, timeout=_PATIENT_S
    )
    return done.returncode, done.stdout


def _reference(language: str, source: str, tmp: Path) -> bytes | None:
    """What the CLI writes for the source alone, or None when it refuses it; Biome tries a
    script after a module as ours does."""
    code, out = _cli(language, source, None, tmp)
    if code != 0 and language in _SCRIPT_SUFFIX:
        code, out = _cli(language, source, _SCRIPT_SUFFIX[language], tmp)
    return out if code == 0 else None


def _files(language: str) -> list[CodeFile]:
    found = code_files(language, _COUNT.get(language, _DEFAULT_COUNT))
    assert len(found) >= min(10, _COUNT.get(language, _DEFAULT_COUNT)), (
        f"too few real {language} files here (make tools corpora)"
    )
    return found


@pytest.mark.parametrize("language", _FORMATTED)
def test_the_formatter_writes_what_its_cli_writes_for_each_real_file(language, tmp_path):
    real = [file.text for file in _files(language)]
    sources = real + [reindented_copy(text) for text in real]
    outcomes = format_sources(language, sources, _CFG)
    assert len(outcomes) == len(sources)
    formatted = changed = 0
    for source, outcome in zip(sources, outcomes, strict=True):
        expected = _reference(language, source, tmp_path)
        if language in ("C", "C++", "Cuda") and unbalanced(source) is not None:
            assert outcome.text is None and outcome.error.startswith("unbalanced brackets")
            continue
        if expected is None:
            assert outcome.text is None and outcome.error, outcome
            continue
        assert outcome.error is None, outcome.error
        assert outcome.text.encode("utf-8") == expected
        formatted += 1
        changed += outcome.text != source
    # real files, mostly formatted, and the formatter really changed some of them
    assert formatted >= 0.8 * len(sources), (language, formatted, len(sources))
    assert changed > 0


@pytest.mark.parametrize("language", _FORMATTED)
def test_a_broken_copy_is_refused_with_the_tools_message(language, tmp_path):
    copies = [copy for copy in map(broken_copy, _files(language)) if copy]
    outcomes = format_sources(language, copies, _CFG)
    refused = 0
    for copy, outcome in zip(copies, outcomes, strict=True):
        if language in ("C", "C++", "Cuda"):
            expected_refusal = unbalanced(copy) is not None  # clang-format refuses nothing
        else:
            expected_refusal = _reference(language, copy, tmp_path) is None
        if expected_refusal:
            assert outcome.text is None, (language, copy[-200:])
            # the message places the error in the file, the batch's file name removed
            assert re.search(r"\d+:\d+", outcome.error), outcome.error
            assert not re.search(
                r"\b\d+\.(py|c|cpp|cu|go|rs|jsx|cjs|ts|cts|tsx|java|sh)\b", outcome.error
            )
            refused += 1
        else:
            assert outcome.error is None, outcome.error
    assert refused >= 0.8 * len(copies), (language, refused, len(copies))


@pytest.mark.parametrize("language", ["C", "C++", "Cuda"])
def test_the_bracket_check_passes_real_files_and_refuses_their_broken_copies(language):
    files = code_files(language, 1000)
    assert len(files) >= 100
    passed = sum(unbalanced(file.text) is None for file in files)
    copies = [copy for copy in map(broken_copy, files) if copy]
    refused = sum(unbalanced(copy) is not None for copy in copies)
    assert passed >= 0.99 * len(files), (passed, len(files))
    assert refused >= 0.9 * len(copies), (refused, len(copies))


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("int f() { return (1; }", "1:22: '}' does not close '(' at 1:18"),
        ("int f() { return 1; }}", "1:22: '}' closes nothing"),
        ("int f() {\n  /* } */ return 1;\n", "1:9: '{' is never closed"),
        ('char *s = "{"; char c = \'(\'; auto r = R"x(})x";', None),
        ("#define OPEN {\n#define CLOSE(x) x)\n", None),
        ("#define A 1 /* a comment that goes on\n   ) */\nint x;\n", None),
        # two heads for one body: each branch from where the #if began
        ("#ifdef X\nvoid f(int a) {\n#else\nvoid f(void) {\n#endif\n  return; }\n", None),
        # opened in one conditional without #else, closed in another
        ('#ifdef __cplusplus\nextern "C" {\n#endif\nint x;\n#ifdef __cplusplus\n}\n#endif\n', None),
        # a body that is all #else, missing its last brace
        ("#if OLD\n#else\nnamespace s {\n#endif\n", "1:1: the branches of this conditional"),
    ],
)
def test_what_the_bracket_check_counts(source, why):
    found = unbalanced(source)
    assert found == why if why is None else found.startswith(why)


def test_a_refused_file_leaves_the_rest_of_its_batch_formatted(tmp_path):
    # the broken file first, so that a tool stopping at it would leave the others unformatted
    for language in ("Go", "Shell", "Rust", "Java", "JavaScript"):
        good = _files(language)[:3]
        broken = next(copy for copy in map(broken_copy, good) if copy)
        sources = [file.text for file in good]
        outcomes = format_sources(language, [broken, *sources], _CFG)
        assert outcomes[0].text is None
        for source, outcome in zip(sources, outcomes[1:], strict=True):
            assert outcome.text.encode("utf-8") == _reference(language, source, tmp_path)


def test_rust_follows_no_module_a_source_names(tmp_path):
    # files of real crates that declare `mod x;` (batched: rustfmt must not go looking for x.rs)
    declaring = [f.text for f in code_files("Rust", 400) if re.search(r"^mod \w+;", f.text, re.M)]
    assert len(declaring) >= 3, "no crate file declares `mod x;`"
    # a module named on a path outside the batch: rustfmt would read it and rewrite it
    outside = tmp_path / "elsewhere.rs"
    outside.write_text("fn  untouched( ) {}\n", encoding="utf-8")
    pathed = f'#[path = "{outside}"]\nmod elsewhere;\nfn  main( ) {{}}\n'
    outcomes = format_sources("Rust", [*declaring[:5], pathed], _CFG)
    for source, outcome in zip(declaring, outcomes[:-1], strict=False):
        assert outcome.text.encode("utf-8") == _reference("Rust", source, tmp_path)
    assert outcomes[-1].text == f'#[path = "{outside}"]\nmod elsewhere;\nfn main() {{}}\n'
    assert outside.read_text(encoding="utf-8") == "fn  untouched( ) {}\n"


def test_sloppy_javascript_falls_back_from_module_to_script():
    [sloppy, module, jsx, broken] = format_sources(
        "JavaScript",
        [
            "var protected = 1\nwith (o) { x = 0777 }\n",
            "import x from 'y'\nexport default x\n",
            "const a = <div className='x'>{y}</div>\n",
            "function f( {\n",
        ],
        _CFG,
    )
    assert sloppy.text == "var protected = 1;\nwith (o) {\n  x = 0777;\n}\n"
    assert module.text == 'import x from "y";\nexport default x;\n'
    assert jsx.text == 'const a = <div className="x">{y}</div>;\n'
    assert broken.text is None and broken.error.startswith("2:1: ")


def test_line_endings_and_unicode_come_back_as_the_tool_wrote_them(tmp_path):
    for language, source in (
        ("Go", 'package x\r\n\r\nfunc  f( ) { _ = "héllo ☃" }\r\n'),
        ("Rust", 'fn  f( ) {\r\n    let _ = "héllo ☃";\r\n}\r\n'),
        ("Rust", "mod a;\r\nfn  f( ) {}\r\n"),
        ("Shell", "echo  'héllo ☃'\r\n"),
        ("C", "int  f( ) {\r\n  return 0; }\r\n"),
        ("JavaScript", "const  s = 'héllo ☃'\r\n"),
    ):
        [outcome] = format_sources(language, [source], _CFG)
        expected = _reference(language, source, tmp_path)
        assert expected is not None
        assert outcome.text.encode("utf-8") == expected, language


def test_text_that_is_not_unicode_is_refused_alone():
    outcomes = format_sources("Go", ["package x\n", "package \udc80\n"], _CFG)
    assert outcomes[0].text == "package x\n"
    assert outcomes[1].text is None and "not valid Unicode" in outcomes[1].error


def test_every_language_of_the_catalog_has_its_entry():
    assert list(FORMATTERS) == list(names())


def test_languages_without_a_formatter_pass_unchanged():
    ruby = [file.text for file in code_files("Ruby", 5)]
    assert ruby
    assert [outcome.text for outcome in format_sources("Ruby", ruby, _CFG)] == ruby
    for language in ("PHP", "Ruby", "C#", "Kotlin", "Swift"):
        assert isinstance(FORMATTERS[language], Unformatted)
        assert formatter_label(language) == NO_FORMATTER


@pytest.mark.parametrize(
    ("language", "pattern"),
    [
        ("Python", r"ruff \d+\.\d+\.\d+"),
        ("C", r"clang-format \d+\.\d+\.\d+"),
        ("Cuda", r"clang-format \d+\.\d+\.\d+"),
        ("Go", r"gofmt go\d+\.\d+(\.\d+)?"),
        ("Rust", r"rustfmt \d+\.\d+\.\d+-\w+"),
        ("TSX", r"biome \d+\.\d+\.\d+"),
        ("Java", r"google-java-format \d+\.\d+\.\d+ \(\w+ \d+[.\d]*\)"),
        ("Shell", r"shfmt \d+\.\d+\.\d+"),
    ],
)
def test_each_formatter_names_its_version(language, pattern):
    assert re.fullmatch(pattern, formatter_label(language))


def test_an_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="no such language: 'Haskell'"):
        format_sources("Haskell", ["main = pure ()\n"], _CFG)
