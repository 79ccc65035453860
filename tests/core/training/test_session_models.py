"""A session's trained embedder as a model name (core.training.session_models): it resolves through
core.loader / core.embeddings / core.rag for its own session only, a retrained one never gets the
previous run's cached vectors, it stays out of the shared disk caches, and it counts in the budget."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core import embeddings
from core.errors import ModelUnavailable
from core.training import artifacts, session_models
from core.training.session_models import acting_as
from tests.core.training.tiny import tiny_sentence_transformer

TEXTS = ["a wonderful film", "an awful film", "the moon orbits the earth", "tea with milk"]


@pytest.fixture(scope="module")
def st_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_sentence_transformer(tmp_path_factory.mktemp("tiny-st"))


def _trained(folder: Path, session: str, seed: int = 0) -> Any:
    """Keep a (randomly perturbed) copy of the tiny embedder as ``session``'s trained embedder."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu")
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    out = artifacts.new_folder("embedder")
    return artifacts.keep(session, "embedder", out, {"seed": seed}, model=model)


def test_name_resolves_for_its_session_only(st_folder: Path) -> None:
    from core.loader import load

    assert session_models.model_name("sess-none") is None
    art = _trained(st_folder, "sess-a")
    name = session_models.model_name("sess-a")
    assert name and name.startswith("session:") and art.id in name and "sess-a" not in name
    with acting_as("sess-a"):
        assert load(name) is art.model
        assert session_models.choices("sess-a") == [(session_models.LABEL, name)]
        vecs = embeddings.embed(name, TEXTS)
    assert vecs.shape == (len(TEXTS), 32)
    for who in ("sess-b", None):  # another session (or none) is refused, even with the vectors cached
        with acting_as(who), pytest.raises(ModelUnavailable, match="another browser session"):
            embeddings.embed(name, TEXTS)
        with acting_as(who), pytest.raises(ModelUnavailable, match="another browser session"):
            load(name)
    assert session_models.choices("sess-b") == []


def test_retrained_embedder_gets_fresh_vectors(st_folder: Path) -> None:
    _trained(st_folder, "sess-r", seed=1)
    first = session_models.model_name("sess-r")
    with acting_as("sess-r"):
        old = embeddings.embed(first, TEXTS, disk=False)
    _trained(st_folder, "sess-r", seed=2)  # the same session trains again
    second = session_models.model_name("sess-r")
    assert second != first
    with acting_as("sess-r"):
        encoded = embeddings.stats["encoded"]
        new = embeddings.embed(second, TEXTS, disk=False)
        assert embeddings.stats["encoded"] == encoded + len(TEXTS)  # nothing came from the old run's cache
        assert not np.allclose(old, new)
        with pytest.raises(ModelUnavailable, match="newer"):
            embeddings.embed(first, ["something new"])


def test_kept_in_the_budget_and_never_on_shared_disk(st_folder: Path, tmp_path: Path) -> None:
    from core.cache import memory_report

    _trained(st_folder, "sess-d")
    name = session_models.model_name("sess-d")
    report = memory_report()["caches"]["training-artifacts"]
    assert report["items"] >= 1 and report["bytes"] > 100_000  # the tiny model's weights are counted
    with acting_as("sess-d"):
        embeddings.embed(name, TEXTS * 10, disk=tmp_path)  # a folder would keep any other model's vectors
    assert not list(tmp_path.glob("*.npy"))


def test_rag_collection_uses_the_trained_embedder_with_its_own_keys(st_folder: Path, tmp_path: Path) -> None:
    from core.rag.chunking import ChunkConfig, Document
    from core.rag.store import IndexStore, build_collection, session_collection

    _trained(st_folder, "sess-rag")
    name = session_models.model_name("sess-rag")
    store = IndexStore(tmp_path / "rag")
    doc = Document("moon.txt", ("The moon orbits the earth. Tea is a drink. Films can be awful.",), "text")
    cfg = ChunkConfig("sentence", 1, 0)
    with acting_as("sess-rag"):
        result = build_collection([doc], cfg, store=store, model=name)
        coll = result.collection
        assert coll.embedder == name and coll.embeddings.shape[1] == 32  # the tiny model's width, not MiniLM's
        assert session_collection(result.refs, cfg, store=store, model=name) is coll
        assert coll.search("moon", "dense", k=1)
    assert not list(store.index_dir.glob("*"))  # indexes of a session's embedder stay in memory
    with acting_as("sess-other"), pytest.raises(ModelUnavailable, match="another browser session"):
        session_collection(result.refs, cfg, store=store, model=name)
