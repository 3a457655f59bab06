"""Real code in every language of the catalog, read at test time, with broken copies.

Nothing of it is stored in the repository. Each language's files are read where
a toolchain put them or where ``make corpora`` (Makefile) unpacked packages it
fetched from the registries, nothing installed (``.cache/corpora``, or
``$BEAM_SWALLOW_CORPORA``):

============  ===============================================================
language      where its files come from
============  ===============================================================
Python        this interpreter's standard library (its tests left out)
Go            ``$(go env GOROOT)/src`` (``testdata`` left out)
C             Go's ``.c`` sources and this Python's C headers
C++           googletest's sources (Debian ``googletest``)
Cuda          the CUB headers of NVIDIA's CCCL wheel (PyPI ``nvidia-cuda-cccl``)
Rust          the crates ``templates/fixtures/rust`` pins (cargo fetch)
JavaScript    npm's own ``lib``, then the ``.js`` of the npm packages fetched
TypeScript    the ``.ts`` sources of TanStack's npm packages, then TypeScript's
              ``lib`` (``make tools``)
TSX           the ``.tsx`` sources of TanStack's npm packages
Java          Guava's sources jar (Maven Central)
Kotlin        kotlinx-coroutines' sources jar (Maven Central)
Shell         ``/usr/bin`` scripts, by their ``#!`` line
PHP           Twig and Symfony Console (Debian ``php-twig``, ``php-symfony-console``)
Ruby          Ruby's own library (``RbConfig::CONFIG["rubylibdir"]``)
C#            pythonnet's sources (its PyPI sdist)
Swift         Capacitor's iOS sources (npm ``@capacitor/ios``)
============  ===============================================================

:func:`code_files` picks ``count`` of a language's files, evenly spaced over
its sorted list, the same ones on every run. :func:`broken_copies` gives, in a
fixed order, copies of a file with one closing brace, parenthesis or block
keyword deleted; :func:`broken_copy` keeps the first that a given check
refuses. :func:`reference_ok` is the exact parser's verdict on one file, run
as its authors' tools run, one process a file; :func:`samples` pairs each real
file it accepts with a copy it refuses. CUDA, C#, Kotlin and Swift have no
exact parser here (nvcc needs the CUDA toolkit; the others' compilers are not
on this kind of machine): there the copy is broken by construction, a file
whose brackets pair up less one of them (counted outside comments and strings
as :func:`~beam_swallow.languages.formatting.brackets.unbalanced` counts them).
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import subprocess
import sysconfig
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from beam_swallow.languages import names
from beam_swallow.languages.formatting.brackets import unbalanced
from beam_swallow.languages.parsing import exact_checker
from beam_swallow.languages.tools import find_tool, tools_home
from beam_swallow.records import Record
from beam_swallow.samples import stdlib_python_files

__all__ = [
    "CodeFile",
    "Sample",
    "broken_copies",
    "broken_copy",
    "code_files",
    "corpus_home",
    "corpus_records",
    "missing",
    "reference_ok",
    "reindented_copy",
    "samples",
]

_TIMEOUT_S = 120.0
_SHELL_LINE = re.compile(rb"#! ?(/usr)?/bin/(env )?(ba)?sh\b")


@dataclass(frozen=True)
class CodeFile:
    """One real file: its language (the catalog's name), where it was found (``path``,
    a file's path or ``archive!entry``, with its real name and extension) and its text."""

    language: str
    path: str
    text: str


@dataclass(frozen=True)
class Sample:
    """A file for the syntax tests: its name, its text and the reference verdict (``ok``);
    ``broken`` for a broken copy."""

    name: str
    text: str
    ok: bool
    broken: bool


@dataclass(frozen=True)
class _Found:
    path: str
    size: int  # bytes
    read: Callable[[], bytes]


def corpus_home() -> Path:
    """Where ``make corpora`` unpacks what no toolchain brings: ``$BEAM_SWALLOW_CORPORA``,
    else ``.cache/corpora`` in the checkout this package runs from."""
    configured = os.environ.get("BEAM_SWALLOW_CORPORA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / ".cache" / "corpora"


def _probe(args: list[str]) -> Path | None:
    """A folder a toolchain prints about itself, or None when it is not installed."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = done.stdout.strip()
    return Path(found) if done.returncode == 0 and found else None


def _walk(root: Path | None, suffixes: tuple[str, ...], skip: tuple[str, ...] = ()) -> list[_Found]:
    """Files under ``root`` whose names end with one of ``suffixes``, sorted, none inside a
    folder named in ``skip``."""
    if root is None or not root.is_dir():
        return []
    return [
        _Found(str(path), path.stat().st_size, path.read_bytes)
        for path in sorted(root.rglob("*"))
        if path.name.endswith(suffixes)
        and not any(part in skip for part in path.relative_to(root).parts[:-1])
        and path.is_file()
    ]


def _archive(folder: Path, pattern: str, suffix: str) -> list[_Found]:
    """The ``suffix`` entries of the last jar in ``folder`` matching ``pattern``, sorted."""
    jars = sorted(folder.glob(pattern))
    if not jars:
        return []
    with zipfile.ZipFile(jars[-1]) as archive:
        entries = sorted((i.filename, i.file_size) for i in archive.infolist())

    def reader(name: str) -> Callable[[], bytes]:
        def read() -> bytes:
            with zipfile.ZipFile(jars[-1]) as opened:
                return opened.read(name)

        return read

    return [_Found(f"{jars[-1]}!{n}", size, reader(n)) for n, size in entries if n.endswith(suffix)]


def _shell_scripts() -> list[_Found]:
    found = []
    for path in sorted(Path("/usr/bin").iterdir()):
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as head:
            if _SHELL_LINE.match(head.readline(80)):
                found.append(_Found(str(path), path.stat().st_size, path.read_bytes))
    return found


def _python() -> list[_Found]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return [
        _Found(str(path), path.stat().st_size, path.read_bytes)
        for path in stdlib_python_files()
        if not {"test", "tests"} & set(path.relative_to(root).parts[:-1])
    ]


def _files_of(language: str) -> list[_Found]:
    home = corpus_home()
    npm = home / "npm"
    node = tools_home() / "node" / "node_modules"
    if language == "Python":
        return _python()
    goroot = _goroot()
    if language == "Go":
        return _walk(goroot and goroot / "src", (".go",), skip=("testdata",))
    if language == "C":
        python_headers = Path(sysconfig.get_paths()["include"])
        return _walk(goroot, (".c",), skip=("testdata",)) + _walk(python_headers, (".h",))
    if language == "C++":
        return _walk(home / "debian" / "usr" / "src" / "googletest", (".cc", ".h"))
    if language == "Cuda":
        return _walk(home / "pypi" / "cuda", (".cuh",))
    if language == "Rust":
        return _walk(home / "cargo" / "registry" / "src", (".rs",))
    if language == "JavaScript":
        return _walk(Path("/usr/lib/node_modules/npm/lib"), (".js",)) + _walk(npm, (".js", ".mjs"))
    if language == "TypeScript":
        ours = [f for f in _walk(npm, (".ts",)) if not f.path.endswith(".d.ts")]
        return ours + _walk(node / "typescript" / "lib", (".ts",))
    if language in ("TSX", "Swift"):
        return _walk(npm, (".tsx",) if language == "TSX" else (".swift",))
    if language == "Java":
        return _archive(home / "maven", "guava-*-sources.jar", ".java")
    if language == "Kotlin":
        return _archive(home / "maven", "kotlinx-coroutines-core-jvm-*-sources.jar", ".kt")
    if language == "Shell":
        return _shell_scripts()
    if language == "PHP":
        return _walk(home / "debian" / "usr" / "share" / "php", (".php",))
    if language == "Ruby":
        return _walk(_probe(["ruby", "-e", 'print RbConfig::CONFIG["rubylibdir"]']), (".rb",))
    if language == "C#":
        return _walk(home / "pypi", (".cs",), skip=("cuda",))
    raise KeyError(f"no corpus for {language!r}")


@functools.cache
def _goroot() -> Path | None:
    return _probe(["go", "env", "GOROOT"])


@functools.cache
def _candidates(language: str) -> tuple[_Found, ...]:
    return tuple(_files_of(language))


def _strided(language: str, count: int, min_bytes: int, max_bytes: int) -> Iterator[CodeFile]:
    """Of the ``n`` sorted files of ``language`` of ``min_bytes`` to ``max_bytes``, every
    ``n // count``-th from the first to the end of the list (``count`` to ``2 * count - 1``
    files when ``n >= count``), as UTF-8 text; one that is not UTF-8, holds a NUL byte or
    repeats a text already given gives way to the next."""
    sized = [found for found in _candidates(language) if min_bytes <= found.size <= max_bytes]
    texts: set[str] = set()
    index = 0
    for slot in range(0, len(sized), max(1, len(sized) // max(1, count))):
        index = max(index, slot)
        while index < len(sized):
            found, index = sized[index], index + 1
            try:
                text = found.read().decode("utf-8")
            except UnicodeDecodeError:
                continue
            if "\0" not in text and text not in texts:
                texts.add(text)
                yield CodeFile(language, found.path, text)
                break


def code_files(
    language: str, count: int = 20, min_bytes: int = 200, max_bytes: int = 64_000
) -> list[CodeFile]:
    """Up to ``count`` real files of ``language`` (a catalog name) of ``min_bytes`` to
    ``max_bytes``, UTF-8 without NUL bytes: of the sorted list of ``n`` such files, every
    ``n // count``-th from the first, so that they come from many packages (one that is
    not UTF-8 or repeats a text already picked gives way to the next). The same pick on
    every run; fewer (or none) when this machine has fewer (see :func:`missing`)."""
    return list(itertools.islice(_strided(language, count, min_bytes, max_bytes), count))


_BROUGHT_BY = {
    "Python": "a Python standard library",
    "Go": "Go on PATH (go env GOROOT)",
    "C": "Go on PATH, or this Python's C headers",
    "Ruby": "Ruby (make tools)",
    "Shell": "shell scripts in /usr/bin",
    "JavaScript": "Node's npm",
}


def missing(languages: tuple[str, ...] = names()) -> dict[str, str]:
    """The languages among ``languages`` this machine has no files of, each with what
    brings them (a toolchain, else ``make corpora``)."""
    return {
        language: _BROUGHT_BY.get(language, "make corpora (Makefile)")
        for language in languages
        if not _candidates(language)
    }


# What is deleted to break a file, in the order tried: the last closing brace, else an
# opening one; for languages whose blocks close with words, those words.
_BRACES = ("}", ")", "{", "(")
_WORD_ENDS = {
    "Python": (")", "]", ":"),
    "Ruby": (r"\bend\b", ")"),
    "Shell": (r"\b(?:fi|done|esac)\b|\}", ")"),
}


_NOT_CODE = ("//", "/*", "*", "#")  # how a comment or preprocessor line starts


def _in_code(text: str, offset: int) -> bool:
    """Whether the line around ``offset`` is code: not a comment or preprocessor line, nor
    a line that a backslash continues (a macro's body)."""
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    line = text[start : len(text) if end < 0 else end]
    return not line.lstrip().startswith(_NOT_CODE) and not line.rstrip().endswith("\\")


def broken_copies(file: CodeFile) -> Iterator[str]:
    """Copies of ``file``'s text with one closing brace, parenthesis or block keyword
    deleted from a line of code (not a comment or preprocessor line), in a fixed order:
    for each kind, its last occurrence (the file ends too soon), then its first."""
    for mark in _WORD_ENDS.get(file.language, _BRACES):
        pattern = re.compile(mark if "\\b" in mark else re.escape(mark))
        found = [m for m in pattern.finditer(file.text) if _in_code(file.text, m.start())]
        for match in (found[-1], found[0]) if found else ():
            yield file.text[: match.start()] + file.text[match.end() :]


def broken_copy(file: CodeFile, rejects: Callable[[str], bool] | None = None) -> str | None:
    """The first of :func:`broken_copies` that ``rejects`` (a check: True when the text
    does not parse) refuses; without ``rejects``, the first (the last closer deleted).
    None when no copy is refused."""
    for text in broken_copies(file):
        if rejects is None or rejects(text):
            return text
    return None


def _include_dirs(path: str) -> list[str]:
    """The ``include`` folders of the project a C/C++ file is in, and the project's root,
    as its build would pass them."""
    found = []
    for parent in Path(path).parents:
        if (parent / "include").is_dir():
            found += [str(parent / "include"), str(parent)]
    return found


_C_FLAGS = {"C": ["gcc", "-x", "c"], "C++": ["g++", "-x", "c++", "-std=c++17"]}


def reference_ok(language: str, text: str, path: str = "") -> bool | None:
    """The exact parser's verdict on ``text`` alone, one process (or worker request) for
    it: ``compile()``, ``gofmt -e``, ``rustfmt --edition 2021``, ``bash -n``, ``php -l``,
    ``ruby -c``, esbuild's CLI, TypeScript's and javac's parsers, ``gcc``/``g++
    -fsyntax-only`` with the include folders of the project ``path`` is in. None for a
    language with no exact parser here (CUDA, C#, Kotlin, Swift)."""
    if language == "Python":
        try:
            compile(text, path or "<corpus>", "exec")
        except (SyntaxError, ValueError):
            return False
        return True
    if language in _C_FLAGS:
        includes = [sysconfig.get_paths()["include"], *_include_dirs(path)]
        args = [*_C_FLAGS[language], "-fsyntax-only", "-w", "-iquote", "."]
        args += [f"-I{folder}" for folder in includes] + ["-"]
        cwd = os.path.dirname(path) or None
        done = subprocess.run(
            args, input=text, capture_output=True, text=True, cwd=cwd, timeout=_TIMEOUT_S
        )
        return done.returncode == 0
    commands = {
        "Go": [find_tool("gofmt", "install Go"), "-e"],
        "Rust": [find_tool("rustfmt", "rustup"), "--edition", "2021", "--emit", "stdout"],
        "Shell": ["bash", "-n"],
        "PHP": ["php", "-l"],
        "Ruby": ["ruby", "-c"],
        "JavaScript": [find_tool("esbuild", "make tools"), "--loader=jsx", "--log-level=error"],
    }
    if language in commands:
        done = subprocess.run(
            commands[language], input=text, capture_output=True, text=True, timeout=_TIMEOUT_S
        )
        return done.returncode == 0
    if language in ("TypeScript", "TSX", "Java"):
        return exact_checker(language)([text], _TIMEOUT_S)[0].ok
    return None


def _rejected_by_reference(file: CodeFile, text: str) -> bool:
    return reference_ok(file.language, text, file.path) is False


def samples(language: str, count: int) -> list[Sample]:
    """Real files that the reference accepts, each followed by its first broken copy (of
    :func:`broken_copies`) that the reference refuses: ``Sample`` rows, real then broken, in
    file order; a file with no such copy is left out. Where there is no exact parser, a
    file whose brackets pair up and its first copy whose brackets do not. The files are
    :func:`code_files`'s every ``n // count``-th, on to the end of the list (``count`` to
    ``2 * count - 1`` of them): those the agreement floors of the syntax tests were
    measured on."""
    out = []
    for file in _strided(language, count, 200, 64_000):
        verdict = reference_ok(language, file.text, file.path)
        if verdict is None:
            if unbalanced(file.text) is not None:
                continue
            copy = broken_copy(file, lambda text: unbalanced(text) is not None)
        elif verdict:
            copy = broken_copy(file, functools.partial(_rejected_by_reference, file))
        else:
            continue  # a file that needs its project (a header included only by others)
        if copy is not None:
            out += [Sample(file.path, file.text, True, False)]
            out += [Sample(f"{file.path} (broken)", copy, False, True)]
    return out


def corpus_records(
    files: list[CodeFile],
    rejects: Callable[[str, str], bool] | None = None,
    labelled: bool = True,
) -> list[Record]:
    """Records of ``files`` and of a broken copy of each: ``{"id", "text", "path",
    "language", "broken"}`` (``language`` only when ``labelled``; ``path`` is the file's
    own name, so its extension routes it). ``rejects(language, text)`` picks the broken
    copy (:func:`broken_copy`); a file with none refused has no broken record."""
    records = []
    for index, file in enumerate(files):
        name = file.path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
        base = {"path": f"{file.language}/{index}/{name}", "broken": False}
        if labelled:
            base["language"] = file.language
        records.append({"id": f"{file.language}:{index}", "text": file.text, **base})
        check = None if rejects is None else functools.partial(rejects, file.language)
        broken = broken_copy(file, check)
        if broken is not None:
            records.append(
                {"id": f"{file.language}:{index}:broken", **base, "text": broken, "broken": True}
            )
    return records


_INDENT = re.compile(r"^[ \t]+", re.M)
_INDENT_PART = re.compile(r"\t| {4}| {1,3}")
_SWAP = {"\t": "    ", "    ": "\t"}


def reindented_copy(text: str) -> str:
    """``text`` with each line's indentation swapped: a tab for every 4 spaces, 4 spaces
    for every tab (other spaces kept), so that a formatter has work to do on files that
    are its output already (Go's own sources are gofmt's). The code means the same in the
    brace languages; strings that span lines change with it, and Python's blocks may then
    mix tabs and spaces: callers compare with the CLI on the same copy."""
    return _INDENT.sub(
        lambda indent: "".join(_SWAP.get(part, part) for part in _INDENT_PART.findall(indent[0])),
        text,
    )
