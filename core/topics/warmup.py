"""numba warm-up: the first UMAP/HDBSCAN call in a process compiles for ~8 s; do it once at startup."""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)

_WARM_LOCK = threading.Lock()
_WARMED = False


def warm_numba() -> float:
    """Compile UMAP/HDBSCAN's numba code on tiny random data; returns seconds spent (0 if done)."""
    global _WARMED
    with _WARM_LOCK:
        if _WARMED:
            return 0.0
        t = time.perf_counter()
        import numpy as np
        from hdbscan import HDBSCAN
        from umap import UMAP

        x = np.random.default_rng(0).normal(size=(80, 16)).astype(np.float32)
        for metric in ("cosine", "euclidean"):
            red = UMAP(n_neighbors=10, n_components=5, min_dist=0.0, metric=metric, random_state=0).fit_transform(x)
        HDBSCAN(min_cluster_size=5, prediction_data=True).fit(red)
        _WARMED = True
        return time.perf_counter() - t


def warm_in_background() -> None:
    """Start :func:`warm_numba` in a daemon thread (once per process)."""
    if _WARMED:
        return
    threading.Thread(target=lambda: _safe_warm(), name="topics-numba-warmup", daemon=True).start()


def _safe_warm() -> None:
    from core.priority import as_model_work

    as_model_work(after_start=True)
    try:
        log.info("topics: numba warm-up took %.1f s", warm_numba())
    except Exception:
        log.exception("numba warm-up failed")
