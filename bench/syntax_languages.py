"""The syntax stage's checker per language, against one process per file and the tool's batch CLI.

Same files on every side, in one run: the real files of each language and their
broken copies (``beam_swallow.testing.code_corpus``; ``make corpora`` first).
For each language it times, as files per second:

- ``stage``: ``check_sources`` in the default mode (``--syntax_check exact``: the
  exact parser where the language has one, tree-sitter elsewhere), warm: a
  long-lived worker is started by one call before the clock (a pipeline starts
  it once per process);
- ``tree_sitter``: ``check_sources`` with ``--syntax_check tree_sitter``;
- (a) ``per_file``: the authors' method, one process of the exact tool per file
  (``gofmt -e``, ``rustfmt``, ``bash -n``, ``php -l``, ``ruby -c``, esbuild's CLI, a
  fresh Node or JVM running our parse program, ``gcc``/``g++ -fsyntax-only``);
- (b) ``batch``: the tool's own batch call over the same files written to a
  folder, the floor (``gofmt -e -l`` over the folder, ``rustfmt --check`` over its
  files, ``esbuild`` with every file an entry point, ``gcc -fsyntax-only`` over all
  files, one fresh Node, JVM, PHP or Ruby process running our parse program over
  all of them; Shell has none: ``bash -n`` reads one script);

and prints the agreement of ``tree_sitter`` with the exact parser's verdict.
Each side runs ``--rounds`` times, interleaved, and keeps its best. Java's and
TypeScript's per-file side starts a JVM or Node per file, so it is timed on
``--per_file_cap`` files.

Usage: python bench/syntax_languages.py [--count N] [--rounds N] [--languages Go,Rust,...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from beam_swallow.languages.parsing import ParseConfig, check_sources, has_exact_parser
from beam_swallow.languages.parsing.workers import WORKERS
from beam_swallow.languages.tools import find_tool
from beam_swallow.testing.code_corpus import reference_ok, samples

SUFFIX = {
    "Go": ".go", "Rust": ".rs", "Shell": ".sh", "JavaScript": ".js", "TypeScript": ".ts",
    "TSX": ".tsx", "Java": ".java", "PHP": ".php", "Ruby": ".rb", "C": ".c", "C++": ".cc",
    "Cuda": ".cu", "C#": ".cs", "Kotlin": ".kt", "Swift": ".swift",
}  # fmt: skip
LANGUAGES = tuple(SUFFIX)  # every language but Python, whose check is compile() in every mode


def _quiet(args: list[str], **kwargs) -> None:
    subprocess.run(args, capture_output=True, timeout=600, check=False, **kwargs)


def _per_file(language: str, texts: list[str]) -> Callable[[], None] | None:
    if language in WORKERS:
        args = WORKERS[language].args()
        return lambda: [
            _quiet(args, input=json.dumps({"language": language, "sources": [t]}).encode())
            for t in texts
        ]
    if language in ("Cuda", "C#", "Kotlin", "Swift"):
        return None
    return lambda: [reference_ok(language, text) for text in texts]


def _batch(language: str, folder: str, names: list[str], texts: list[str]):
    if language in WORKERS:
        args = WORKERS[language].args()
        payload = json.dumps({"language": language, "sources": texts}).encode()
        return lambda: _quiet(args, input=payload)
    commands = {
        "Go": [find_tool("gofmt", ""), "-e", "-l", *names],
        "Rust": [find_tool("rustfmt", ""), "--edition", "2021", "--check", "--config",
                 "skip_children=true", *names],
        "C": ["gcc", "-fsyntax-only", "-w", *names],
        "C++": ["g++", "-fsyntax-only", "-w", "-std=c++17", *names],
        "JavaScript": [find_tool("esbuild", ""), "--loader:.js=jsx", "--log-level=silent",
                       "--outdir=" + os.path.join(folder, "out"), *names],
    }  # fmt: skip
    if language not in commands:
        return None
    return lambda: _quiet(commands[language], cwd=folder)


def _rate(work: Callable[[], object] | None, files: int, rounds: int) -> float | None:
    if work is None:
        return None
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return files / best


def bench(language: str, count: int, rounds: int, per_file_cap: int) -> dict:
    rows = samples(language, count)
    texts = [row.text for row in rows]
    exact = ParseConfig()
    tree = ParseConfig(mode="tree_sitter")
    check_sources(language, texts[:1], exact)  # start the worker, load the grammar
    check_sources(language, texts[:1], tree)
    capped = texts[:per_file_cap] if language in WORKERS else texts
    with tempfile.TemporaryDirectory() as folder:
        names = []
        for index, text in enumerate(texts):
            names.append(f"f{index}{SUFFIX[language]}")
            Path(folder, names[-1]).write_text(text, encoding="utf-8")
        sides = {
            "stage": (lambda: check_sources(language, texts, exact), len(texts)),
            "tree_sitter": (lambda: check_sources(language, texts, tree), len(texts)),
            "per_file": (_per_file(language, capped), len(capped)),
            "batch": (_batch(language, folder, names, texts), len(texts)),
        }
        rates = {name: _rate(work, files, rounds) for name, (work, files) in sides.items()}
    verdicts = check_sources(language, texts, tree)
    agree = sum(v.ok == row.ok for v, row in zip(verdicts, rows, strict=True))
    return {"language": language, "files": len(texts), "tree_sitter_agree": agree, **rates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30, help="real files per language")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per_file_cap", type=int, default=10)
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    args = parser.parse_args()
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}")
    head = "language files ts_agree stage tree_sitter per_file batch stage/batch stage/per_file"
    print(head)
    for language in args.languages.split(","):
        r = bench(language, args.count, args.rounds, args.per_file_cap)

        def fmt(x):
            return "-" if x is None else f"{x:.0f}"

        ratio_b = "-" if r["batch"] is None else f"{r['stage'] / r['batch']:.2f}"
        ratio_a = "-" if r["per_file"] is None else f"{r['stage'] / r['per_file']:.1f}"
        exact = "exact" if has_exact_parser(language) else "tree-sitter only"
        print(
            f"{language} {r['files']} {r['tree_sitter_agree']}/{r['files']} {fmt(r['stage'])} "
            f"{fmt(r['tree_sitter'])} {fmt(r['per_file'])} {fmt(r['batch'])} {ratio_b} "
            f"{ratio_a} ({exact})",
            flush=True,
        )
    print(f"# load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
