"""exact_dedup and near_dedup as Beam stages, in memory and in SDK worker processes.

Every run checks the three exits and ``input = kept + rejected + dead_letter``.
The accuracy test compares near_dedup's clusters with brute-force exact
Jaccard over a corpus of real standard-library files with planted copies.
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from beam_swallow.dedup.minhash import MinhashConfig
from beam_swallow.pipelines.graph import make_pipeline
from beam_swallow.records import Reason
from beam_swallow.samples import code_sample_records
from beam_swallow.testing import read_jsonl_dir
from beam_swallow.testing.accuracy import pair_accuracy
from beam_swallow.testing.planted import family_corpus
from beam_swallow.transforms.exact_dedup import ExactDedup, text_digest
from beam_swallow.transforms.near_dedup import NearDedup

RUNNER_MODES = ["in_memory", "multi_processing"]


def _collect(records, stage, mode="in_memory"):
    """Run ``stage`` over ``records``; return the (kept, rejected, dead) records.

    Exits go through files, which works whichever process ran the stage.
    """
    flags = [f"--direct_running_mode={mode}", "--direct_num_workers=2"]
    with tempfile.TemporaryDirectory() as tmp:
        with make_pipeline(PipelineOptions(flags)) as pipeline:
            result = pipeline | beam.Create(records, reshuffle=False) | stage
            for name, pcoll in zip(("kept", "rejected", "dead"), result, strict=True):
                _ = (
                    pcoll
                    | f"Json{name}" >> beam.Map(json.dumps, default=str)
                    | f"Write{name}"
                    >> beam.io.WriteToText(f"{tmp}/{name}/part", file_name_suffix=".jsonl.gz")
                )
        exits = [read_jsonl_dir(Path(tmp) / name) for name in ("kept", "rejected", "dead")]
    assert len(records) == sum(len(e) for e in exits)  # conservation
    return exits


EXACT = [
    {"id": "3", "text": "a = 1\nb = 2\n", "quality_score": 9.0},
    {"id": "1", "text": "a = 1\n\nb  =  2   ", "quality_score": 7.0},
    {"id": "2", "text": "a = 1\nb = 2\n", "quality_score": 8.0},
    {"id": "9", "text": "print('alone')\n"},
    {"id": "5", "text": "x = 5\n"},
    {"id": "5", "text": "x = 5\n"},  # fully identical records
    {"id": "7", "text": None},  # broken: no text
]


@pytest.mark.parametrize("mode", RUNNER_MODES)
def test_exact_dedup_keeps_smallest_id(mode):
    kept, rejected, dead = _collect(EXACT, ExactDedup(), mode)
    assert sorted(r["id"] for r in kept) == ["1", "5", "9"]
    assert sorted((r["id"], r["duplicate_of"]) for r in rejected) == [
        ("2", "1"),
        ("3", "1"),
        ("5", "5"),
    ]
    assert {r["reason"] for r in rejected} == {Reason.EXACT_DUPLICATE}
    assert {r["stage"] for r in rejected} == {"exact_dedup"}
    assert [(d["id"], d["error_type"]) for d in dead] == [("7", "type_error")]


def test_exact_dedup_best_quality_and_no_normalization():
    kept, rejected, _ = _collect(EXACT[:4], ExactDedup(normalize="none", keep="best"))
    assert sorted(r["id"] for r in kept) == ["1", "3", "9"]  # "1" differs in whitespace
    assert [(r["id"], r["duplicate_of"]) for r in rejected] == [("2", "3")]


INSIDE = (
    "def total(values):\n    out = 0\n    for v in values:\n        out += v\n        return out\n"
)
AFTER = "def total(values):\n    out = 0\n    for v in values:\n        out += v\n    return out\n"
AS_TABS = "def total(values):\n\tout = 0\n\n\tfor v in values:\n\t\tout += v\n\treturn out   \n"


def test_python_normalization_keeps_what_python_means():
    # the same tokens, indented differently: different programs
    assert text_digest(INSIDE, "whitespace") == text_digest(AFTER, "whitespace")
    assert text_digest(INSIDE, "python") != text_digest(AFTER, "python")
    # tabs for spaces, a blank line, trailing spaces, spaces between tokens: the same program
    assert text_digest(AFTER, "python") == text_digest(AS_TABS, "python")
    assert text_digest("x=[1,2]\n", "python") == text_digest("x = [1, 2]\n", "python")
    assert text_digest("x = 1\r\n", "python") == text_digest("x = 1\n", "python")
    # inside a string literal every character counts
    assert text_digest('s = "a  b"\n', "python") != text_digest('s = "a b"\n', "python")
    assert text_digest('s = """a\n\nb"""\n', "python") != text_digest('s = """a\nb"""\n', "python")
    assert text_digest('s = """a  \nb"""\n', "python") != text_digest('s = """a\nb"""\n', "python")
    # line endings as Python reads a file: inside a string literal too
    assert text_digest('s = """a\r\nb"""\r\n', "python") == text_digest(
        's = """a\nb"""\n', "python"
    )
    # prose that is not Python has its whitespace folded
    page = "It's a page.\n\nWith  two lines."
    assert text_digest(page, "python") == text_digest("It's a page. With two lines.", "python")
    with pytest.raises(ValueError):
        text_digest("x", "tokens")


def test_exact_dedup_default_never_merges_different_programs():
    records = [
        {"id": "a", "text": INSIDE},
        {"id": "b", "text": AFTER},
        {"id": "c", "text": AS_TABS},
    ]
    kept, rejected, dead = _collect(records, ExactDedup())
    assert sorted(r["id"] for r in kept) == ["a", "b"]
    assert [(r["id"], r["duplicate_of"]) for r in rejected] == [("c", "b")]
    assert dead == []
    kept, rejected, _ = _collect(records, ExactDedup(normalize="whitespace"))
    assert [r["id"] for r in kept] == ["a"]


def _family_records(families):
    texts = [r["text"] for r in code_sample_records(300) if 2000 < len(r["text"]) < 20000]
    return family_corpus(texts[:families], (0.01, 0.03, 0.06, 0.1, 0.15, 0.25, 0.4))


def _representatives(kept, rejected):
    rep = {r["id"]: r["id"] for r in kept}
    rep.update({r["id"]: r["duplicate_of"] for r in rejected})
    return rep


@pytest.mark.parametrize("verify", ["minhash", "exact"])
def test_near_dedup_accuracy_against_brute_force(verify):
    records = _family_records(24)
    cfg = MinhashConfig(verify=verify)
    kept, rejected, dead = _collect(records, NearDedup(cfg))
    assert not dead
    accuracy = pair_accuracy(records, _representatives(kept, rejected), cfg.threshold, 5)
    assert accuracy.high_pairs > 200 and accuracy.low_family_pairs > 100
    assert accuracy.recall >= 0.95
    assert accuracy.false_merge_rate < 0.02
    # within one family, single linkage merges some distant copies through a
    # copy close to both; measured ~2.5% at 0.7
    assert accuracy.family_false_merge_rate < 0.05
    for record in rejected:
        assert record["reason"] == Reason.NEAR_DUPLICATE
        assert record["duplicate_of"] == record["cluster"]
        assert 0.0 <= record["similarity"] <= 1.0


def test_near_dedup_without_verification_over_merges():
    records = _family_records(12)
    cfg = MinhashConfig(verify="none")
    kept, rejected, _ = _collect(records, NearDedup(cfg))
    verified = MinhashConfig()
    kept_v, rejected_v, _ = _collect(records, NearDedup(verified))
    loose = pair_accuracy(records, _representatives(kept, rejected), 0.7, 5)
    strict = pair_accuracy(records, _representatives(kept_v, rejected_v), 0.7, 5)
    assert loose.low_family_merged > strict.low_family_merged


@pytest.mark.parametrize("mode", RUNNER_MODES)
def test_near_dedup_is_deterministic_and_conserves(mode):
    records = _family_records(6)
    records += [
        {"id": "dup", "text": records[0]["text"]},
        {"id": "dup", "text": records[0]["text"]},  # repeated id, same text
        {"id": "clash", "text": "a = 1\n"},
        {"id": "clash", "text": "b = 2\n"},  # repeated id, other text
        {"id": "broken", "text": 42},
    ]
    shuffled = records[:]
    random.Random(3).shuffle(shuffled)
    first = _collect(records, NearDedup(), mode)
    second = _collect(shuffled, NearDedup(), mode)

    def summary(exits):
        kept, rejected, dead = exits
        return (
            sorted(r["id"] for r in kept),
            sorted((r["id"], r["duplicate_of"], r["similarity"]) for r in rejected),
            sorted((d.get("id"), d["error_type"]) for d in dead),
        )

    assert summary(first) == summary(second)
    kept, rejected, dead = first
    assert ("dup", "dup", 1.0) in [(r["id"], r["duplicate_of"], r["similarity"]) for r in rejected]
    assert sorted(d["id"] for d in dead) == ["broken", "clash"]
    assert {d["id"]: d["error_type"] for d in dead}["clash"] == "duplicate_id"
    assert [r["id"] for r in kept].count("clash") == 1
