"""Options to configs to stages: the one place that reads beam-swallow's flags.

Each ``*_config(opts)`` builds one frozen config from the parsed
:class:`SwallowOptions`; the config checks its own values and raises
ValueError. Each stage factory takes the options and returns the stage's
PTransform, whose ``expand`` returns a :class:`~beam_swallow.stage.StageResult`.
``--stages`` picks and orders them; :func:`build_stages` builds every named
stage at once, so a bad flag fails before a pipeline reads or clears anything.

The code pipeline routes records by language (:func:`run_languages`): each
stage says which languages it takes (its ``languages``, None for every one),
and a run takes what all of its stages take unless ``--languages`` says less.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    DirectOptions,
    FlinkRunnerOptions,
    PipelineOptions,
    PortableOptions,
    S3Options,
    StandardOptions,
)

from beam_swallow.cache import CacheConfig
from beam_swallow.dedup.keep import DEFAULT_KEEP
from beam_swallow.dedup.minhash import MinhashConfig
from beam_swallow.inference.base import SamplingParams
from beam_swallow.inference.config import EngineConfig, parse_engine_kwargs
from beam_swallow.inference.speculative import SpeculativeConfig
from beam_swallow.io import ReaderConfig, split_patterns
from beam_swallow.languages import PYTHON, names
from beam_swallow.languages.routing import (
    DEFAULT_LANGUAGE,
    LABEL_FIELD,
    LanguageRouting,
    canonical_names,
)
from beam_swallow.linting.config import LintConfig
from beam_swallow.machine import usable_cpus
from beam_swallow.options import SwallowOptions
from beam_swallow.prompts import load_prompt
from beam_swallow.sources.s3 import S3Settings
from beam_swallow.sources.stack_v2 import StackV2Config, parse_stack_v2
from beam_swallow.streaming import StreamConfig
from beam_swallow.streaming.config import KafkaConfig
from beam_swallow.streaming.kafka import expansion_jar_for
from beam_swallow.transforms import (
    Decontaminate,
    ExactDedup,
    Lint,
    MathRewrite,
    NearDedup,
    Scor,
    Sgcr,
    Syntax,
)
from beam_swallow.transforms.breaker import BreakerConfig
from beam_swallow.transforms.decontaminate import DecontamConfig
from beam_swallow.transforms.fetch import Fetch, FetchConfig
from beam_swallow.transforms.fetch_cache import CachedFetch
from beam_swallow.transforms.lint_cache import CachedLint
from beam_swallow.transforms.llm_cache import CachedLLMStage
from beam_swallow.transforms.recipe_flags import RECIPES
from beam_swallow.transforms.rewriting import RewriteConfig, RewriteStage
from beam_swallow.transforms.stream_dedup import StateConfig, StreamExactDedup, StreamNearDedup
from beam_swallow.transforms.syntax import parse_config

__all__ = [
    "CODE_STAGES",
    "DEDUP_STAGES",
    "MATH_STAGES",
    "StageFactory",
    "breaker_config",
    "build_stages",
    "cache_config",
    "decontam_config",
    "engine_config",
    "fetch_config",
    "input_parser",
    "kafka_config",
    "lint_config",
    "minhash_config",
    "reader_config",
    "resolve_stages",
    "rewrite_config",
    "run_languages",
    "s3_settings",
    "stack_v2_config",
    "stage_languages",
    "stage_names",
    "state_config",
    "stream_config",
]

StageFactory = Callable[[SwallowOptions], beam.PTransform]


def stage_languages(stage: beam.PTransform) -> frozenset[str] | None:
    """The languages a built stage takes (its ``languages``); None: every language."""
    return getattr(stage, "languages", None)


def run_languages(opts: SwallowOptions, stages: Mapping[str, beam.PTransform]) -> tuple[str, ...]:
    """The languages a code run takes: ``--languages``; else, with the v1 recipe (the
    paper's pipeline, which reads Python), Python, or ``--language`` where it is given;
    else (``--recipe v2``) what every stage takes. So a v1 run of stages that take any
    language (``--stages syntax,exact_dedup``) needs no other language's tools unless
    ``--languages`` names them.

    Raises ValueError for a name the catalog lacks, and for a ``--languages`` or
    ``--language`` value that a chosen stage cannot take (naming the stage), so
    ``--recipe v1 --languages Go`` stops before anything is read.
    """
    taken = [
        name
        for name in names()
        if all((langs := stage_languages(s)) is None or name in langs for s in stages.values())
    ]
    requested = canonical_names(opts.languages, "--languages") if opts.languages else ()
    default = canonical_names([opts.language], "--language") if opts.language else ()
    for name, stage in stages.items():
        langs = stage_languages(stage)
        refused = [
            lang
            for lang in dict.fromkeys((*requested, *default))
            if langs is not None and lang not in langs
        ]
        if refused:
            raise ValueError(
                f"{name} takes {', '.join(sorted(langs or ()))} only, not {', '.join(refused)} "
                f"(--languages, --language): drop {name} from --stages, or use --recipe v2, "
                "which takes every language"
            )
    if requested:
        languages = requested
    elif opts.recipe == RECIPES[0]:  # v1: the paper's Python pipeline
        languages = default or (PYTHON.name,)
    else:
        languages = tuple(taken)
    if not languages:
        raise ValueError(f"the stages {', '.join(stages)} take no language in common")
    if default and default[0] not in languages:
        raise ValueError(
            f"--language {default[0]} is not one of the run's languages ({', '.join(languages)})"
        )
    return languages


def reader_config(
    opts: SwallowOptions, stages: Mapping[str, beam.PTransform] | None = None
) -> ReaderConfig:
    """How input records are read: text and id fields, the size limit, and with ``stages``
    (the code pipeline's) how each record's language is decided and which the run takes.

    Without ``stages`` (math, dedup: no routing by language) ``--languages`` and
    ``--language`` are refused (ValueError); so is a ``--language_field`` other than
    The Stack v2's own ``language`` column for its shards.
    """
    routing = None
    if stages is not None:
        if opts.input_format == "stack_v2" and opts.language_field != LABEL_FIELD:
            raise ValueError(
                f"The Stack v2's files are labelled by its own {LABEL_FIELD!r} column: "
                f"--language_field {opts.language_field} is for records that carry their text"
            )
        routing = LanguageRouting(
            label_field=opts.language_field,
            path_field=opts.path_field,
            default=opts.language or DEFAULT_LANGUAGE,
            languages=run_languages(opts, stages),
        )
    elif opts.languages or opts.language:
        raise ValueError(
            "--languages and --language are the code pipeline's: it alone routes by language"
        )
    return ReaderConfig(
        text_field=opts.text_field,
        id_field=opts.id_field,
        max_text_chars=opts.max_text_chars,
        routing=routing,
    )


def stack_v2_config(opts: SwallowOptions) -> StackV2Config | None:
    """How The Stack v2's shards are read and filtered; None unless ``--input_format stack_v2``."""
    if opts.input_format != "stack_v2":
        return None
    if not opts.input:
        raise ValueError("--input_format stack_v2 needs --input: the dataset's Parquet shards")
    return StackV2Config(
        layout=opts.stack_v2_layout,
        license_types=tuple(opts.license_types),
        max_bytes=opts.stack_v2_max_bytes,
        keep_vendor=opts.keep_vendor,
        keep_generated=opts.keep_generated,
    )


def input_parser(opts: SwallowOptions, reader: ReaderConfig) -> beam.DoFn | None:
    """The reader's per-file DoFn for ``--input_format`` (None: records that carry their text);
    The Stack v2's files are routed by language as ``reader`` says."""
    cfg = stack_v2_config(opts)
    return None if cfg is None else parse_stack_v2(cfg, reader.routing)


def s3_settings(opts: PipelineOptions) -> S3Settings:
    """Beam's own S3 flags (``--s3_endpoint_url``, ``--s3_region_name``, keys, ...)."""
    s3 = opts.view_as(S3Options)
    return S3Settings(
        endpoint_url=s3.s3_endpoint_url,
        region=s3.s3_region_name,
        access_key_id=s3.s3_access_key_id,
        secret_access_key=s3.s3_secret_access_key,
        session_token=s3.s3_session_token,
        verify=s3.s3_verify,
        disable_ssl=bool(s3.s3_disable_ssl),
    )


def fetch_config(opts: SwallowOptions) -> FetchConfig:
    """Where the fetch stage finds blobs and how it asks for them."""
    return FetchConfig(
        content_url=opts.stack_v2_content_url,
        max_bytes=opts.stack_v2_max_bytes,
        concurrency=opts.fetch_concurrency,
        retries=opts.fetch_retries,
        timeout_s=opts.fetch_timeout,
        retry_max_wait_s=opts.fetch_retry_max_wait,
        s3=s3_settings(opts),
    )


def _fetch(opts: SwallowOptions) -> beam.PTransform:
    if stack_v2_config(opts) is None:
        raise ValueError("the fetch stage reads The Stack v2's shards: --input_format stack_v2")
    cache = cache_config(opts)
    return Fetch(fetch_config(opts)) if cache is None else CachedFetch(fetch_config(opts), cache)


def _streaming(opts: PipelineOptions) -> bool:
    return bool(opts.view_as(StandardOptions).streaming)


def stream_config(opts: SwallowOptions) -> StreamConfig | None:
    """The Pub/Sub source and window of a ``--streaming`` run; None for a batch run.

    Raises ValueError for flags that belong to the other mode: a batch run
    reads files, a streaming one a subscription or topic, and writes JSONL
    windows with no result cache (each cache file is one bundle's results, which
    a stream never finishes).
    """
    if not _streaming(opts):
        if opts.input_subscription or opts.input_topic or opts.input_kafka_topic:
            raise ValueError(
                "--input_subscription, --input_topic and --input_kafka_topic need --streaming"
            )
        return None
    for flag, value in (("--input", opts.input), ("--cache_dir", opts.cache_dir)):
        if value is not None:
            raise ValueError(f"{flag} is for batch runs; a --streaming run reads Pub/Sub or Kafka")
    if opts.output_format != "jsonl":
        raise ValueError("a --streaming run writes JSONL windows: --output_format jsonl")
    return StreamConfig(
        subscription=opts.input_subscription,
        topic=opts.input_topic,
        window_s=opts.window_s,
        kafka=kafka_config(opts),
        on_stop=opts.on_stop,
        allowed_lateness_s=opts.allowed_lateness_s,
    )


def kafka_config(opts: SwallowOptions) -> KafkaConfig | None:
    """The Kafka source of ``--input_kafka_topic``; None without it.

    The expansion service defaults to the jar beside ``--flink_job_server_jar``.
    """
    if opts.input_kafka_topic is None:
        return None
    expansion = opts.kafka_expansion_service
    job_server_jar = opts.view_as(FlinkRunnerOptions).flink_job_server_jar
    if expansion is None and job_server_jar:
        expansion = expansion_jar_for(job_server_jar)
    return KafkaConfig(
        topic=opts.input_kafka_topic,
        bootstrap_servers=opts.kafka_bootstrap_servers,
        group_id=opts.kafka_group_id,
        consumer=tuple((key, value) for key, value in opts.kafka_consumer_config),
        expansion_service=expansion,
    )


def state_config(opts: SwallowOptions) -> StateConfig:
    """How long a streaming run's dedup state lives (``--dedup_state_ttl_s``)."""
    if opts.dedup_keep != DEFAULT_KEEP:
        raise ValueError(
            f"a --streaming run keeps the first record seen: --dedup_keep {opts.dedup_keep} "
            "needs the whole corpus, a batch run"
        )
    return StateConfig(ttl_s=opts.dedup_state_ttl_s)


def _exact_dedup(opts: SwallowOptions) -> beam.PTransform:
    if _streaming(opts):
        return StreamExactDedup(opts.exact_dedup_normalize, state_config(opts))
    return ExactDedup(opts.exact_dedup_normalize, opts.dedup_keep)


def _near_dedup(opts: SwallowOptions) -> beam.PTransform:
    if _streaming(opts):
        return StreamNearDedup(minhash_config(opts), state_config(opts))
    return NearDedup(minhash_config(opts), opts.dedup_keep)


def lint_config(opts: SwallowOptions) -> LintConfig:
    """The lint stage's threshold and worker pool; a streaming run keeps its pools
    between bundles (see :class:`~beam_swallow.linting.config.LintConfig`)."""
    return LintConfig(
        min_quality=opts.min_quality,
        timeout_s=opts.lint_timeout,
        slow_timeout_s=opts.lint_slow_timeout,
        workers=opts.lint_workers,
        recycle_after=opts.lint_recycle_after,
        keep_pool=_streaming(opts),
    )


def breaker_config(opts: SwallowOptions) -> BreakerConfig:
    """When a stage's dead letters stop the job (``--breaker_threshold``)."""
    return BreakerConfig(threshold=opts.breaker_threshold)


def cache_config(opts: SwallowOptions) -> CacheConfig | None:
    """Where lint and the LLM stages cache their results; None without ``--cache_dir``."""
    if opts.cache_dir is None:
        return None
    return CacheConfig(root=opts.cache_dir, flush_entries=opts.cache_flush_every)


def _lint(opts: SwallowOptions) -> beam.PTransform:
    cache = cache_config(opts)
    return Lint(lint_config(opts)) if cache is None else CachedLint(lint_config(opts), cache)


def minhash_config(opts: SwallowOptions) -> MinhashConfig:
    """The one MinHash configuration near_dedup and decontaminate share."""
    return MinhashConfig(
        shingle_size=opts.shingle_size,
        num_perm=opts.num_perm,
        bands=opts.bands,
        rows=opts.rows,
        threshold=opts.near_dedup_threshold,
        verify=opts.near_dedup_verify,
        cc_rounds=opts.cc_rounds,
    )


def decontam_config(opts: SwallowOptions) -> DecontamConfig:
    """Which benchmarks decontaminate searches, and what counts as a match."""
    return DecontamConfig(
        files=tuple(split_patterns(opts.decontam_file or "")),
        humaneval=not opts.decontam_skip_humaneval,
        threshold=opts.decontam_threshold,
        min_chars=opts.decontam_min_chars,
        solution_min_chars=opts.decontam_solution_min_chars,
        minhash=minhash_config(opts),
    )


def engine_config(opts: SwallowOptions) -> EngineConfig:
    """The engine of the LLM stages; unset sampling flags take the engine's defaults."""
    defaults = EngineConfig.default_sampling(opts.engine)
    penalty = opts.repetition_penalty
    return EngineConfig(
        engine=opts.engine,
        model=opts.model,
        endpoint=opts.endpoint,
        api_key_env=opts.api_key_env,
        max_concurrency=opts.max_concurrency,
        request_timeout=opts.request_timeout,
        retries=opts.retries,
        retry_max_wait=opts.retry_max_wait,
        sampling=SamplingParams(
            temperature=opts.temperature,
            top_p=opts.top_p,
            max_tokens=opts.max_tokens or defaults.max_tokens,
            seed=opts.seed,
            repetition_penalty=defaults.repetition_penalty if penalty is None else penalty,
        ),
        batch_size=opts.batch_size,
        max_model_len=opts.max_model_len,
        tensor_parallel_size=opts.tensor_parallel_size,
        gpu_memory_utilization=opts.gpu_memory_utilization,
        dtype=opts.dtype,
        engine_kwargs=parse_engine_kwargs(opts.engine_kwargs),
        model_copies=model_copies(opts),
        max_tokens_ratio=opts.max_tokens_ratio,
        start_timeout=opts.engine_start_timeout,
        speculative=SpeculativeConfig(
            method=opts.speculative,
            num_tokens=opts.speculative_tokens,
            ngram_min=opts.ngram_min,
            ngram_max=opts.ngram_max,
        ),
        return_token_ids=bool(opts.record_pairs) and opts.engine == "vllm",
    )


def model_copies(opts: PipelineOptions) -> int:
    """How many worker processes on one machine each load the embedded model:
    ``--direct_num_workers`` with ``--direct_running_mode=multi_processing``,
    ``--sdk_worker_parallelism`` on a portable runner, else 1 (one process, its
    threads sharing one model)."""
    direct = opts.view_as(DirectOptions)
    if direct.direct_running_mode == "multi_processing":
        return direct.direct_num_workers or usable_cpus()  # 0: one per core
    return max(1, int(opts.view_as(PortableOptions).sdk_worker_parallelism or 1))


def rewrite_config(opts: SwallowOptions, stage: type[RewriteStage]) -> RewriteConfig:
    """The settings of a rewriting stage, whose prompt has the stage's name; its
    answers are decoded under its grammar unless ``--structured off``. ValueError
    for ``--record_pairs`` on a streaming run (its files are written once, at the end)."""
    if opts.record_pairs and _streaming(opts):
        raise ValueError("--record_pairs writes its files at the end of a batch run, not streaming")
    return RewriteConfig(
        prompt=load_prompt(stage.stage, getattr(opts, f"{stage.stage}_prompt")),
        keep_original=opts.keep_original,
        keep_uncompilable=opts.keep_uncompilable,
        short_chars=opts.too_short_chars,
        max_prompt_chars=opts.max_prompt_chars if stage is MathRewrite else None,
        grammar=stage.grammar if opts.structured == "on" else None,
        record_pairs=opts.record_pairs,
    )


def _rewriting(stage: type[RewriteStage]) -> StageFactory:
    def build(opts: SwallowOptions) -> beam.PTransform:
        built = stage(engine_config(opts), rewrite_config(opts, stage))
        cache = cache_config(opts)
        return built if cache is None else CachedLLMStage(built, cache)

    return build


_DEDUP: dict[str, StageFactory] = {
    ExactDedup.stage: _exact_dedup,
    NearDedup.stage: _near_dedup,
    Decontaminate.stage: lambda opts: Decontaminate(decontam_config(opts)),
}

CODE_STAGES: dict[str, StageFactory] = {
    Fetch.stage: _fetch,
    Syntax.stage: lambda opts: Syntax(parse_config(opts)),
    Lint.stage: _lint,
    Sgcr.stage: _rewriting(Sgcr),
    Scor.stage: _rewriting(Scor),
    **_DEDUP,
}

MATH_STAGES: dict[str, StageFactory] = {
    ExactDedup.stage: _DEDUP[ExactDedup.stage],
    NearDedup.stage: _DEDUP[NearDedup.stage],
    MathRewrite.stage: _rewriting(MathRewrite),
}

DEDUP_STAGES: dict[str, StageFactory] = dict(_DEDUP)


def resolve_stages(spec: str, known: dict[str, StageFactory]) -> list[str]:
    """Parse a ``--stages`` value; raise ValueError naming unknown or repeated stages."""
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown stage(s) {', '.join(unknown)}; this pipeline knows: {', '.join(known)}"
        )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"stage(s) listed twice: {', '.join(repeated)}")
    return names


def stage_names(opts: SwallowOptions, default: str, known: dict[str, StageFactory]) -> list[str]:
    """The stages to run: ``--stages`` (or ``default``), checked, with ``fetch`` first when the
    input is The Stack v2's shards (added when not listed); raises ValueError."""
    names = resolve_stages(opts.stages or default, known)
    if opts.input_format != "stack_v2":
        return names
    if Fetch.stage not in known:
        raise ValueError("--input_format stack_v2 is read by the code pipeline (its fetch stage)")
    if Fetch.stage not in names:
        return [Fetch.stage, *names]
    if names[0] != Fetch.stage:
        raise ValueError("fetch must be the first stage: the others need the files' text")
    return names


def build_stages(
    opts: SwallowOptions, names: list[str], known: dict[str, StageFactory]
) -> dict[str, beam.PTransform]:
    """Every stage of ``names``, built now; raises ValueError on a bad flag."""
    return {name: known[name](opts) for name in names}
