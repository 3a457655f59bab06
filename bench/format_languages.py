"""Benchmark: the format stage's runner per language against one CLI process per file and
against the tool's own batch CLI.

For each language with a formatter, the same real files
(:func:`~beam_swallow.testing.code_corpus.code_files`) go through:

- per file (the authors' method): the tool's CLI started once per file, the
  source on stdin; timed on
  ``--per_file`` files spread evenly over the set (a rate, files/s);
- the floor: the tool's own batch CLI over the same files, written beforehand to a
  folder where ours go (``/dev/shm`` when it has room), timed from the process start to its exit (``gofmt -w F...``,
  ``java -jar google-java-format --replace F...``, ...);
- ours: :func:`~beam_swallow.languages.formatting.format_sources` in batches of
  ``--batch`` (the stage's default), from strings in memory to strings in
  memory: writing each batch out, the tool, reading it back.

For JavaScript, TypeScript and TSX, Prettier is measured beside Biome (its batch
CLI, and its API in one warm Node process), the measurement behind choosing
Biome. Each round runs the floor and ours back to back; files/s are from the
best round of each, and ours/floor is the median over the rounds of each
round's ratio (the goal: at least 0.8), which a machine whose load swings
between rounds disturbs least. ours/per-file compares best rates.

    python bench/format_languages.py [--files N] [--per_file N] [--rounds R] [--languages A,B]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from beam_swallow.languages.batch_files import scratch
from beam_swallow.languages.formatting import FormatConfig, format_sources, formatter_label
from beam_swallow.languages.formatting.biome import BIOME_ARGS, BIOME_CONFIG, biome_binary
from beam_swallow.languages.formatting.clang_format import STYLE, clang_format_binary
from beam_swallow.languages.formatting.google_java_format import GoogleJavaFormat
from beam_swallow.languages.formatting.ruff import ruff_binary
from beam_swallow.languages.formatting.rustfmt import EDITION
from beam_swallow.languages.formatting.shfmt import SHFMT_ARGS
from beam_swallow.languages.tools import find_tool, tools_home
from beam_swallow.testing.code_corpus import code_files

LANGUAGES = ("Python", "C", "C++", "Cuda", "Go", "Rust", "JavaScript", "TypeScript", "TSX")
LANGUAGES += ("Java", "Shell")
_SUFFIX = {"Python": ".py", "C": ".c", "C++": ".cpp", "Cuda": ".cu", "Go": ".go", "Rust": ".rs"}
_SUFFIX |= {"JavaScript": ".jsx", "TypeScript": ".ts", "TSX": ".tsx", "Java": ".java"}
_SUFFIX |= {"Shell": ".sh"}
_PRETTIER = tools_home() / "node" / "node_modules" / "prettier"
_PRETTIER_API = """
import * as prettier from %s;
import fs from "node:fs";
const files = JSON.parse(fs.readFileSync(0, "utf8"));
const texts = files.map((f) => fs.readFileSync(f, "utf8"));
async function pass() {
  for (let i = 0; i < files.length; i++) {
    try { await prettier.format(texts[i], { filepath: files[i] }); } catch (e) {}
  }
}
await pass();  // warm: the JIT and prettier's lazy plugins
const start = performance.now();
await pass();
console.log((performance.now() - start) / 1000);
"""


def _per_file_args(language: str, folder: Path) -> list[str]:
    """The CLI on one file's stdin."""
    suffix = _SUFFIX[language]
    if language == "Python":
        return [ruff_binary(), "format", "--isolated", "-"]
    if language in ("C", "C++", "Cuda"):
        return [clang_format_binary(), f"--style={STYLE}", f"--assume-filename=x{suffix}"]
    if language == "Go":
        return [find_tool("gofmt", "-")]
    if language == "Rust":
        return [find_tool("rustfmt", "-"), "--edition", EDITION]
    if language in ("JavaScript", "TypeScript", "TSX"):
        return [biome_binary(), "format", f"--stdin-file-path=x{suffix}", f"--config-path={folder}"]
    if language == "Java":
        return [*GoogleJavaFormat().command(), "-"]
    return [find_tool("shfmt", "-"), *SHFMT_ARGS]


def _batch_args(language: str, folder: Path, names: list[str]) -> list[str]:
    """The tool's own batch CLI over the files in ``folder``."""
    if language == "Python":
        return [ruff_binary(), "format", "--isolated", "--no-cache", *names]
    if language in ("C", "C++", "Cuda"):
        return [clang_format_binary(), f"--style={STYLE}", "-i", *names]
    if language == "Go":
        return [find_tool("gofmt", "-"), "-w", *names]
    if language == "Rust":
        return [find_tool("rustfmt", "-"), "--edition", EDITION, *names]
    if language in ("JavaScript", "TypeScript", "TSX"):
        return [biome_binary(), *BIOME_ARGS, f"--config-path={folder}", *names]
    if language == "Java":
        return [*GoogleJavaFormat().command(), "--replace", *names]
    return [find_tool("shfmt", "-"), *SHFMT_ARGS, "-w", *names]


