"""Stage ``near_dedup``: MinHash LSH near-duplicate removal.

Steps, every one a Beam transform and none holding the corpus in one place:

1. Sign (ParDo): text -> window hashes -> signature (:mod:`beam_swallow.dedup.minhash`);
   emits the record keyed by id, the signature keyed by node, and one
   ``(band key, node)`` per band. A node is the record's keep rank
   (:func:`~beam_swallow.dedup.keep.rank_key`), so "smallest node" means "the
   record to keep".
2. Buckets (GroupByKey on band keys): each bucket of n nodes emits n-1 star
   edges to its smallest node (not n^2 pairs); edges are de-duplicated.
3. Verify (``--near_dedup_verify``): each candidate edge is joined with both
   ends' signatures (``minhash``: estimated Jaccard) or shingle sets
   (``exact``) and kept if the similarity reaches ``--near_dedup_threshold``;
   ``none`` trusts LSH.
4. Components (:class:`~beam_swallow.dedup.components.ConnectedComponents`):
   each node's label is the smallest node of its cluster: the representative.
5. Similarity: every non-representative is joined with its representative's
   signature for the estimated Jaccard it is reported with.
6. Verdicts (CoGroupByKey on id): the representative and every record not in
   a cluster is kept; the others are rejected ``near_duplicate`` with
   ``duplicate_of`` (the representative's id), ``similarity`` (estimated
   Jaccard to it) and ``cluster`` (the same id, naming the cluster).

Ids are expected to be unique. Records that share an id anyway are ordered by
their canonical JSON; after the first, one with the same text is rejected
``near_duplicate`` (similarity 1.0), one with a different text becomes a dead
letter (``duplicate_id``), since it cannot be told apart from the first.

Counters: ``near_dedup.kept``, ``near_dedup.near_duplicate``,
``near_dedup.dead_letter``, ``near_dedup.cc_unconverged``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam import pvalue

from beam_swallow.dedup.components import ConnectedComponents
from beam_swallow.dedup.keep import DEFAULT_KEEP, canonical, check_keep, rank_key
from beam_swallow.dedup.minhash import (
    MinhashConfig,
    band_keys,
    distinct_hashes,
    estimate_jaccard,
    jaccard,
    signature,
    text_window_hashes,
)
from beam_swallow.records import ID, TEXT, ErrorKind, Reason, Record, Reject
from beam_swallow.stage import (
    DEAD_LETTER,
    KEPT,
    REJECTED,
    StageResult,
    emit_dead_letter,
    emit_verdict,
    guarded,
)

__all__ = ["STAGE", "NearDedup"]

STAGE = "near_dedup"

_RECORDS = "records"
_SIGS = "sigs"
_SHINGLES = "shingles"
_BANDS = "bands"

Similarity = Callable[[bytes, bytes], float]


class _SignDoFn(beam.DoFn):
    def __init__(self, cfg: MinhashConfig, keep: str):
        self._cfg = cfg
        self._keep = keep

    def process(self, record: Record) -> Iterator[pvalue.TaggedOutput]:
        signed = guarded(STAGE, record, self._sign, record)
        if isinstance(signed, pvalue.TaggedOutput):
            yield signed
            return
        node, windows, sig, keys = signed
        yield pvalue.TaggedOutput(_RECORDS, (node[1], record))
        yield pvalue.TaggedOutput(_SIGS, (node, sig.tobytes()))
        if self._cfg.verify == "exact":
            yield pvalue.TaggedOutput(_SHINGLES, (node, distinct_hashes(windows).tobytes()))
        for key in keys:
            yield pvalue.TaggedOutput(_BANDS, (key, node))

    def _sign(self, record: Record) -> tuple[Any, np.ndarray, np.ndarray, list[bytes]]:
        node = rank_key(record, self._keep)
        windows = text_window_hashes(record[TEXT], self._cfg.shingle_size)
        sig = signature(windows, self._cfg)
        return node, windows, sig, band_keys(sig, self._cfg.bands, self._cfg.rows)


def _star_edges(item: tuple[bytes, Iterable[Any]]) -> Iterator[tuple[Any, Any]]:
    members = set(item[1])
    if len(members) < 2:
        return
    center = min(members)
    for node in members:
        if node != center:
            yield center, node


def _estimated(a: bytes, b: bytes) -> float:
    return estimate_jaccard(np.frombuffer(a, dtype=np.uint32), np.frombuffer(b, dtype=np.uint32))


def _exact(a: bytes, b: bytes) -> float:
    return jaccard(np.frombuffer(a, dtype=np.uint32), np.frombuffer(b, dtype=np.uint32))


class _PairSimilarity(beam.PTransform):
    """Pairs ``(a, b)`` + payloads ``(node, bytes)`` -> ``(a, b, similarity)``.

    Each pair asks both its ends for their payload: one join of the payloads
    with the requests keyed by node (streaming the pairs of a hot node), then a
    group of the two answers by pair. So every payload crosses one shuffle, and
    a second only for the pairs it is in: a corpus with few duplicates moves
    its signatures about once, not twice. A node with several payloads (a
    repeated id) uses the smallest, deterministically.
    """

    def __init__(self, payloads: beam.PCollection, similarity: Similarity):
        super().__init__()
        self._payloads = payloads
        self._similarity = similarity

    def expand(self, pairs: beam.PCollection) -> beam.PCollection:
        def ask_both_ends(pair):
            yield pair[0], pair
            yield pair[1], pair

        def answer(item):
            node, groups = item
            payloads = list(groups["payload"])
            if not payloads:
                return
            payload = min(payloads)
            for pair in groups["pairs"]:
                yield pair, (node, payload)

        def finish(item, similarity=self._similarity):
            (a, b), answers = item
            payloads = dict(answers)
            if a in payloads and b in payloads:
                yield a, b, similarity(payloads[a], payloads[b])

        requests = pairs | "AskBothEnds" >> beam.FlatMap(ask_both_ends)
        answers = (
            {"payload": self._payloads, "pairs": requests}
            | "JoinEnds" >> beam.CoGroupByKey()
            | "Answer" >> beam.FlatMap(answer)
        )
        return answers | "ByPair" >> beam.GroupByKey() | "Similarity" >> beam.FlatMap(finish)


class _VerdictDoFn(beam.DoFn):
    def process(self, item: tuple[str, dict[str, Iterable[Any]]]):
        _, groups = item
        records = list(groups["records"])
        if not records:
            return
        if len(records) > 1:
            records.sort(key=canonical)
        links = sorted(groups["links"])
        first = records[0]
        if links:
            root, similarity = links[0]
            fields = {
                "duplicate_of": root[1],
                "cluster": root[1],
                "similarity": round(similarity, 4),
            }
            yield emit_verdict(STAGE, first, Reject(Reason.NEAR_DUPLICATE, fields))
        else:
            yield emit_verdict(STAGE, first, first)
        for other in records[1:]:
            if other[TEXT] == first[TEXT]:
                fields = {"duplicate_of": first[ID], "cluster": first[ID], "similarity": 1.0}
                yield emit_verdict(STAGE, other, Reject(Reason.NEAR_DUPLICATE, fields))
            else:
                yield emit_dead_letter(
                    STAGE,
                    other,
                    "another record has this id and a different text",
                    ErrorKind.DUPLICATE_ID,
                )


class NearDedup(beam.PTransform):
    """The near_dedup stage as a PTransform returning a StageResult."""

    stage = STAGE

    def __init__(self, cfg: MinhashConfig | None = None, keep: str = DEFAULT_KEEP):
        super().__init__(label=STAGE)
        check_keep(keep)
        self._cfg = cfg or MinhashConfig()
        self._keep = keep

    def expand(self, records: beam.PCollection) -> StageResult:
        cfg = self._cfg
        outputs = [_RECORDS, _SIGS, _BANDS, DEAD_LETTER]
        if cfg.verify == "exact":
            outputs.append(_SHINGLES)
        signed = records | "Sign" >> beam.ParDo(_SignDoFn(cfg, self._keep)).with_outputs(*outputs)
        edges = (
            signed[_BANDS]
            | "Buckets" >> beam.GroupByKey()
            | "StarEdges" >> beam.FlatMap(_star_edges)
            | "DistinctEdges" >> beam.Distinct()
        )
        if cfg.verify != "none":
            payloads = signed[_SHINGLES] if cfg.verify == "exact" else signed[_SIGS]
            similarity = _exact if cfg.verify == "exact" else _estimated
            edges = (
                edges
                | "Verify" >> _PairSimilarity(payloads, similarity)
                | "AboveThreshold" >> beam.Filter(lambda t, thr=cfg.threshold: t[2] >= thr)
                | "VerifiedEdge" >> beam.Map(lambda t: (t[0], t[1]))
            )
        links = (
            edges
            | "Components" >> ConnectedComponents(STAGE, cfg.cc_rounds)
            | "NonRepresentative" >> beam.Filter(lambda nl: nl[0] != nl[1])
            | "ToRepresentative" >> _PairSimilarity(signed[_SIGS], _estimated)
            | "KeyById" >> beam.Map(lambda t: (t[0][1], (t[1], t[2])))
        )
        tagged = (
            {"records": signed[_RECORDS], "links": links}
            | "JoinVerdicts" >> beam.CoGroupByKey()
            | "Verdicts" >> beam.ParDo(_VerdictDoFn()).with_outputs(KEPT, REJECTED, DEAD_LETTER)
        )
        dead = (signed[DEAD_LETTER], tagged[DEAD_LETTER]) | "AllDead" >> beam.Flatten()
        return StageResult(tagged[KEPT], tagged[REJECTED], dead)
