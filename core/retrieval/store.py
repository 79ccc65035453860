"""Indexes on disk, keyed by content hash, so the same files are never embedded twice.

Layout under ``<data_dir>/rag/``::

    docs/<doc sha256>.json                   the extracted text of a document (to re-chunk later)
    indexes/<doc sha[:32]>-<config hash>/    chunks.json + embeddings.npy + meta.json

An index is written into a ``.tmp-*`` folder and renamed into place only when complete, so a
half-built index (crash, concurrent build) is never served; a folder that exists is complete.
A session's collection is assembled from its documents' indexes and kept in a small in-process
LRU; "clear my documents" deletes the session's documents and all their indexes.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from core.retrieval.chunking import Chunk, ChunkConfig, Document, chunk_document, renumber
from core.retrieval.search import Collection
from core.settings import get_settings

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]


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
        try:
            (tmp / "chunks.json").write_text(json.dumps([asdict(c) for c in chunks]), encoding="utf-8")
            with open(tmp / "embeddings.npy", "wb") as f:
                np.save(f, np.asarray(emb, dtype=np.float32), allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
            (tmp / "meta.json").write_text(json.dumps({**meta, "complete": True, "created": time.time()}),
                                           encoding="utf-8")
            try:
                os.rename(tmp, final)
            except OSError:  # another session finished the same index first: keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def delete(self, refs: Sequence[DocRef]) -> int:
        """Delete documents and every index built from them; returns how many folders/files went."""
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

    def clean_stale_tmp(self, older_than_s: float = 3600) -> None:
        """Remove temporary folders left by crashed builds."""
        if not self.index_dir.exists():
            return
        for tmp in self.index_dir.glob(".tmp-*"):
            try:
                if time.time() - tmp.stat().st_mtime > older_than_s:
                    shutil.rmtree(tmp, ignore_errors=True)
            except OSError:
                pass


# --------------------------------------------------------------------------------------------
# assembling a collection
# --------------------------------------------------------------------------------------------

class _CollectionCache:
    """A few assembled collections per process (key: doc shas + config + embedder)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Collection] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Collection | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: tuple, value: Collection) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def drop_docs(self, shas: set[str]) -> None:
        with self._lock:
            for key in [k for k in self._items if shas & set(k[0])]:
                del self._items[key]


_collections = _CollectionCache()


def build_collection(docs: Sequence[Document], config: ChunkConfig, *,
                     store: IndexStore | None = None,
                     encode_passages: Callable[[Sequence[str]], np.ndarray] | None = None,
                     encode_query: Callable[[str], np.ndarray] | None = None,
                     embedder: str | None = None, tokenizer: object | None = None,
                     progress: Progress | None = None) -> BuildResult:
    """Chunk and embed ``docs`` (reusing on-disk indexes) and assemble one collection."""
    from core.retrieval import models

    config.validate()
    store = store or IndexStore()
    encode_passages = encode_passages or models.encode_passages
    encode_query = encode_query or models.encode_query
    embedder = embedder or models.embedder_id()
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
        loaded = store.load_index(key)
        cached = loaded is not None
        if loaded is None:
            chunks = chunk_document(doc, config, tokenizer=tokenizer)
            emb = encode_passages([c.text for c in chunks])
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
                       tokenizer: object | None = None) -> Collection:
    """The collection for a session's documents: from the process cache, else from disk."""
    from core.retrieval import models

    embedder = models.embedder_id()
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
    return build_collection(docs, config, store=store, tokenizer=tokenizer).collection
