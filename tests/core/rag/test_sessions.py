"""Per-session isolation: clearing releases only that session's references; a stored file and its
indexes go when no session, room or the built-in corpus uses it (or after the TTL)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from core.errors import LabError
from core.rag.chunking import ChunkConfig, Document
from core.rag.sessions import (BUILTIN, holders, index_for, merge_documents, release, session_holder, sweep)
from core.rag.store import IndexStore, session_collection

CFG = ChunkConfig("sentence", 1, 0)


def fake_encode(texts: list[str]) -> np.ndarray:
    rng = np.random.default_rng(len(texts))
    v = rng.normal(size=(len(texts), 8)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> IndexStore:
    from core.rag import models

    monkeypatch.setattr(models, "encode_passages", fake_encode)
    monkeypatch.setattr(models, "encode_query", lambda t: fake_encode([t])[0])
    monkeypatch.setattr(models, "embedder_id", lambda *a, **k: "fake")
    return IndexStore(tmp_path / "rag")


def doc(name: str, text: str) -> Document:
    return Document(name=name, pages=(text,), kind="text")


def test_two_sessions_and_the_builtin_corpus(store: IndexStore) -> None:
    shared = doc("shared.txt", "Okapis live in the Congo. They eat leaves.")
    builtin = doc("builtin.txt", "The built-in corpus. It is pinned.")
    a, b = session_holder("A"), session_holder("B")
    ra = index_for(a, [], [shared], CFG, store=store).refs
    rb = index_for(b, [], [shared], CFG, store=store).refs
    rb_builtin = index_for(b, rb, [builtin], CFG, store=store).refs  # B also holds the built-in document
    rc = index_for(session_holder("C"), [], [builtin], CFG, replace=True, pin=BUILTIN, store=store).refs
    sha = ra[0].sha
    assert sorted(holders(sha, store)) == sorted([a, b])
    assert BUILTIN in holders(rc[0].sha, store)

    released, deleted = release(a, ra, store)  # A clears: B still uses the file
    assert (released, deleted) == (1, 0)
    assert store.load_doc(ra[0]) is not None and list(store.index_dir.glob(f"{sha[:32]}-*"))
    assert len(session_collection(rb, CFG, store=store)) == 2  # B still answers from it

    released, deleted = release(b, rb_builtin, store)  # B clears: the shared file goes, the pinned one stays
    assert (released, deleted) == (2, 1)
    assert store.load_doc(ra[0]) is None and not list(store.index_dir.glob(f"{sha[:32]}-*"))
    assert store.load_doc(rc[0]) is not None
    assert len(session_collection(rc, CFG, store=store)) == 2
    with pytest.raises(LabError, match="no longer stored"):
        session_collection(ra, CFG, store=store)


def test_release_is_idempotent_and_rechunk_keeps_references(store: IndexStore) -> None:
    a = session_holder("A")
    refs = index_for(a, [], [doc("x.txt", "One. Two. Three.")], CFG, store=store).refs
    refs2 = index_for(a, refs, [], ChunkConfig("sentence", 2, 0), store=store).refs  # re-chunk
    assert refs2 == refs and holders(refs[0].sha, store) == [a]
    assert release(a, refs, store) == (1, 1)
    assert release(a, refs, store) == (0, 0)


def test_replacing_documents_releases_the_old_ones(store: IndexStore) -> None:
    a = session_holder("A")
    old = index_for(a, [], [doc("old.txt", "Old text here.")], CFG, store=store).refs
    index_for(a, old, [doc("new.txt", "New text here.")], CFG, replace=True, store=store)
    assert holders(old[0].sha, store) == [] and store.load_doc(old[0]) is None


def test_ttl_sweep_expires_sessions_not_pins(store: IndexStore) -> None:
    a = session_holder("A")
    ra = index_for(a, [], [doc("a.txt", "Session text.")], CFG, store=store).refs
    rp = index_for(a, [], [doc("p.txt", "Pinned text.")], CFG, pin=BUILTIN, store=store).refs
    assert sweep(store, ttl_s=3600) == 0
    old = time.time() - 7200
    for path in list((store.root / "refs").rglob("*")) + list(store.docs_dir.glob("*.json")):
        if path.is_file():
            os.utime(path, (old, old))
    assert sweep(store, ttl_s=3600) == 1
    assert store.load_doc(ra[0]) is None and store.load_doc(rp[0]) is not None
    assert holders(rp[0].sha, store) == [BUILTIN]


def test_merge_documents_keeps_one_copy_and_names_missing(store: IndexStore) -> None:
    d = doc("d.txt", "Some text.")
    refs = index_for(session_holder("A"), [], [d], CFG, store=store).refs
    merged = merge_documents(refs, [d, doc("e.txt", "Other.")], store)
    assert [m.name for m in merged] == ["d.txt", "e.txt"]
    store.delete(refs)
    with pytest.raises(LabError, match="no longer on the server"):
        merge_documents(refs, [], store)
    with pytest.raises(LabError, match="No documents"):
        merge_documents([], [], store)
