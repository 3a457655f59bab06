"""Time per stage and engine throughput, from the metrics Beam reports at the end.

Stages are fused and run interleaved, so a stage's time is not a span of wall
clock: it is Beam's own execution-time metric
(``beam:metric:ptransform_execution_time:total_msecs:v1``, time the SDK spent in
each transform, waits on lint workers or the model included), summed over the
transforms under the stage's label. Runners that report no such metric (some
portable runners) leave it out. Engine throughput is the ``inference.<engine>``
counters: completion tokens over the summed request latency.

Per stage, for the server engines, the ``inference_stage.<stage>`` counters
(:data:`~beam_swallow.inference.handler.STAGE_NAMESPACE`) add the stage's
``engine`` entry: ``answers``, ``completion_tokens``, ``output_tokens_per_s``
(completion tokens over the stage's summed request latency: how fast one
answer is decoded, the figure speculation moves) and, where the server
reported speculation per answer (vLLM with ``--speculative``): ``drafts``,
``draft_tokens``, ``accepted_tokens``, ``acceptance_rate`` (accepted over
proposed tokens) and ``tokens_per_step``: completion tokens over the engine
steps that produced them, each step one token of the model's own plus those
it accepted (``completion / (completion - accepted)``; 1.0 without speculation).
"""

from __future__ import annotations

from typing import Any

from apache_beam.metrics.metric import MetricResults
from apache_beam.runners.runner import PipelineResult

from beam_swallow.inference.handler import STAGE_NAMESPACE

__all__ = ["TOTAL_MSECS", "run_timing", "stage_engine"]

TOTAL_MSECS = "beam:metric:ptransform_execution_time:total_msecs:v1"
_INFERENCE = "inference."


def _query(result: PipelineResult, system: bool) -> dict[str, list[Any]]:
    try:
        metrics: MetricResults = result.monitoring_metrics() if system else result.metrics()
        return metrics.query()
    except (AttributeError, NotImplementedError):  # runners without (system) metrics
        return {}


def run_timing(
    result: PipelineResult, stage_labels: dict[str, str], records_in: dict[str, int]
) -> dict[str, Any]:
    """``{"stages": {stage: {seconds, records_per_s}}, "engines": {...}}`` for the report.

    ``stage_labels`` maps each stage's top-level transform label to its name;
    ``records_in`` gives each stage's input count.
    """
    msecs: dict[str, int] = {}
    for counter in _query(result, system=True).get("counters", []):
        metric = counter.key.metric  # Beam splits the URN at its first colon
        if f"{metric.namespace}:{metric.name}" != TOTAL_MSECS or not counter.key.step:
            continue
        stage = stage_labels.get(counter.key.step.split("/")[0])
        if stage is not None:
            msecs[stage] = msecs.get(stage, 0) + (counter.committed or 0)
    stages = {
        stage: {
            "seconds": ms / 1000,
            "records_per_s": records_in.get(stage, 0) / (ms / 1000) if ms else None,
        }
        for stage, ms in msecs.items()
    }
    user = _query(result, system=False)
    for stage, counts in _summed(user, STAGE_NAMESPACE).items():
        stages.setdefault(stage, {})["engine"] = stage_engine(counts)
    engines = _summed(user, _INFERENCE)
    for entry in engines.values():
        seconds = entry.get("request_seconds")
        if seconds:
            entry["tokens_per_s"] = entry.get("completion_tokens", 0) / seconds
    return {"stages": stages, "engines": engines}


def _summed(user: dict[str, list[Any]], prefix: str) -> dict[str, dict[str, float]]:
    """Per ``<name>`` of the namespaces ``<prefix><name>`` (an engine's, a stage's): its
    counters summed, and its summed request latency as ``request_seconds``."""
    counts: dict[str, dict[str, float]] = {}
    for counter in user.get("counters", []):
        namespace = counter.key.metric.namespace
        if namespace.startswith(prefix):
            entry = counts.setdefault(namespace[len(prefix) :], {})
            name = counter.key.metric.name
            entry[name] = entry.get(name, 0) + (counter.committed or 0)
    for dist in user.get("distributions", []):
        namespace = dist.key.metric.namespace
        if namespace.startswith(prefix) and dist.key.metric.name == "request_latency_ms":
            entry = counts.setdefault(namespace[len(prefix) :], {})
            entry["request_seconds"] = entry.get("request_seconds", 0) + dist.committed.sum / 1000
    return counts


def stage_engine(counts: dict[str, float]) -> dict[str, float]:
    """One stage's engine figures (see the module doc) from its summed counters."""
    completion = counts.get("completion_tokens", 0)
    seconds = counts.get("request_seconds", 0)
    out: dict[str, float] = {
        "answers": counts.get("answers", 0),
        "completion_tokens": completion,
    }
    if seconds:
        out["output_tokens_per_s"] = completion / seconds
    if counts.get("spec_answers"):
        accepted = counts.get("spec_accepted_tokens", 0)
        proposed = counts.get("spec_draft_tokens", 0)
        out.update(
            drafts=counts.get("spec_drafts", 0),
            draft_tokens=proposed,
            accepted_tokens=accepted,
            acceptance_rate=accepted / proposed if proposed else 0.0,
            tokens_per_step=completion / (completion - accepted) if completion > accepted else 0.0,
        )
    return out
