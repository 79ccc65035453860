"""Backends from UI values, and timed streaming — moved to :mod:`core.generation`.

``make_backend``, ``chat_models``, ``sampling`` now live in :mod:`core.generation.factory` (which also
picks the engine: llama.cpp on CPU, transformers on GPU or when logits are needed), and ``Stats``,
``timed_stream``, ``UserStop`` in :mod:`core.generation.timing`. This module re-exports them so
existing imports keep working; new code imports from :mod:`core.generation`.
"""
from __future__ import annotations

from core.generation.factory import LOCAL, REMOTE, chat_models, make_backend, sampling
from core.generation.timing import Stats, UserStop, count_output_tokens, timed_stream

__all__ = ["LOCAL", "REMOTE", "Stats", "UserStop", "chat_models", "count_output_tokens", "make_backend",
           "sampling", "timed_stream"]
