"""Sentence embeddings of the Classifier Zoo: thin wrappers over the lab's one embed-and-cache path.

Methods 2 (embeddings + logistic regression), 3 (zero-shot) and the SetFit methods' heads all reuse
these, so re-running an evaluation on the same data does not re-encode anything. Caching (memory,
in the lab-wide budget, and ``.npy`` files under :func:`cache_dir`), batching, progress and stop
live in :mod:`core.embeddings`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from core import embeddings as _core
from core.settings import get_settings

EMBEDDER = "embed-mpnet"  # the book's all-mpnet-base-v2 on the Hub; MiniLM offline

stats = _core.stats  # the same counters: hits, disk_hits, encoded


def embedder_label(model: str = EMBEDDER) -> str:
    from core import catalogue

    return catalogue.get(model).display(get_settings().mode)


def cache_dir() -> Path:
    return get_settings().models_dir / "classifiers" / "embeddings"


def clear(disk: bool = False) -> None:
    """Forget cached embeddings (the benchmark's "uncached" run)."""
    _core.clear()
    if disk:
        folder = cache_dir()
        if folder.exists():
            for p in folder.glob("*.npy"):
                p.unlink(missing_ok=True)


def embed(texts: Sequence[str], model: str = EMBEDDER, *, progress: Callable[[float, str], None] | None = None,
          chunk: int = 256) -> np.ndarray:
    """Unit-normalised embeddings of ``texts`` (cached by content and model)."""
    return _core.embed(model, texts, normalize=True, disk=cache_dir(), progress=progress, chunk=chunk)
