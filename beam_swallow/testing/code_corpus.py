"""Real code in every language of the catalog, found on this machine at test time, and broken copies.

Nothing here is stored in the repository: each language's files are read where
a toolchain, a system package or ``make corpora`` (Makefile; unpacked under
``.cache/corpus``, or ``$BEAM_SWALLOW_CORPUS``) put them:

============  ===============================================================
language      where its files come from
============  ===============================================================
Python        this interpreter's standard library
Go            ``$(go env GOROOT)/src``
Java          the JDK's ``lib/src.zip`` (``java.base``) beside ``javac``, else
              commons-lang3's sources jar (Maven Central, ``make corpora``)
Ruby          Ruby's own library (``RbConfig::CONFIG["rubylibdir"]``)
Shell         Go's ``*.bash`` and ``*.sh`` scripts; ``/usr/bin`` scripts by their ``#!`` line
C             Go's ``.c`` sources; this Python's C headers where Go is missing
C++           googletest's sources (Debian ``googletest``, ``/usr/src/googletest``)
Cuda          CUB's headers (Debian ``libcub-dev``, ``/usr/include/cub``)
JavaScript    npm's own packages (``/usr/lib/node_modules``); the Node tools of ``make tools``
TypeScript    ``@tanstack/react-query``'s sources (npm, ``make corpora``)
TSX           the same package's ``.tsx`` sources
PHP           Twig and Monolog (Debian ``php-twig``, ``php-monolog``, ``/usr/share/php``)
Rust          crates packaged by Debian (``librust-*-dev``, ``/usr/share/cargo/registry``)
C#            pythonnet's sources (its PyPI sdist, ``make corpora``)
Kotlin        kotlinx-coroutines' sources jar (Maven Central, ``make corpora``)
Swift         ``@capacitor/ios`` (npm, ``make corpora``)
============  ===============================================================

Folders of deliberately broken or generated inputs (``testdata``, ``test``,
``tests``, ``bad*``) are left out, so the files picked are code as its authors
meant it. :func:`code_files` picks a language's files deterministically
(sorted, then shuffled with a fixed seed); :func:`missing` names the languages
this machine has no files for and how to get them. :func:`broken_copies`
gives, in a fixed order, copies of a file with one closing brace, parenthesis
or block keyword deleted; a test keeps the first its exact parser rejects
(:func:`broken_copy`), so a broken copy is broken for that parser, not
assumed to be. :func:`corpus_records` makes records of both, with ``path``
and linguist's ``language``, as The Stack v2 labels its files.
"""

from __future__ import annotations

import functools
import os
import random
import re
import shutil
import subprocess
import sysconfig
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from beam_swallow.languages import names
from beam_swallow.languages.tools import tools_home
from beam_swallow.records import Record
from beam_swallow.samples import stdlib_python_files

__all__ = [
    "CodeFile",
    "broken_copies",
    "broken_copy",
    "code_files",
    "corpus_home",
    "corpus_records",
    "missing",
]

SEED = 41
_SKIPPED_PARTS = re.compile(r"^(testdata|tests?|bad.*|fixtures?|__pycache__)$", re.IGNORECASE)
_SHELL_LINE = re.compile(rb"^#!\s*/(?:usr/)?bin/(?:env\s+)?(?:ba|da)?sh\b")
_PROBE_TIMEOUT_S = 30


@dataclass(frozen=True)
class CodeFile:
    """One real file: its language (the catalog's name), where it was found (``path``,
    with its real name and extension) and its text."""

    language: str
    path: str
    text: str


@dataclass(frozen=True)
class _Found:
    path: str  # as shown on records: the file's real path, or ``archive!entry``
    read: Callable[[], bytes]


