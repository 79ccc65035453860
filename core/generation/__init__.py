"""Generation engines shared by Prompt Lab, RAG Chat, the Eval Arena and others.

One interface (:class:`~core.generation.params.Backend`: ``stream`` yields text deltas, ``generate``
joins them; local engines also ``render_prompt`` and ``count_tokens``), three engines, one per module:

* :mod:`~core.generation.llamacpp_engine` — :class:`LlamaCppBackend`: GGUF files as they are through
  llama-cpp-python, a pool of instances for concurrent requests. The default on CPU.
* :mod:`~core.generation.transformers_engine` — :class:`LocalBackend`: transformers ``generate``;
  on GPU / ZeroGPU, and where logits or logits processors are the point.
* :mod:`~core.generation.openai_engine` — :class:`OpenAIBackend`: any OpenAI-compatible server.

:mod:`~core.generation.factory` picks the engine (:func:`make_backend`, :func:`local_backend`,
:func:`engine_info`); :mod:`~core.generation.timing` times streams (TTFT, tokens/s).
"""
from __future__ import annotations

from core.generation.factory import (ENGINE_LABELS, LOCAL, REMOTE, chat_models, choose_engine, engine_info,
                                     engine_name, local_backend, make_backend, on_gpu, sampling)
from core.generation.llamacpp_engine import EnginePool, LlamaCppBackend, TokenProb
from core.generation.llamacpp_engine import available as llamacpp_available
from core.generation.openai_engine import OpenAIBackend, describe_api_error, describe_timeout, redact
from core.generation.params import (GREEDY, Backend, Message, SamplingParams, check_messages, check_prompt_length,
                                    with_system_prompt)
from core.generation.timing import Stats, UserStop, count_output_tokens, timed_stream
from core.generation.transformers_engine import LocalBackend

__all__ = [
    "ENGINE_LABELS", "GREEDY", "LOCAL", "REMOTE", "Backend", "EnginePool", "LlamaCppBackend", "LocalBackend",
    "Message", "OpenAIBackend", "SamplingParams", "Stats", "TokenProb", "UserStop", "chat_models",
    "check_messages", "check_prompt_length", "choose_engine", "count_output_tokens", "describe_api_error",
    "describe_timeout", "engine_info", "engine_name", "llamacpp_available", "local_backend", "make_backend",
    "on_gpu", "redact", "sampling", "timed_stream", "with_system_prompt",
]
