"""Real files of each language, their broken copies, and the exact parser's verdict on each.

For the syntax tests and ``bench/syntax_languages.py``. Nothing here is stored
in the repository: the files are read at run time from what this machine's
toolchains hold (Go's ``GOROOT/src``, Ruby's standard
library, npm's own sources, Debian's and Python's C headers, libstdc++'s
headers, shell scripts in ``/usr/bin``) and from packages ``make corpora``
fetches from the registries into ``.cache/corpora`` (npm: TanStack's TypeScript
and TSX sources, Capacitor's Swift; crates: ``memchr``, ``regex-syntax``; Maven
Central: Guava's and kotlinx-coroutines' sources; Debian: ``php-twig``,
``php-symfony-console``, ``googletest``; PyPI: ``nvidia-cuda-cccl``'s CUDA headers,
``pythonnet``'s C#).

:func:`real_files` picks a language's files deterministically (sorted, evenly
spaced, 200 B to 64 KB, UTF-8). :func:`reference_ok` is the exact parser's
verdict on one file, run the way its authors' tools run, one process a file:
``gofmt -e``, ``rustfmt --edition 2021``, ``bash -n``, ``php -l``, ``ruby -c``,
esbuild's CLI; TypeScript's parser and javac's parser through the parse worker,
one file a request; ``gcc``/``g++ -fsyntax-only`` for C and C++ headers, with the
header's own folder on the include path. CUDA has no exact parser here (nvcc
needs the CUDA toolkit), nor do C#, Kotlin and Swift (their compilers are not
on this kind of machine), so their reference is how the file was made: a real
file parses, its broken copy does not. :func:`broken_copy` deletes one brace,
parenthesis or closing keyword, chosen by a seed from the file's name, and tries
the next candidate until the reference rejects the copy.
"""

from __future__ import annotations

import os
import re
import subprocess
import sysconfig
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from beam_swallow.languages.parsing import exact_checker
from beam_swallow.languages.tools import find_tool, tools_home

__all__ = [
    "CORPORA",
    "LANGUAGES",
    "Sample",
    "broken_copy",
    "real_files",
    "reference_ok",
    "samples",
]

CORPORA = Path(os.environ.get("BEAM_SWALLOW_CORPORA", Path(__file__).parents[2] / ".cache/corpora"))
MIN_BYTES, MAX_BYTES = 200, 64_000
_TIMEOUT_S = 120.0
_CLOSERS = re.compile(r"[{}()]|\b(?:end|fi|done|esac)\b")


@dataclass(frozen=True)
class Sample:
    """One file of the corpus: where it came from, its text, and the reference verdict."""

    name: str
    text: str
    ok: bool
    broken: bool


def _tree(root: Path, *suffixes: str, skip: str = "") -> list[tuple[str, Callable[[], bytes]]]:
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is missing: run make corpora (or make tools)")
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix in suffixes and not (skip and skip in path.parts) and path.is_file():
            found.append((str(path), path.read_bytes))
    return found


def _zip(path: Path, suffix: str) -> list[tuple[str, Callable[[], bytes]]]:
    archive = zipfile.ZipFile(path)
    names = sorted(name for name in archive.namelist() if name.endswith(suffix))
    return [(name, lambda name=name: archive.read(name)) for name in names]


def _run(args: list[str], stdin: str = "", cwd: str | None = None) -> str:
    return subprocess.run(
        args, input=stdin, capture_output=True, text=True, cwd=cwd, timeout=_TIMEOUT_S
    ).stdout


def _shell_scripts() -> list[tuple[str, Callable[[], bytes]]]:
    found = []
    for path in sorted(Path("/usr/bin").iterdir()):
        if not path.is_file() or path.is_symlink():
            continue
        with open(path, "rb") as head:
            first = head.readline(80)
        if re.match(rb"#! ?(/usr)?/bin/(env )?(ba)?sh\b", first):
            found.append((str(path), path.read_bytes))
    return found