def corpus_home() -> Path:
    """Where ``make corpora`` unpacks what no toolchain brings: ``$BEAM_SWALLOW_CORPUS``,
    else ``.cache/corpus`` in the checkout this package runs from."""
    configured = os.environ.get("BEAM_SWALLOW_CORPUS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / ".cache" / "corpus"


def _probe(args: list[str]) -> str | None:
    """What a toolchain prints about itself, or None when it is not installed."""
    if shutil.which(args[0]) is None:
        return None
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _kept(path: Path, root: Path) -> bool:
    return not any(_SKIPPED_PARTS.match(part) for part in path.relative_to(root).parts[:-1])


def _walk(root: Path | None, suffixes: tuple[str, ...]) -> Iterator[_Found]:
    if root is None or not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.name.endswith(suffixes) and path.is_file() and _kept(path, root):
            yield _Found(str(path), path.read_bytes)


def _archive(path: Path | None, prefix: str, suffixes: tuple[str, ...]) -> Iterator[_Found]:
    if path is None or not path.is_file():
        return
    with zipfile.ZipFile(path) as archive:
        entries = sorted(
            name
            for name in archive.namelist()
            if name.startswith(prefix) and name.endswith(suffixes)
        )

    def reader(name: str) -> Callable[[], bytes]:
        def read() -> bytes:
            with zipfile.ZipFile(path) as opened:
                return opened.read(name)

        return read

    for name in entries:
        yield _Found(f"{path}!{name}", reader(name))


@functools.cache
def _goroot() -> Path | None:
    found = _probe(["go", "env", "GOROOT"])
    return Path(found) if found else None


def _go_src() -> Path | None:
    root = _goroot()
    return None if root is None else root / "src"


def _java() -> Iterator[_Found]:
    """The JDK's own sources beside ``javac``, else a library's sources jar (a JDK
    installed without them: Debian's src.zip is a link into openjdk-17-source)."""
    javac = shutil.which("javac")
    jdk = None if javac is None else Path(javac).resolve().parent.parent / "lib" / "src.zip"
    if jdk is not None and jdk.is_file():
        yield from _archive(jdk, "java.base/java/", (".java",))
        return
    jars = sorted((corpus_home() / "maven").glob("commons-lang3-*-sources.jar"))
    yield from _archive(jars[-1] if jars else None, "", (".java",))


def _ruby_lib() -> Path | None:
    found = _probe(["ruby", "-e", 'print RbConfig::CONFIG["rubylibdir"]'])
    return Path(found) if found else None


def _python() -> Iterator[_Found]:
    root = Path(sysconfig.get_paths()["stdlib"])
    for path in stdlib_python_files():
        if _kept(path, root):
            yield _Found(str(path), path.read_bytes)


def _shell_scripts() -> Iterator[_Found]:
    yield from _walk(_go_src(), (".bash", ".sh"))
    bin_dir = Path("/usr/bin")
    if not bin_dir.is_dir():
        return
    for path in sorted(bin_dir.iterdir()):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            with path.open("rb") as handle:
                first = handle.readline(200)
        except OSError:
            continue
        if _SHELL_LINE.match(first):
            yield _Found(str(path), path.read_bytes)


def _c_files() -> Iterator[_Found]:
    """Go's C sources; this Python's C headers where Go is missing (most of those open an
    ``extern "C" {`` block inside ``#ifdef __cplusplus``, which a C grammar reads as a brace
    never closed)."""
    go = _go_src()
    if go is not None and go.is_dir():
        yield from _walk(go, (".c",))
        return
    yield from _walk(Path(sysconfig.get_paths()["include"]), (".h",))


def _npm(name: str) -> Path:
    return corpus_home() / "npm" / name


def _javascript() -> Iterator[_Found]:
    yield from _walk(Path("/usr/lib/node_modules/npm"), (".js", ".mjs", ".cjs"))
    yield from _walk(tools_home() / "node" / "node_modules", (".js", ".mjs", ".cjs"))


def _typescript() -> Iterator[_Found]:
    for found in _walk(_npm("@tanstack/react-query") / "src", (".ts", ".mts", ".cts")):
        if not found.path.endswith((".d.ts", ".d.mts", ".d.cts")):
            yield found


def _pythonnet() -> Path | None:
    folders = sorted((corpus_home() / "pypi").glob("pythonnet-*/src"))
    return folders[-1] if folders else None


def _kotlin_jar() -> Path | None:
    jars = sorted((corpus_home() / "maven").glob("kotlinx-coroutines-core-jvm-*-sources.jar"))
    return jars[-1] if jars else None


# language -> (its files here, how to get them when there are none)
_SOURCES: dict[str, tuple[Callable[[], Iterator[_Found]], str]] = {
    "Python": (_python, "a Python standard library"),
    "Go": (lambda: _walk(_go_src(), (".go",)), "Go on PATH (go env GOROOT)"),
    "Java": (_java, "a JDK with its src.zip, or make corpora (Maven commons-lang3 sources)"),
    "Ruby": (lambda: _walk(_ruby_lib(), (".rb",)), "Ruby (make tools)"),
    "Shell": (_shell_scripts, "Go's sources or /usr/bin shell scripts"),
    "C": (_c_files, "Go's sources, or this Python's C headers"),
    "C++": (
        lambda: _walk(Path("/usr/src/googletest"), (".cc", ".h")),
        "make corpora (Debian googletest)",
    ),
    "Cuda": (lambda: _walk(Path("/usr/include/cub"), (".cuh",)), "make corpora (libcub-dev)"),
    "JavaScript": (_javascript, "Node's npm, or make tools"),
    "TypeScript": (_typescript, "make corpora (npm @tanstack/react-query)"),
    "TSX": (
        lambda: _walk(_npm("@tanstack/react-query") / "src", (".tsx",)),
        "make corpora (npm @tanstack/react-query)",
    ),
    "PHP": (lambda: _walk(Path("/usr/share/php"), (".php",)), "make corpora (php-twig)"),
    "Rust": (
        lambda: _walk(Path("/usr/share/cargo/registry"), (".rs",)),
        "make corpora (Debian librust-*-dev)",
    ),
    "C#": (lambda: _walk(_pythonnet(), (".cs",)), "make corpora (PyPI pythonnet sdist)"),
    "Kotlin": (lambda: _archive(_kotlin_jar(), "", (".kt",)), "make corpora (Maven)"),
    "Swift": (lambda: _walk(_npm("@capacitor/ios"), (".swift",)), "make corpora (npm)"),
}


def code_files(
    language: str, count: int = 20, min_bytes: int = 200, max_bytes: int = 20_000
) -> list[CodeFile]:
    """Up to ``count`` real files of ``language`` (a catalog name) found here, between
    ``min_bytes`` and ``max_bytes``, UTF-8 without NUL bytes; the same pick every time
    on the same machine. Empty when this machine has none (see :func:`missing`)."""
    finder, _ = _SOURCES[language]
    candidates = list(finder())
    random.Random(f"{SEED}:{language}").shuffle(candidates)
    files: list[CodeFile] = []
    for found in candidates:
        if len(files) >= count:
            break
        data = found.read()
        if not min_bytes <= len(data) <= max_bytes or b"\0" in data:
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        files.append(CodeFile(language, found.path, text))
    return files


def missing(languages: tuple[str, ...] = names()) -> dict[str, str]:
    """The languages among ``languages`` this machine has no files of, each with how to
    get them."""
    return {
        language: _SOURCES[language][1]
        for language in languages
        if next(iter(_SOURCES[language][0]()), None) is None
    }


# What is deleted to break a file, per kind of language, in the order tried: the last
# closing brace or parenthesis (the end of the last block), else an opening one; for
# languages whose blocks close with words, the last such word.
_BRACES = ("}", ")", "{", "(")
_WORD_ENDS = {
    "Ruby": (r"\bend\b", ")"),
    "Shell": (r"\b(?:fi|done|esac)\b", "}", ")"),
    "Python": (")", "]", ":"),
}


def broken_copies(file: CodeFile) -> Iterator[str]:
    """Copies of ``file``'s text with one closing brace, parenthesis or block keyword
    deleted, in a fixed order (the last occurrence of each kind first, then the first)."""
    for mark in _WORD_ENDS.get(file.language, _BRACES):
        pattern = re.compile(mark if mark.startswith("\\b") else re.escape(mark))
        found = list(pattern.finditer(file.text))
        for match in (found[-1], found[0]) if found else ():
            yield file.text[: match.start()] + file.text[match.end() :]


def broken_copy(file: CodeFile, rejects: Callable[[str], bool] | None = None) -> str | None:
    """The first of :func:`broken_copies` that ``rejects`` (a parser's verdict: True when
    the text does not parse) refuses; without ``rejects``, the first. None when no copy is
    refused."""
    for text in broken_copies(file):
        if rejects is None or rejects(text):
            return text
    return None


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
        base = {"path": f"{file.language}/{index}/{name}"}
        if labelled:
            base["language"] = file.language
        records.append({"id": f"{file.language}:{index}", "text": file.text, **base})
        check = None if rejects is None else functools.partial(rejects, file.language)
        broken = broken_copy(file, check)
        if broken is not None:
            records.append(
                {"id": f"{file.language}:{index}:broken", "text": broken, **base, "broken": True}
            )
    for record in records:
        record.setdefault("broken", False)
    return records
