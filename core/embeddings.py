"""One embed-and-cache path for sentence embeddings (every app that embeds text calls :func:`embed`).

* **Cache by content**: each text's vector is kept in the lab's budgeted LRU (``core.cache``,
  cache ``embeddings``) under (what actually embeds, normalisation, prefix, sha1 of the text), so a
  re-run on the same corpus, a re-cluster, or a second request that shares texts with an earlier
  one (topic words, label descriptions) embeds only what is new. Requests of at least
  :data:`DISK_MIN_TEXTS` texts are also saved as ``.npy`` under ``<cache>/embeddings`` and reused
  after a restart.
* **Long jobs**: texts are encoded in chunks; between chunks the current job's stop is checked
  (``core.jobs.check_stop``, raises ``Stopped``) and its progress reported (``core.jobs.report``).
  Chunks already encoded stay cached, so a stopped run resumes cheaply.
* **Backends**: torch (sentence-transformers), or ONNX Runtime with ``LLM_LAB_EMBED_BACKEND=onnx``
  (``core.embeddings_onnx``; measured in ``bench/bench_embeddings.py``, off by default because it
  is not faster on this machine — docs/BENCHMARKS.md).
"""
from __future__ import annotations

import contextlib
import hashlib
import threading
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from core.cache import budget_cache
from core.gpu import estimate_duration, gpu_task
from core.settings import get_settings

#: Texts per chunk between stop checks / progress reports (a few seconds of CPU at most).
CHUNK = 256
#: Requests with at least this many texts are also kept on disk.
DISK_MIN_TEXTS = 32
_ENTRY_OVERHEAD = 200  # bytes of bookkeeping per cached vector (key, entry, dict slots)

stats = {"hits": 0, "disk_hits": 0, "encoded": 0}
Progress = Callable[[float, str], None]


def _cache() -> Any:
    return budget_cache("embeddings")


def backend(settings: Any = None) -> str:
    """The backend that embeds now: ``onnx`` when asked for and available, else ``torch``."""
    settings = settings or get_settings()
    if settings.embed_backend == "onnx":
        from core import embeddings_onnx

        if embeddings_onnx.available():
            return "onnx"
    return "torch"


def identity(model_name: str, settings: Any = None) -> str:
    """What actually embeds for catalogue entry ``model_name`` in this mode (part of every cache key)."""
    from core import catalogue

    if model_name.startswith("session:"):  # a session's trained embedder: refuses other sessions
        from core.training import session_models

        return session_models.identity(model_name)
    settings = settings or get_settings()
    entry = catalogue.get(model_name)
    return (f"offline:{entry.offline_source or entry.name}" if settings.offline
            else f"hub:{entry.hub_id}@{entry.hub_revision}")


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()


def _jobs() -> tuple[Callable[[], None], Callable[..., None]]:
    try:
        from core import jobs
    except ImportError:  # pragma: no cover - core.jobs always exists in the lab
        return (lambda: None), (lambda *a, **k: None)
    return getattr(jobs, "check_stop", lambda: None), getattr(jobs, "report", lambda *a, **k: None)


def _duration(model_name: str, texts: Sequence[str], *a: Any, **k: Any) -> int:
    return estimate_duration(len(texts), per_unit_s=0.01, base_s=5)


@gpu_task(duration=_duration)
def _encode_chunk(model_name: str, texts: Sequence[str], batch_size: int, normalize: bool, engine: str) -> np.ndarray:
    if engine == "onnx":
        from core import embeddings_onnx

        vecs = embeddings_onnx.encoder(model_name).encode(list(texts), batch_size=batch_size, normalize=normalize)
    else:
        from core.loader import load

        vecs = load(model_name).encode(list(texts), batch_size=batch_size, normalize_embeddings=normalize,
                                       convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vecs, dtype=np.float32)


def disk_dir() -> Path:
    """Where requests of :data:`DISK_MIN_TEXTS` texts or more are saved."""
    return get_settings().cache_dir / "embeddings"