def _folder(tmp: Path, language: str, sources: list[str]) -> tuple[Path, list[str]]:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    (folder / "biome.json").write_text(json.dumps(BIOME_CONFIG), encoding="utf-8")
    names = []
    for index, text in enumerate(sources):
        names.append(f"{index}{_SUFFIX[language]}")
        (folder / names[-1]).write_text(text, encoding="utf-8", newline="")
    return folder, names


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _per_file(language: str, sources: list[str], tmp: Path) -> float:
    folder, _ = _folder(tmp, language, [])
    args = _per_file_args(language, folder)

    def run() -> None:
        for text in sources:
            subprocess.run(args, input=text.encode("utf-8"), capture_output=True, check=False)

    return _timed(run)


def _floor(language: str, sources: list[str], tmp: Path) -> float:
    folder, names = _folder(tmp, language, sources)
    args = _batch_args(language, folder, names)
    return _timed(lambda: subprocess.run(args, cwd=folder, capture_output=True, check=False))


def _ours(language: str, sources: list[str], batch: int) -> float:
    cfg = FormatConfig(batch_files=batch)

    def run() -> None:
        for first in range(0, len(sources), batch):
            format_sources(language, sources[first : first + batch], cfg)

    return _timed(run)


def _prettier_cli(language: str, sources: list[str], tmp: Path) -> float:
    folder, names = _folder(tmp, language, sources)
    args = ["node", str(_PRETTIER / "bin" / "prettier.cjs"), "--write", *names]
    return _timed(lambda: subprocess.run(args, cwd=folder, capture_output=True, check=False))


def _prettier_api(language: str, sources: list[str], tmp: Path) -> float:
    folder, names = _folder(tmp, language, sources)
    script = folder / "bench.mjs"
    script.write_text(_PRETTIER_API % json.dumps(str(_PRETTIER / "index.mjs")), encoding="utf-8")
    files = json.dumps([str(folder / name) for name in names])
    done = subprocess.run(["node", str(script)], input=files, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"prettier's API run failed: {done.stderr[-2000:]}")
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="files per language")
    parser.add_argument("--per_file", type=int, default=40, help="files timed one CLI each")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=FormatConfig().batch_files)
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"{date.today()}; {os.cpu_count()} CPUs; load average {load[0]:.1f} {load[1]:.1f}")
    header = f"{'language':<11}{'files':>6}{'kchars':>7}{'per file':>10}{'floor':>9}{'ours':>9}"
    print(f"{header}{'ours/floor':>12}{'ours/per file':>15}  formatter (files/s)")
    extra = []
    # the floor's folders where ours are: memory-backed /dev/shm when it has room
    with tempfile.TemporaryDirectory(dir=scratch(["x" * 50_000_000])) as tmp_name:
        tmp = Path(tmp_name)
        for language in args.languages.split(","):
            sources = [file.text for file in code_files(language, args.files)]
            if not sources:
                print(f"{language:<11} no files here (make tools corpora)")
                continue
            n, size = len(sources), sum(map(len, sources))
            sample = sources[:: max(1, n // args.per_file)][: args.per_file]  # spread, as all
            per_file = len(sample) / _per_file(language, sample, tmp)
            floor = ours = float("inf")
            ratios = []
            js = language in ("JavaScript", "TypeScript", "TSX")
            prettier_cli = prettier_api = float("inf")
            for _ in range(args.rounds):
                floor_s = _floor(language, sources, tmp)
                ours_s = _ours(language, sources, args.batch)
                floor, ours = min(floor, floor_s), min(ours, ours_s)
                ratios.append(floor_s / ours_s)
                if js:
                    prettier_cli = min(prettier_cli, _prettier_cli(language, sources, tmp))
                    prettier_api = min(prettier_api, _prettier_api(language, sources, tmp))
            print(
                f"{language:<11}{n:>6}{size / 1000:>7.0f}{per_file:>10.0f}{n / floor:>9.0f}"
                f"{n / ours:>9.0f}{statistics.median(ratios):>12.2f}{n / ours / per_file:>15.1f}"
                f"  {formatter_label(language)}"
            )
            if js:
                extra.append(
                    f"{language:<11} Prettier: --write DIR {n / prettier_cli:.0f} files/s, API in a "
                    f"warm Node process {n / prettier_api:.0f} files/s; Biome batch {n / floor:.0f}"
                )
    for line in extra:
        print(line)
    load = os.getloadavg()
    print(f"load average at the end {load[0]:.1f} {load[1]:.1f}")


if __name__ == "__main__":
    main()