def _candidates(language: str) -> list[tuple[str, Callable[[], bytes]]]:
    node = tools_home() / "node" / "node_modules"
    npm = CORPORA / "npm"
    if language == "Go":
        goroot = _run([find_tool("go", "install Go"), "env", "GOROOT"]).strip()
        return _tree(Path(goroot) / "src", ".go", skip="testdata")
    if language == "Rust":
        return _tree(CORPORA / "cargo" / "home" / "registry" / "src", ".rs")
    if language == "Shell":
        return _shell_scripts()
    if language == "JavaScript":
        return _tree(Path("/usr/lib/node_modules/npm/lib"), ".js") + _tree(npm, ".js", ".mjs")
    if language == "TypeScript":
        return [c for c in _tree(npm, ".ts") if not c[0].endswith(".d.ts")] + _tree(
            node / "typescript" / "lib", ".ts"
        )
    if language == "TSX":
        return _tree(npm, ".tsx")
    if language in ("Java", "Kotlin"):
        jars = sorted((CORPORA / "java").glob("*-sources.jar"))
        if not jars:
            raise FileNotFoundError(f"no sources jar in {CORPORA / 'java'}: run make corpora")
        suffix = ".java" if language == "Java" else ".kt"
        return [entry for jar in jars for entry in _zip(jar, suffix)]
    if language == "C#":
        return _tree(CORPORA / "pypi", ".cs")
    if language == "Swift":
        return _tree(npm, ".swift")
    if language == "PHP":
        return _tree(CORPORA / "debian" / "usr" / "share" / "php", ".php")
    if language == "Ruby":
        return _tree(Path(_run(["ruby", "-e", "print RbConfig::CONFIG['rubylibdir']"])), ".rb")
    if language == "C":
        goroot = _run([find_tool("go", "install Go"), "env", "GOROOT"]).strip()
        return _tree(Path(goroot), ".c", skip="testdata") + _tree(
            Path(sysconfig.get_paths()["include"]), ".h"
        )
    if language == "C++":
        return _tree(CORPORA / "debian" / "usr" / "src" / "googletest", ".cc", ".h")
    if language == "Cuda":
        return _tree(CORPORA / "pypi" / "nvidia", ".cuh")
    raise KeyError(f"no corpus for {language}")


LANGUAGES = (
    "Go", "Rust", "Shell", "JavaScript", "TypeScript", "TSX", "Java", "PHP", "Ruby", "C", "C++",
    "Cuda", "C#", "Kotlin", "Swift",
)  # fmt: skip


def real_files(language: str, count: int) -> list[tuple[str, str]]:
    """Up to ``count`` ``(name, text)`` pairs of ``language``, evenly spaced over its sorted
    files of MIN_BYTES to MAX_BYTES that are UTF-8 (deterministic)."""
    picked = []
    for name, read in _candidates(language):
        data = read()
        if MIN_BYTES <= len(data) <= MAX_BYTES:
            try:
                picked.append((name, data.decode("utf-8")))
            except UnicodeDecodeError:
                continue
    step = max(1, len(picked) // max(1, count))
    return picked[::step]


def _include_dirs(name: str) -> list[str]:
    """The ``include`` folders of the project a C/C++ file is in (googletest's, Go's runtime),
    and the project's root, as its build would pass them."""
    found = []
    for parent in Path(name).parents:
        if (parent / "include").is_dir():
            found.append(str(parent / "include"))
            found.append(str(parent))
    return found


_C_FLAGS = {"C": ["gcc", "-x", "c"], "C++": ["g++", "-x", "c++", "-std=c++17"]}


def reference_ok(language: str, text: str, name: str = "") -> bool | None:
    """The exact parser's verdict on ``text``, one process (or worker request) for it; None
    for a language with no exact parser here (CUDA, C#, Kotlin, Swift)."""
    if language in _C_FLAGS:
        includes = [sysconfig.get_paths()["include"], *_include_dirs(name)]
        args = [*_C_FLAGS[language], "-fsyntax-only", "-w", "-iquote", "."]
        args += [f"-I{folder}" for folder in includes] + ["-"]
        done = subprocess.run(
            args, input=text, capture_output=True, text=True, cwd=os.path.dirname(name) or None,
            timeout=_TIMEOUT_S,
        )  # fmt: skip
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


def broken_copy(language: str, name: str, text: str, tries: int = 8) -> str | None:
    """``text`` with one brace, parenthesis or closing keyword deleted, the first of up to
    ``tries`` seeded picks that the reference rejects (any pick where there is no
    reference, skipping comment and preprocessor lines); None when none is rejected."""
    lines_of = text.splitlines(keepends=True)
    starts, offset = [], 0
    for line in lines_of:
        starts.append((offset, line.lstrip()[:2]))
        offset += len(line)
    spots = []
    line_index = 0
    for found in _CLOSERS.finditer(text):
        while line_index + 1 < len(starts) and starts[line_index + 1][0] <= found.start():
            line_index += 1
        if starts[line_index][1] not in ("//", "/*", "* ", "#"):
            spots.append(found)
    if not spots:
        return None
    seed = zlib.crc32(name.encode())
    for attempt in range(tries):
        spot = spots[(seed + attempt * 7919) % len(spots)]
        copy = text[: spot.start()] + text[spot.end() :]
        verdict = reference_ok(language, copy, name)
        if verdict is None or not verdict:
            return copy
    return None


def samples(language: str, count: int) -> list[Sample]:
    """Up to ``count`` real files the reference accepts (all, with no reference) and a broken
    copy of each that it rejects: ``Sample`` rows, real then broken, in file order."""
    out = []
    for name, text in real_files(language, count):
        if reference_ok(language, text, name) is False:
            continue  # a file that needs its project (a header included only by others)
        copy = broken_copy(language, name, text)
        if copy is None:
            continue
        out.append(Sample(name, text, True, False))
        out.append(Sample(name + " (broken)", copy, False, True))
    return out