def embed(model_name: str, texts: Sequence[str], *, batch_size: int = 64, normalize: bool = True,
          prefix: str = "", disk: bool | Path = True, progress: Progress | None = None, chunk: int = CHUNK) -> np.ndarray:
    """Embeddings of ``texts`` with catalogue model ``model_name``, float32 ``[len(texts), dim]``.

    ``prefix`` is prepended to every text before encoding (query instructions such as BGE's); it is
    part of the cache key. ``disk``: True keeps requests of :data:`DISK_MIN_TEXTS` texts or more
    under :func:`disk_dir`, a folder keeps every request there, False keeps nothing on disk.
    Only texts not cached yet are encoded, in chunks of ``chunk`` with a stop check and a progress
    report between them (``progress(fraction, text)`` too, when given); concurrent identical
    requests encode once. Raises ``core.jobs.Stopped`` when the current job is stopped.
    """
    texts = list(texts)
    if not texts:
        return np.zeros((0, embedding_dim(model_name)), dtype=np.float32)
    settings = get_settings()
    engine = "torch" if model_name.startswith("session:") else backend(settings)
    head = f"{identity(model_name, settings)}|{engine}|{int(normalize)}|{_text_key(prefix)}"
    keys = [(head, _text_key(t)) for t in texts]
    cache = _cache()
    found = _lookup(cache, keys)
    if len(found) == len(set(keys)):
        stats["hits"] += 1
        return np.stack([found[k] for k in keys])
    folder = disk if isinstance(disk, Path) else disk_dir() if disk and len(texts) >= DISK_MIN_TEXTS else None
    if model_name.startswith("session:"):
        folder = None  # a session's trained embedder: its vectors stay in memory, never on shared disk
    request = _request_hash(head, keys)
    with _inflight(request):
        found.update(_lookup(cache, [k for k in keys if k not in found]))  # a twin request may have finished
        if len(found) == len(set(keys)):
            stats["hits"] += 1
            return np.stack([found[k] for k in keys])
        path = folder / f"{request}.npy" if folder is not None else None
        arr = _load(path, len(texts))
        if arr is not None:
            stats["disk_hits"] += 1
            _remember(cache, keys, arr)
            return arr
        source = {k: t for k, t in zip(keys, texts)}
        todo = [k for k in dict.fromkeys(keys) if k not in found]  # unique texts still to encode
        found.update(_encode_all(model_name, [prefix + source[k] for k in todo], todo, batch_size, normalize,
                                 engine, progress, chunk))
        out = np.stack([found[k] for k in keys])
        if path is not None:
            _save(path, out)
        return out


def _encode_all(model_name: str, texts: list[str], keys: list[tuple[str, str]], batch_size: int, normalize: bool,
                engine: str, progress: Progress | None, chunk: int) -> dict[tuple[str, str], np.ndarray]:
    """Encode ``texts`` chunk by chunk (stop check and progress between chunks), caching each chunk."""
    check_stop, report = _jobs()
    cache = _cache()
    total = len(texts)
    done: dict[tuple[str, str], np.ndarray] = {}
    for start in range(0, total, max(1, chunk)):
        check_stop()
        note = f"embedding {start:,} / {total:,} texts"
        report(start / total, note)
        if progress is not None:
            progress(start / total, note)
        vecs = _encode_chunk(model_name, texts[start:start + chunk], batch_size, normalize, engine)
        stats["encoded"] += len(vecs)
        done.update(_remember(cache, keys[start:start + chunk], vecs))
    report(1.0, f"embedded {total:,} texts")
    return done


def embed_one(model_name: str, text: str, *, prefix: str = "", normalize: bool = True) -> np.ndarray:
    """The embedding of one text (a query), ``[dim]``."""
    return embed(model_name, [text], prefix=prefix, normalize=normalize, disk=False)[0]


def embedding_dim(model_name: str) -> int:
    """Dimension of ``model_name``'s embeddings (loads the model)."""
    from core.loader import load

    model = load(model_name)
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get_dim())


def clear(disk: bool = False) -> None:
    """Forget cached embeddings (memory; and the files on disk with ``disk=True``)."""
    _cache().clear()
    if disk:
        folder = disk_dir()
        if folder.exists():
            for p in folder.glob("*.npy"):
                p.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# internals
# --------------------------------------------------------------------------------------------

def _frozen_rows(arr: np.ndarray) -> list[np.ndarray]:
    rows = [np.array(r, dtype=np.float32) for r in arr]  # own copies: a row view would pin the chunk
    for r in rows:
        r.setflags(write=False)
    return rows


def _lookup(cache: Any, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], np.ndarray]:
    found: dict[tuple[str, str], np.ndarray] = {}
    for k in keys:
        if k not in found:
            v = cache.get(k)
            if v is not None:
                found[k] = v
    return found


def _remember(cache: Any, keys: Sequence[tuple[str, str]], arr: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
    rows = dict(zip(keys, _frozen_rows(arr)))
    for k, row in rows.items():
        cache.put(k, row, size=row.nbytes + _ENTRY_OVERHEAD)
    return rows


def _request_hash(head: str, keys: Sequence[tuple[str, str]]) -> str:
    h = hashlib.sha256(head.encode())
    for _, t in keys:
        h.update(t.encode())
    return h.hexdigest()[:32]


_inflight_lock = threading.Lock()
_inflight_locks: dict[str, list] = {}  # request hash -> [lock, users]


@contextlib.contextmanager
def _inflight(request: str) -> Iterator[None]:
    """Serialise identical requests (the second one then finds the first one's vectors cached)."""
    with _inflight_lock:
        slot = _inflight_locks.setdefault(request, [threading.Lock(), 0])
        slot[1] += 1
    try:
        with slot[0]:
            yield
    finally:
        with _inflight_lock:
            slot[1] -= 1
            if slot[1] == 0:
                _inflight_locks.pop(request, None)


def _load(path: Path | None, n: int) -> np.ndarray | None:
    if path is None or not path.exists():
        return None
    try:
        arr = np.load(path)
    except (OSError, ValueError):
        return None
    return arr.astype(np.float32, copy=False) if arr.ndim == 2 and arr.shape[0] == n else None


def _save(path: Path, arr: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".partial.npy")
        np.save(tmp, arr)
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache folder only costs the restart reuse
