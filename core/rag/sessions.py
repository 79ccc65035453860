"""A session's documents: merging uploads into what it already holds, and who uses a stored file.

Documents and their indexes are stored once per content hash (:mod:`core.rag.store`), so several
browser sessions, a room and the built-in corpus can share one stored file. Each user of a file
holds a *reference*, a small marker file::

    <data_dir>/rag/refs/<doc sha256>/<holder digest>     content: the holder; mtime: its last use

"Clear my documents" releases only the clearing session's references; a stored file and its
indexes are deleted when its last reference goes. Holders named :data:`BUILTIN` or starting with
:data:`ROOM_PREFIX` are pinned; a session's reference expires after a TTL (a browser that left
without clearing), and :func:`sweep` then deletes what nobody uses any more.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from core.errors import LabError
from core.rag.chunking import ChunkConfig, Document
from core.rag.store import BuildResult, DocRef, IndexStore, build_collection

try:
    import fcntl
except ImportError:  # Windows: one process only
    fcntl = None  # type: ignore[assignment]

BUILTIN = "builtin"  # the built-in corpus: never released by a session
ROOM_PREFIX = "room:"  # a room's shared collection: released when the room is closed
SESSION_TTL_S = 24 * 3600.0
_lock = threading.Lock()


def session_holder(session_id: str | None) -> str:
    """The holder name of a browser session (a random one when there is no session id)."""
    if not session_id:
        import uuid

        session_id = uuid.uuid4().hex
    return f"session:{session_id}"


def _pinned(holder: str) -> bool:
    return holder == BUILTIN or holder.startswith(ROOM_PREFIX)


def _refs_dir(store: IndexStore) -> Path:
    return store.root / "refs"


def _marker(store: IndexStore, sha: str, holder: str) -> Path:
    return _refs_dir(store) / sha / hashlib.sha256(holder.encode()).hexdigest()[:24]


@contextlib.contextmanager
def _locked(store: IndexStore) -> Iterator[None]:
    """Threads of this process and other processes on the same data folder, one at a time."""
    folder = _refs_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    with _lock:
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the flock


def hold(holder: str, shas: Sequence[str], store: IndexStore | None = None) -> None:
    """Record (or refresh) that ``holder`` uses the stored documents ``shas``."""
    store = store or IndexStore()
    with _locked(store):
        for sha in dict.fromkeys(shas):
            path = _marker(store, sha, holder)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(holder, encoding="utf-8")


def holders(sha: str, store: IndexStore | None = None) -> list[str]:
    """Who holds a reference to the stored document ``sha``."""
    folder = _refs_dir(store or IndexStore()) / sha
    try:
        return sorted(p.read_text(encoding="utf-8") for p in folder.iterdir() if p.is_file())
    except OSError:
        return []


def _purge_unused(store: IndexStore, refs: Sequence[DocRef]) -> int:
    """Delete the stored files (and indexes) of ``refs`` that nobody references; how many documents went."""
    gone = []
    for ref in refs:
        folder = _refs_dir(store) / ref.sha
        if holders(ref.sha, store):
            continue
        with contextlib.suppress(OSError):
            folder.rmdir()
        if (store.docs_dir / f"{ref.sha}.json").exists() or any(store.index_dir.glob(f"{ref.sha[:32]}-*")):
            gone.append(ref)
    if gone:
        store.delete(gone)
    return len(gone)


def release(holder: str, refs: Sequence[DocRef], store: IndexStore | None = None) -> tuple[int, int]:
    """Drop ``holder``'s references to ``refs``; (references released, documents deleted with their
    indexes because no session, room or the built-in corpus uses them any more)."""
    store = store or IndexStore()
    with _locked(store):
        released = 0
        for ref in refs:
            path = _marker(store, ref.sha, holder)
            if path.exists():
                path.unlink(missing_ok=True)
                released += 1
        return released, _purge_unused(store, refs)


def sweep(store: IndexStore | None = None, ttl_s: float = SESSION_TTL_S) -> int:
    """Expire session references unused for ``ttl_s`` and delete documents nobody references
    (stored files without any reference count once they are ``ttl_s`` old). Returns documents deleted."""
    store = store or IndexStore()
    now = time.time()
    if not store.docs_dir.exists():
        return 0
    with _locked(store):
        unused = []
        for path in store.docs_dir.glob("*.json"):
            sha = path.stem
            for marker in (_refs_dir(store) / sha).glob("*"):
                with contextlib.suppress(OSError):
                    if not _pinned(marker.read_text(encoding="utf-8")) and now - marker.stat().st_mtime > ttl_s:
                        marker.unlink()
            with contextlib.suppress(OSError):
                if not holders(sha, store) and now - path.stat().st_mtime > ttl_s:
                    unused.append(DocRef(sha, sha, "", 0, 0))
        return _purge_unused(store, unused)


def merge_documents(refs: Sequence[DocRef], docs: Sequence[Document],
                    store: IndexStore | None = None) -> list[Document]:
    """What a session holds (``refs``, read back from the store) followed by the new ``docs`` it does
    not hold yet (the same content uploaded again is kept once)."""
    store = store or IndexStore()
    existing = [store.load_doc(r) for r in refs]
    missing = [r.name for r, d in zip(refs, existing) if d is None]
    if missing:
        raise LabError(f"The stored text of {', '.join(missing)} is no longer on the server; upload it again.")
    known = {d.sha256 for d in existing if d is not None}
    merged = [d for d in existing if d is not None] + [d for d in docs if d.sha256 not in known]
    if not merged:
        raise LabError("No documents to index: upload files or use the built-in corpus.")
    return merged


def index_for(holder: str, refs: Sequence[DocRef], docs: Sequence[Document], config: ChunkConfig, *,
              replace: bool = False, pin: str | None = None, store: IndexStore | None = None,
              progress: Callable[[float, str], None] | None = None, model: str | None = None) -> BuildResult:
    """Index ``docs`` for ``holder`` (added to the documents of ``refs``, or instead of them with
    ``replace``): references are taken before building, so a concurrent clear elsewhere cannot
    delete a file being indexed; references the holder no longer needs are released afterwards.
    ``pin`` (e.g. :data:`BUILTIN`) also holds the new documents under that name; ``model``: the
    embedder (default the lab's; a session's trained one, :mod:`core.training.session_models`)."""
    store = store or IndexStore()
    shas = [d.sha256 for d in docs]
    hold(holder, shas, store)
    if pin:
        hold(pin, shas, store)
    merged = list(docs) if replace else merge_documents(refs, docs, store)
    if not merged:
        raise LabError("No documents to index: upload files or use the built-in corpus.")
    result = build_collection(merged, config, store=store, progress=progress, model=model)
    kept = {r.sha for r in result.refs}
    hold(holder, sorted(kept), store)  # refresh: the TTL counts from the last use
    stale = [r for r in refs if r.sha not in kept]
    if stale:
        release(holder, stale, store)
    return result
