"""The zoo's sentence embeddings: the lab's one embed-and-cache module (:mod:`core.embeddings`) with
the zoo's embedder (the book's all-mpnet-base-v2 on the Hub; the packaged MiniLM offline).

Embeddings + logistic regression, zero-shot and re-evaluations reuse them (memory under the lab's
budget, large requests also on disk), so re-running an evaluation on the same data encodes nothing.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from core import embeddings as lab_embeddings
from core.settings import get_settings

EMBEDDER = "embed-mpnet"  # the book's all-mpnet-base-v2 on the Hub; MiniLM offline
stats = lab_embeddings.stats  # hits / disk_hits / encoded, shared with the rest of the lab


def embedder_label(model: str = EMBEDDER) -> str:
    """The embedder's name as shown in this mode."""
    from core import catalogue

    return catalogue.get(model).display(get_settings().mode)


def clear(disk: bool = False) -> None:
    """Forget cached embeddings (the benchmark's "uncached" run)."""
    lab_embeddings.clear(disk=disk)


def embed(texts: Sequence[str], model: str = EMBEDDER, *, progress: Callable[[float, str], None] | None = None,
          chunk: int = 256) -> np.ndarray:
    """Unit-normalised embeddings of ``texts`` (cached by content and model; stops between chunks)."""
    return lab_embeddings.embed(model, list(texts), progress=progress, chunk=chunk)
