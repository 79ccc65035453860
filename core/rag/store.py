"""Indexes on disk, keyed by content hash, so the same files are never embedded twice.

Layout under ``<data_dir>/rag/``::

    docs/<doc sha256>.json                   the extracted text of a document (to re-chunk later)
    indexes/<doc sha[:32]>-<config hash>/    chunks.json + embeddings.npy + meta.json

An index is written into a ``.tmp-*`` folder and renamed into place only when complete, so a
half-built index (crash, concurrent build) is never served; a folder that exists is complete.
The writer holds an flock on ``.tmp-*/.building``; the kernel frees it when the writer dies, so
the leftovers of a killed server are removed when the next one starts (``clean_stale_tmp``).
A session's collection is assembled from its documents' indexes and kept in the lab's budgeted
cache (``rag.collections``). Who uses a stored document is tracked in :mod:`core.rag.sessions`; :meth:`IndexStore.delete`
is the low-level purge it calls once nobody does.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.rag.chunking import Chunk, ChunkConfig, Document, chunk_document, renumber
from core.rag.search import Collection
from core.settings import get_settings

try:
    import fcntl
except ImportError:  # Windows: leftover temp folders are only cleaned by age
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
#: A file in a temporary index folder, flock-ed by the process writing it. The kernel drops the lock
#: when that process dies (SIGKILL included), so a free lock means the folder is a crash leftover.
BUILD_LOCK = ".building"


def _lock_build(folder: Path) -> int | None:
    """Create ``folder/.building`` already locked (cleaners only ever see it locked); its fd or None."""
    if fcntl is None:
        return None
    pending = folder / f"{BUILD_LOCK}.new"
    try:
        fd = os.open(pending, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(pending, folder / BUILD_LOCK)
    except OSError:
        os.close(fd)
        return None
    return fd


def _build_state(folder: Path) -> str:
    """'live' (its builder holds the lock), 'dead' (lock free: the builder died) or 'unknown'."""
    if fcntl is None:
        return "unknown"
    try:
        fd = os.open(folder / BUILD_LOCK, os.O_RDONLY)
    except OSError:
        return "unknown"
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return "live"
    finally:
        os.close(fd)
    return "dead"


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@dataclass(frozen=True)
class DocRef:
    """What a session remembers about one of its documents (small and picklable, for gr.State)."""

    sha: str
    name: str
    kind: str
    pages: int
    chars: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocStats:
    name: str
    kind: str
    pages: int
    chars: int
    chunks: int
    cached: bool  # embeddings came from the on-disk index
    seconds: float


@dataclass
class BuildResult:
    collection: Collection
    stats: list[DocStats] = field(default_factory=list)
    refs: list[DocRef] = field(default_factory=list)


class IndexStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else get_settings().data_dir / "rag"
        self.docs_dir = self.root / "docs"
        self.index_dir = self.root / "indexes"

    # ---- documents ---------------------------------------------------------------------------
    def save_doc(self, doc: Document) -> DocRef:
        sha = doc.sha256
        path = self.docs_dir / f"{sha}.json"
        if not path.exists():
            self.docs_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".tmp-{sha}-{uuid.uuid4().hex}")
            tmp.write_text(json.dumps({"name": doc.name, "kind": doc.kind, "pages": list(doc.pages),
                                       "notes": list(doc.notes), "source": doc.source}), encoding="utf-8")
            os.replace(tmp, path)
        return DocRef(sha, doc.name, doc.kind, len(doc.pages), doc.chars, doc.notes)

    def load_doc(self, ref: DocRef) -> Document | None:
        path = self.docs_dir / f"{ref.sha}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return Document(name=ref.name, pages=tuple(data["pages"]), kind=data["kind"],
                        notes=tuple(data.get("notes", ())), source=data.get("source", ""))

    # ---- indexes -----------------------------------------------------------------------------
    @staticmethod
    def key(doc_sha: str, config: ChunkConfig, embedder: str) -> str:
        cfg = hashlib.sha256(f"{config.key()}|{embedder}|v1".encode()).hexdigest()[:12]
        return f"{doc_sha[:32]}-{cfg}"

    def load_index(self, key: str) -> tuple[list[Chunk], np.ndarray] | None:
        folder = self.index_dir / key
        if not (folder / "meta.json").exists():
            return None
        try:
            chunks = [Chunk(**c) for c in json.loads((folder / "chunks.json").read_text(encoding="utf-8"))]
            emb = np.load(folder / "embeddings.npy", allow_pickle=False)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.warning("ignoring unreadable index %s: %s", key, exc)
            return None
        if len(chunks) != len(emb):
            return None
        return chunks, emb

    def save_index(self, key: str, chunks: Sequence[Chunk], emb: np.ndarray, meta: dict) -> Path:
        """Write into a temporary folder, then rename it into place (atomic on one filesystem)."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        final = self.index_dir / key
        tmp = self.index_dir / f".tmp-{key}-{uuid.uuid4().hex}"
        tmp.mkdir()
        lock = _lock_build(tmp)
        try:
            # every file reaches the disk before the rename publishes the folder (power loss included)
            _write_synced(tmp / "chunks.json", json.dumps([asdict(c) for c in chunks]).encode("utf-8"))
            with open(tmp / "embeddings.npy", "wb") as f:
                np.save(f, np.asarray(emb, dtype=np.float32), allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
            _write_synced(tmp / "meta.json",
                          json.dumps({**meta, "complete": True, "created": time.time()}).encode("utf-8"))
            (tmp / BUILD_LOCK).unlink(missing_ok=True)  # the finished index does not carry the lock file
            try:
                os.rename(tmp, final)
            except OSError:  # another session finished the same index first: keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            if lock is not None:
                os.close(lock)
        return final

    def delete(self, refs: Sequence[DocRef]) -> int:
        """Delete documents and every index built from them; returns how many folders/files went.

        Low level: sessions release references through :func:`core.rag.sessions.release`, which calls
        this only for documents no session, room or the built-in corpus uses any more."""
        removed = 0
        for ref in refs:
            path = self.docs_dir / f"{ref.sha}.json"
            if path.exists():
                path.unlink(missing_ok=True)
                removed += 1
            if self.index_dir.exists():
                for folder in self.index_dir.glob(f"{ref.sha[:32]}-*"):
                    shutil.rmtree(folder, ignore_errors=True)
                    removed += 1
        _collections.drop_docs({r.sha for r in refs})
        return removed

    def clean_stale_tmp(self, older_than_s: float = 3600) -> int:
        """Remove what crashed writers left behind; returns how many temp folders/files went.

        Index temp folders go at once when their build lock is free (the builder died, e.g. with a
        killed server), else (no lock file) once older than ``older_than_s``; never while a live build
        holds the lock. Document temp files take milliseconds to write: ten minutes old is a leftover.
        """
        now = time.time()

        def index_is_stale(tmp: Path) -> bool:
            state = _build_state(tmp)
            return state == "dead" or (state == "unknown" and now - tmp.stat().st_mtime > older_than_s)

        removed = 0
        for folder, is_stale in ((self.index_dir, index_is_stale),
                                 (self.docs_dir, lambda tmp: now - tmp.stat().st_mtime > 600)):
            try:
                leftovers = list(folder.glob(".tmp-*")) if folder.exists() else []
            except OSError:
                continue
            for tmp in leftovers:
                try:
                    if is_stale(tmp):
                        shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
                        removed += 1
                except OSError:
                    pass
        return removed


# --------------------------------------------------------------------------------------------
# assembling a collection
# --------------------------------------------------------------------------------------------

class _CollectionCache:
    """Assembled collections (key: doc shas + config + embedder) in the lab's budgeted LRU
    (``core.cache`` cache ``rag.collections``), each counted at :meth:`Collection.nbytes`."""

    NAME = "rag.collections"

    @property
    def cache(self) -> Any:
        from core.cache import budget_cache

        return budget_cache(self.NAME)

    def get(self, key: tuple) -> Collection | None:
        return self.cache.get(key)

    def put(self, key: tuple, value: Collection) -> None:
        self.cache.put(key, value, size=value.nbytes())

    def drop_docs(self, shas: set[str]) -> None:
        cache = self.cache
        for key in [k for k in cache.keys() if shas & set(k[0])]:
            cache.discard(key)


_collections = _CollectionCache()


EMBED_BATCH = 64


def _embed_batches(texts: list[str], encode: Callable[[Sequence[str]], np.ndarray], name: str,
                   progress: Progress | None, span: tuple[float, float]) -> np.ndarray:
    """Embed in batches of :data:`EMBED_BATCH`, checking for Stop (``core.jobs.check_stop``) and
    reporting "embedding 1,200 / 3,824" between batches."""
    from core.jobs import check_stop, report

    parts = []
    total = len(texts)
    for start in range(0, total, EMBED_BATCH):
        check_stop()
        text = f"embedding {name}: {start:,} / {total:,} chunks"
        fraction = span[0] + (span[1] - span[0]) * start / max(total, 1)
        report(fraction, text)
        if progress:
            progress(fraction, text)
        parts.append(np.asarray(encode(texts[start:start + EMBED_BATCH]), dtype=np.float32))
    check_stop()
    return np.concatenate(parts) if parts else np.asarray(encode([]), dtype=np.float32)


def build_collection(docs: Sequence[Document], config: ChunkConfig, *,
                     store: IndexStore | None = None,
                     encode_passages: Callable[[Sequence[str]], np.ndarray] | None = None,
                     encode_query: Callable[[str], np.ndarray] | None = None,
                     embedder: str | None = None, tokenizer: object | None = None,
                     progress: Progress | None = None, model: str | None = None) -> BuildResult:
    """Chunk and embed ``docs`` (reusing on-disk indexes) and assemble one collection. ``model``: the
    embedder's model name (default :data:`models.EMBEDDER`; a session's trained embedder keeps its
    indexes in memory only)."""
    import functools

    from core.rag import models

    config.validate()
    store = store or IndexStore()
    model = model or models.EMBEDDER
    own = model != models.EMBEDDER  # the lab's embedder: the module functions (tests replace them)
    encode_passages = encode_passages or (functools.partial(models.encode_passages, model_name=model) if own
                                          else models.encode_passages)
    encode_query = encode_query or (functools.partial(models.encode_query, model_name=model) if own
                                    else models.encode_query)
    embedder = embedder or models.embedder_id(model)
    on_disk = not model.startswith("session:")
    store.clean_stale_tmp()
    all_chunks: list[Chunk] = []
    parts: list[np.ndarray] = []
    stats: list[DocStats] = []
    refs: list[DocRef] = []
    seen: set[str] = set()
    for n, doc in enumerate(docs):
        t0 = time.perf_counter()
        ref = store.save_doc(doc)
        if ref.sha in seen:  # the same content uploaded twice
            continue
        seen.add(ref.sha)
        refs.append(ref)
        if progress:
            progress(n / max(len(docs), 1), f"Indexing {doc.name}")
        key = IndexStore.key(ref.sha, config, embedder)
        loaded = store.load_index(key) if on_disk else None
        cached = loaded is not None
        if loaded is None:
            chunks = chunk_document(doc, config, tokenizer=tokenizer)
            emb = _embed_batches([c.text for c in chunks], encode_passages, doc.name, progress,
                                 (n / max(len(docs), 1), (n + 1) / max(len(docs), 1)))
            if on_disk:
                store.save_index(key, chunks, emb, {"doc": doc.name, "sha": ref.sha, "config": config.key(),
                                                    "embedder": embedder, "chunks": len(chunks)})
        else:
            chunks, emb = loaded
        all_chunks.extend(renumber(chunks, len(all_chunks)))
        parts.append(np.asarray(emb, dtype=np.float32))
        stats.append(DocStats(doc.name, doc.kind, len(doc.pages), doc.chars, len(chunks), cached,
                              time.perf_counter() - t0))
    emb_all = np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)
    collection = Collection(all_chunks, emb_all, embedder, encode_query)
    _collections.put((tuple(r.sha for r in refs), config.key(), embedder), collection)
    if progress:
        progress(1.0, "Index ready")
    return BuildResult(collection, stats, refs)


def session_collection(refs: Sequence[DocRef], config: ChunkConfig, *, store: IndexStore | None = None,
                       tokenizer: object | None = None, model: str | None = None) -> Collection:
    """The collection for a session's documents (embedded with ``model``, default the lab's embedder):
    from the process cache, else from disk."""
    from core.rag import models

    embedder = models.embedder_id(model or models.EMBEDDER)
    key = (tuple(r.sha for r in refs), config.key(), embedder)
    hit = _collections.get(key)
    if hit is not None:
        return hit
    store = store or IndexStore()
    docs = []
    for ref in refs:
        doc = store.load_doc(ref)
        if doc is None:
            from core.errors import LabError

            raise LabError(f"The text of '{ref.name}' is no longer stored (it was cleared); upload it again.")
        docs.append(doc)
    return build_collection(docs, config, store=store, tokenizer=tokenizer, model=model).collection
