"""UMAP (reduce), cached per (embeddings, settings): re-clustering with new HDBSCAN settings skips it."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

from core.errors import LabError
from core.topics.config import check_stop

_UMAP_CACHE: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
_UMAP_LOCK = threading.Lock()
UMAP_CACHE_ITEMS = 12


def array_hash(x: Any) -> str:
    """A content hash of an array (its bytes and shape)."""
    import numpy as np

    a = np.ascontiguousarray(x)
    return hashlib.sha1(a.view(np.uint8).data).hexdigest() + str(a.shape)


class CachedUMAP:
    """A UMAP that remembers its results; BERTopic only calls ``fit_transform``/``transform``."""

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.umap_: Any = None
        self.embedding_: Any = None
        self._fit_hash = ""
        self.from_cache = False

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Reduce ``X`` (or return the cached reduction of the same array with the same settings)."""
        check_stop()
        key = (array_hash(X), tuple(sorted(self.params.items())))
        with _UMAP_LOCK:
            hit = _UMAP_CACHE.get(key)
            if hit is not None:
                _UMAP_CACHE.move_to_end(key)
        if hit is None:
            from umap import UMAP

            model = UMAP(**self.params)
            emb = model.fit_transform(X)
            with _UMAP_LOCK:
                _UMAP_CACHE[key] = (model, emb)
                while len(_UMAP_CACHE) > UMAP_CACHE_ITEMS:
                    _UMAP_CACHE.popitem(last=False)
            self.from_cache = False
        else:
            model, emb = hit
            self.from_cache = True
        self.umap_, self.embedding_, self._fit_hash = model, emb, key[0]
        check_stop()
        return emb.copy()

    def fit(self, X: Any, y: Any = None) -> CachedUMAP:
        self.fit_transform(X, y)
        return self

    def transform(self, X: Any) -> Any:
        if self.umap_ is None:
            raise LabError("The dimensionality reduction has not been fitted yet.")
        if array_hash(X) == self._fit_hash:
            return self.embedding_.copy()
        return self.umap_.transform(X)


def reduce(embeddings: Any, params: dict[str, Any]) -> Any:
    """UMAP-reduce ``embeddings`` with ``params`` (cached)."""
    return CachedUMAP(**params).fit_transform(embeddings)


def clear_caches() -> None:
    """Forget every cached reduction."""
    with _UMAP_LOCK:
        _UMAP_CACHE.clear()
