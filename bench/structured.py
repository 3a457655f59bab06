"""How many rewriting answers parse, with and without structured generation.

One script, the same files, the same model and sampling, side by side: each
file of the demo's sample (real standard-library files of at most
``SAMPLE_MAX_BYTES``, read at run time) is sent to the sgcr and scor prompts
twice, unconstrained (the paper's way, ``--structured off``) and under the
stage's grammar (``--structured on``), on the embedded engine. For each: answers that finish (not cut at max_tokens),
and of those, the share with a parsed score (sgcr), a code block, and code that
compiles; plus tokens/s. Any GGUF can be measured with ``--model``.

Usage: python bench/structured.py [--files 8 --max_tokens 1024 --model PATH.gguf]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass, field

from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.embedded import load_embedded
from beam_swallow.languages.parsing import compile_verdict
from beam_swallow.options import SwallowOptions
from beam_swallow.pipelines.code import SAMPLE_MAX_BYTES
from beam_swallow.pipelines.registry import engine_config
from beam_swallow.prompts import load_prompt
from beam_swallow.samples import code_sample_records
from beam_swallow.transforms.parse import NO_SCORE, extract_code_block, parse_sgcr
from beam_swallow.transforms.scor import Scor
from beam_swallow.transforms.sgcr import Sgcr


@dataclass
class Tally:
    """Counts for one (stage, structured) cell."""

    sent: int = 0
    finished: int = 0
    score: int = 0
    block: int = 0
    compiles: int = 0
    tokens: int = 0
    seconds: float = 0.0
    first: list[str] = field(default_factory=list)

    def add(self, stage: str, text: str, finished: bool) -> None:
        self.sent += 1
        if not finished:
            return
        self.finished += 1
        if stage == "sgcr":
            answer = parse_sgcr(text)
            code = answer.code
            self.score += answer.score != NO_SCORE
        else:
            code = extract_code_block(text)
        self.block += code is not None
        self.compiles += code is not None and compile_verdict(code)[0] is None
        if len(self.first) < 2:
            self.first.append(text[:120])


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--max_tokens", type=int, default=None, help="default: the engine's")
    parser.add_argument("--model", default=None, help="a GGUF file (default: the shipped one)")
    args = parser.parse_args()
    flags = ["--model", args.model] if args.model else []
    flags += ["--max_tokens", str(args.max_tokens)] if args.max_tokens else []
    engine: EngineConfig = engine_config(SwallowOptions(flags))
    model = load_embedded(engine)
    records = code_sample_records(args.files, max_bytes=SAMPLE_MAX_BYTES)
    print(
        f"# {engine.model_label}, {len(records)} stdlib files, max_tokens "
        f"{engine.sampling.max_tokens}, {platform.machine()}, {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d')}"
    )
    tallies: dict[tuple[str, bool], Tally] = {}
    for stage in (Sgcr, Scor):
        prompt = load_prompt(stage.stage)
        for record in records:
            for structured in (False, True):
                grammar = stage.grammar if structured else None
                request = engine.request("r", prompt.messages(record["text"]), grammar)
                start = time.perf_counter()
                result = model.generate(request)
                tally = tallies.setdefault((stage.stage, structured), Tally())
                tally.seconds += time.perf_counter() - start
                tally.tokens += result.completion_tokens
                if result.finish_reason != "too_long":
                    tally.add(stage.stage, result.text or "", result.finish_reason == "stop")
    print("| stage | structured | finished | score parsed | code block | compiles | tok/s |")
    print("|---|---|---|---|---|---|---|")
    for (stage, structured), t in tallies.items():
        score = _share(t.score, t.finished) if stage == "sgcr" else "n/a"
        print(
            f"| {stage} | {'on' if structured else 'off'} | {_share(t.finished, t.sent)} | "
            f"{score} | {_share(t.block, t.finished)} | {_share(t.compiles, t.finished)} | "
            f"{t.tokens / t.seconds:.1f} |"
        )
    for (stage, structured), t in tallies.items():
        print(f"{stage} structured={structured} first answers: {t.first}")


if __name__ == "__main__":
    main()
