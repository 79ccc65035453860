"""RAG on the lab's shared infrastructure: collections in the budgeted cache at their real size, and
the encode path through core.embeddings."""
from __future__ import annotations

import numpy as np

from core.rag.chunking import Chunk
from core.rag.search import Collection


def _collection(n: int = 20, dim: int = 8) -> Collection:
    chunks = [Chunk(i, "d", None, f"chunk number {i} about black holes and mirrors", 0, 10) for i in range(n)]
    emb = np.ones((n, dim), np.float32) / np.sqrt(dim)
    return Collection(chunks, emb, "fake", lambda q: np.ones(dim, np.float32) / np.sqrt(dim))


def test_collection_size_counts_embeddings_faiss_bm25_and_chunks() -> None:
    coll = _collection()
    size = coll.nbytes()
    assert size >= 2 * coll.embeddings.nbytes + sum(len(c.text) for c in coll.chunks)
    coll.search("black holes", "hybrid", k=2)  # builds BM25 and FAISS
    assert coll.nbytes() >= 2 * coll.embeddings.nbytes


def test_collections_live_in_the_budgeted_cache() -> None:
    from core.cache import budget_cache, memory_report
    from core.rag.store import _collections

    coll = _collection()
    key = (("sha-a",), "cfg", "fake")
    _collections.put(key, coll)
    assert _collections.get(key) is coll
    report = memory_report()["caches"]["rag.collections"]
    assert report["items"] >= 1 and report["bytes"] >= coll.nbytes()
    _collections.drop_docs({"sha-a"})
    assert _collections.get(key) is None
    assert key not in budget_cache("rag.collections")


def test_encode_goes_through_core_embeddings(monkeypatch) -> None:
    from core import embeddings
    from core.rag import models

    calls = []
    monkeypatch.setattr(embeddings, "embed", lambda name, texts, **kw: calls.append(("embed", name, kw)) or
                        np.zeros((len(texts), 4), np.float32))
    monkeypatch.setattr(embeddings, "embed_one", lambda name, text, **kw: calls.append(("one", name, kw)) or
                        np.zeros(4, np.float32))
    assert models.encode_passages(["a", "b"]).shape == (2, 4)
    assert models.encode_query("q").shape == (4,)
    assert calls[0] == ("embed", models.EMBEDDER, {"disk": False})
    assert calls[1][0] == "one" and "prefix" in calls[1][2]
