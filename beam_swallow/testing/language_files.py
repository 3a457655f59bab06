"""Real files of each language, read at test time from what this machine has installed.

Never files committed to the repository: each language's files come from a
toolchain or a package installed from its registry.

| language | where |
|---|---|
| Python | the standard library |
| C | Python's C headers, then ``/usr/include`` |
| C++ | libstdc++'s headers (``/usr/include/c++/N``) |
| Cuda | the CUB headers of NVIDIA's CCCL wheel (``make code-files``) |
| Go | Go's own sources (``$(go env GOROOT)/src``) |
| Rust | crates fetched by cargo (``make code-files``) |
| JavaScript | npm's own sources, then the Node programs ``make tools`` installs |
| TypeScript | TypeScript's ``lib/*.d.ts``, then the ``.ts`` sources of npm packages (``make code-files``) |
| TSX | the ``.tsx`` sources of npm packages (``make code-files``) |
| Java | the JDK's ``lib/src.zip`` (``java.base``) |
| Shell | Debian's shell scripts in ``/usr/bin`` and ``/usr/sbin`` |
| Ruby | Ruby's standard library (``/usr/lib/ruby``) |

:func:`language_files` picks ``count`` of them, spread over the sorted list so
that they come from many packages, the same ones on every run.
:func:`broken_copy` deletes one closing token, so that a parser must refuse it;
:func:`reindented_copy` swaps tabs and spaces in the indentation, so that a
formatter has work to do on files already formatted (Go's own sources are
gofmt's output).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

from beam_swallow.languages.tools import tools_home

__all__ = ["broken_copy", "code_files_home", "language_files", "reindented_copy"]

_MAX_CHARS = 60_000


def code_files_home() -> Path:
    """Where ``make code-files`` fetches real code: ``$BEAM_SWALLOW_CODE_FILES``, else the
    checkout's ``.cache/code-files``."""
    configured = os.environ.get("BEAM_SWALLOW_CODE_FILES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / ".cache" / "code-files"


def _tree(root: Path, *patterns: str, skip: tuple[str, ...] = ()) -> Iterator[Path]:
    if not root.is_dir():
        return
    for pattern in patterns:
        for path in sorted(root.rglob(pattern)):
            if path.is_file() and not any(part in skip for part in path.parts):
                yield path


def _goroot() -> Path | None:
    go = shutil.which("go")
    if go is None:
        return None
    done = subprocess.run([go, "env", "GOROOT"], capture_output=True, text=True, timeout=60)
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def _shell_scripts() -> Iterator[Path]:
    for folder in (Path("/usr/bin"), Path("/usr/sbin")):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            try:
                with open(path, "rb") as handle:
                    first = handle.readline(200)
            except OSError:
                continue
            if re.match(rb"#!\s*(/usr)?/bin/(env\s+)?(ba|da)?sh\b", first):
                yield path


def _src_zip() -> Path | None:
    """The JDK sources: the running ``java``'s JDK first, then any JDK under /usr/lib/jvm."""
    candidates = []
    java = shutil.which("java")
    if java:
        candidates.append(Path(java).resolve().parents[1] / "lib" / "src.zip")
    candidates += sorted(Path("/usr/lib/jvm").glob("*/lib/src.zip"))
    return next((path for path in candidates if path.is_file()), None)


def _java(count: int) -> list[tuple[str, str]]:
    archive = _src_zip()
    if archive is None:
        return []
    with zipfile.ZipFile(archive) as zipped:
        names = sorted(
            name
            for name in zipped.namelist()
            if name.startswith("java.base/java/") and name.endswith(".java")
        )
        texts = []
        for name in names:
            text = zipped.read(name).decode("utf-8", "replace")
            if len(text) <= _MAX_CHARS:
                texts.append((name, text))
    return _spread(texts, count)


def _paths(language: str) -> Iterator[Path]:
    home = code_files_home()
    node = tools_home() / "node" / "node_modules"
    if language == "Python":
        stdlib = Path(sysconfig.get_paths()["stdlib"])
        yield from _tree(stdlib, "*.py", skip=("test", "tests", "site-packages"))
    elif language == "C":
        yield from _tree(Path(sysconfig.get_paths()["include"]), "*.h")
        yield from (path for path in sorted(Path("/usr/include").glob("*.h")) if path.is_file())
    elif language == "C++":
        for version in sorted(Path("/usr/include/c++").glob("*"), reverse=True)[:1]:
            yield from _tree(version / "bits", "*.h")
    elif language == "Cuda":
        yield from _tree(home / "pypi", "*.cuh")
    elif language == "Go":
        goroot = _goroot()
        if goroot is not None:
            yield from _tree(goroot / "src", "*.go", skip=("testdata",))
    elif language == "Rust":
        yield from _tree(home / "cargo" / "registry" / "src", "*.rs")
    elif language == "JavaScript":
        yield from _tree(Path("/usr/lib/node_modules/npm"), "*.js")
        yield from _tree(node, "*.js", "*.mjs", "*.cjs")
    elif language == "TypeScript":
        yield from _tree(node / "typescript" / "lib", "*.d.ts")
        yield from (path for path in _tree(home / "npm", "*.ts") if not path.name.endswith(".d.ts"))
    elif language == "TSX":
        yield from _tree(home / "npm", "*.tsx")
    elif language == "Shell":
        yield from _shell_scripts()
    elif language == "Ruby":
        yield from _tree(Path("/usr/lib/ruby"), "*.rb")


def _spread(items: list[tuple[str, str]], count: int) -> list[tuple[str, str]]:
    """``count`` items spread evenly over ``items`` (all when there are fewer)."""
    if len(items) <= count:
        return items
    step = len(items) / count
    return [items[int(index * step)] for index in range(count)]


def language_files(language: str, count: int) -> list[tuple[str, str]]:
    """Up to ``count`` real files of ``language`` (a catalog name) as ``(path, text)``:
    UTF-8 files of at most 60,000 characters, from the places in the module docstring.
    Fewer (or none) when this machine has fewer; callers assert the number they need."""
    if language == "Java":
        return _java(count)
    found = []
    seen = set()
    for path in _paths(language):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if not text.strip() or len(text) > _MAX_CHARS or "\0" in text or text in seen:
            continue
        seen.add(text)
        found.append((str(path), text))
    return _spread(found, count)


_CLOSERS = {
    "Python": r"\)",
    "Shell": r"\b(?:fi|done|esac)\b|\}",
}


def broken_copy(language: str, text: str) -> str | None:
    """``text`` with its last closing token deleted (``}`` in brace languages, ``)`` in
    Python, ``fi``/``done``/``esac`` or ``}`` in shell), so that a parser refuses it as
    a file that ends too soon; None when it has none. A closer inside a trailing comment
    or string may make a copy that still parses: callers check the parser's verdict."""
    closers = list(re.finditer(_CLOSERS.get(language, r"\}"), text))
    if not closers:
        return None
    last = closers[-1]
    return text[: last.start()] + text[last.end() :]


_INDENT = re.compile(r"^[ \t]+", re.M)
_INDENT_PART = re.compile(r"\t| {4}| {1,3}")
_SWAP = {"\t": "    ", "    ": "\t"}


def reindented_copy(text: str) -> str:
    """``text`` with each line's indentation swapped: a tab for every 4 spaces, 4 spaces
    for every tab (other spaces kept). The code means the same in the brace languages;
    strings that span lines change with it, and Python's blocks may then mix tabs and
    spaces: callers compare with the CLI on the same copy."""
    return _INDENT.sub(
        lambda indent: "".join(_SWAP.get(part, part) for part in _INDENT_PART.findall(indent[0])),
        text,
    )
