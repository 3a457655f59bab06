"""The local runner's memory check: a run that would not fit is refused before it starts.

Inputs bigger than this machine's memory are sparse files: their size is real to every
filesystem call, and the check must refuse them without reading a byte.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest

from beam_swallow.cli import main
from beam_swallow.machine import available_memory
from beam_swallow.pipelines.memory import (
    COMPRESSED_RATIO,
    check_local_memory,
    input_bytes,
    local_peak_estimate,
)


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


@pytest.fixture
def too_big(tmp_path) -> Path:
    """A JSONL file whose estimated run needs twice the memory available now."""
    size = int(2 * available_memory() / (local_peak_estimate(1) - local_peak_estimate(0))) + 1
    return _sparse(tmp_path / "huge.jsonl", size)


def test_input_bytes_counts_every_match_and_scales_compressed_files(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"x" * 1000)
    (tmp_path / "b.jsonl").write_bytes(b"y" * 500)
    with gzip.open(tmp_path / "c.jsonl.gz", "wb") as handle:
        handle.write(b'{"text": "z"}\n')
    gz = (tmp_path / "c.jsonl.gz").stat().st_size
    pattern = f"{tmp_path}/*.jsonl,{tmp_path}/*.gz"
    assert input_bytes(pattern) == 1500 + int(gz * COMPRESSED_RATIO)


def test_a_dedup_run_that_would_not_fit_is_refused_before_it_starts(too_big, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["dedup", "--input", str(too_big), "--output", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "would need about" in err and "Flink" in err and "--memory_check warn" in err
    assert not out.exists()  # refused before the outputs were cleared or written


def test_warn_logs_and_off_or_stages_without_dedup_skip_the_check(too_big, caplog):
    with caplog.at_level(logging.WARNING):
        check_local_memory(str(too_big), ["syntax", "near_dedup"], "warn")
    assert "would need about" in caplog.text
    check_local_memory(str(too_big), ["near_dedup"], "off")
    check_local_memory(str(too_big), ["syntax", "lint"], "refuse")
    with pytest.raises(ValueError, match="would need about"):
        check_local_memory(str(too_big), ["exact_dedup"], "refuse")


def test_a_run_that_fits_passes(tmp_path):
    small = tmp_path / "in.jsonl"
    small.write_text('{"text": "x = 1\\n"}\n')
    check_local_memory(str(small), ["exact_dedup", "near_dedup"], "refuse")
