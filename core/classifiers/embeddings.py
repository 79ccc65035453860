"""Sentence embeddings computed once per (texts, model) and cached in memory and on disk.

Methods 2 (embeddings + logistic regression), 3 (zero-shot) and the SetFit methods' heads all reuse
these, so re-running an evaluation on the same data does not re-encode anything.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from core.gpu import estimate_duration, gpu_task
from core.settings import get_settings

EMBEDDER = "embed-mpnet"  # the book's all-mpnet-base-v2 on the Hub; MiniLM offline

_lock = threading.Lock()
_memory: OrderedDict[str, np.ndarray] = OrderedDict()
_MEMORY_ITEMS = 32
stats = {"hits": 0, "disk_hits": 0, "encoded": 0}


def embedder_label(model: str = EMBEDDER) -> str:
    from core import catalogue

    return catalogue.get(model).display(get_settings().mode)


def cache_dir() -> Path:
    return get_settings().models_dir / "classifiers" / "embeddings"


def _key(texts: Sequence[str], model: str) -> str:
    h = hashlib.sha1()
    h.update(f"{get_settings().mode}:{embedder_label(model)}\x1d".encode())
    h.update("\x1e".join(texts).encode("utf-8", "replace"))
    return h.hexdigest()[:24]


def clear(disk: bool = False) -> None:
    """Forget cached embeddings (the benchmark's "uncached" run)."""
    with _lock:
        _memory.clear()
    if disk:
        folder = cache_dir()
        if folder.exists():
            for p in folder.glob("*.npy"):
                p.unlink(missing_ok=True)


def _duration(model: str, texts: Sequence[str], *a: Any, **k: Any) -> int:
    return estimate_duration(len(texts), per_unit_s=0.002, base_s=5)


@gpu_task(duration=_duration)
def _encode(model: str, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    from core.loader import load

    st = load(model)
    emb = st.encode(list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                    show_progress_bar=False)
    return np.asarray(emb, dtype=np.float32)


def embed(texts: Sequence[str], model: str = EMBEDDER, *, progress: Callable[[float, str], None] | None = None,
          chunk: int = 256) -> np.ndarray:
    """Unit-normalised embeddings of ``texts`` (cached by content and model)."""
    texts = list(texts)
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    key = _key(texts, model)
    with _lock:
        if key in _memory:
            _memory.move_to_end(key)
            stats["hits"] += 1
            return _memory[key]
    path = cache_dir() / f"{key}.npy"
    if path.exists():
        try:
            arr = np.load(path)
            if arr.shape[0] == len(texts):
                stats["disk_hits"] += 1
                _remember(key, arr)
                return arr
        except (OSError, ValueError):
            pass
    parts = []
    for start in range(0, len(texts), chunk):
        if progress is not None:
            progress(start / len(texts), f"embedding {start:,}/{len(texts):,} texts")
        parts.append(_encode(model, texts[start:start + chunk]))
    arr = np.concatenate(parts, axis=0)
    stats["encoded"] += len(texts)
    _remember(key, arr)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, arr)
        tmp.replace(path)
    except OSError:
        pass
    return arr


def _remember(key: str, arr: np.ndarray) -> None:
    with _lock:
        _memory[key] = arr
        _memory.move_to_end(key)
        while len(_memory) > _MEMORY_ITEMS:
            _memory.popitem(last=False)
