"""The one embed-and-cache path (core/embeddings.py): content cache, disk reuse, stop and progress
between chunks, the real MiniLM, and the ONNX backend's agreement with torch."""
from __future__ import annotations

import numpy as np
import pytest

from core import embeddings, jobs
from core.settings import override_settings

MODEL = "embed-minilm"


@pytest.fixture()
def fake(monkeypatch):
    """A deterministic encoder that records what it was asked to encode (no model needed)."""
    calls: list[list[str]] = []

    def encode(model_name, texts, batch_size, normalize, engine):
        calls.append(list(texts))
        out = np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True) if normalize else out

    monkeypatch.setattr(embeddings, "_encode_chunk", encode)
    monkeypatch.setattr(embeddings, "embedding_dim", lambda name: 3)
    embeddings.clear()
    yield calls
    embeddings.clear()


def test_only_new_texts_are_encoded(fake):
    a = embeddings.embed(MODEL, ["alpha", "beta", "alpha"], disk=False)
    assert a.shape == (3, 3) and np.allclose(a[0], a[2])
    assert fake == [["alpha", "beta"]]  # duplicates encoded once
    b = embeddings.embed(MODEL, ["beta", "gamma"], disk=False)
    assert fake[-1] == ["gamma"] and np.allclose(b[0], a[1])
    hits = embeddings.stats["hits"]
    embeddings.embed(MODEL, ["gamma", "alpha"], disk=False)
    assert embeddings.stats["hits"] == hits + 1 and len(fake) == 2


def test_concurrent_identical_requests_encode_once(fake, monkeypatch):
    import threading
    import time

    slow = embeddings._encode_chunk

    def slower(*args):
        time.sleep(0.2)
        return slow(*args)

    monkeypatch.setattr(embeddings, "_encode_chunk", slower)
    out = []
    threads = [threading.Thread(target=lambda: out.append(embeddings.embed(MODEL, ["x", "y"], disk=False)))
               for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(fake) == 1 and len(out) == 4 and all(np.array_equal(o, out[0]) for o in out)


def test_prefix_and_normalisation_are_part_of_the_key(fake):
    embeddings.embed(MODEL, ["q"], disk=False)
    embeddings.embed(MODEL, ["q"], prefix="query: ", disk=False)
    embeddings.embed(MODEL, ["q"], normalize=False, disk=False)
    assert fake == [["q"], ["query: q"], ["q"]]


def test_empty_input(fake):
    assert embeddings.embed(MODEL, []).shape == (0, 3)


def test_disk_copy_is_reused_after_memory_is_cleared(fake, tmp_path):
    texts = [f"text {i}" for i in range(10)]
    first = embeddings.embed(MODEL, texts, disk=tmp_path)
    assert len(list(tmp_path.glob("*.npy"))) == 1
    embeddings.clear()
    disk_hits = embeddings.stats["disk_hits"]
    again = embeddings.embed(MODEL, texts, disk=tmp_path)
    assert embeddings.stats["disk_hits"] == disk_hits + 1 and len(fake) == 1 and np.allclose(first, again)


def test_vectors_live_in_the_lab_budget(fake):
    from core.cache import memory_report

    embeddings.embed(MODEL, ["one", "two"], disk=False)
    report = memory_report()["caches"]["embeddings"]
    assert report["items"] == 2 and report["bytes"] > 0


def test_progress_and_stop_between_chunks(fake):
    job = jobs.Job(slug="test", kind="embed")
    seen = []

    def progress(fraction, text):
        seen.append(fraction)
        if len(seen) == 2:
            job.stop("user")  # stop while the second chunk is being prepared

    with jobs.running(job), pytest.raises(jobs.Stopped):
        embeddings.embed(MODEL, [f"t{i}" for i in range(10)], chunk=4, progress=progress, disk=False)
    assert len(fake) == 2 and "embedding 4 / 10" in job.text
    # chunks done before the stop stay cached: a new run encodes only the rest
    fake.clear()
    embeddings.embed(MODEL, [f"t{i}" for i in range(10)], chunk=4, disk=False)
    assert [len(c) for c in fake] == [2]


def test_real_minilm_matches_sentence_transformers():
    from core.loader import load

    texts = ["The cat sat on the mat.", "Stocks fell sharply on Monday.", "A kitten rests on a rug."]
    embeddings.clear()
    ours = embeddings.embed(MODEL, texts, disk=False)
    ref = load(MODEL).encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == (3, 384) and np.allclose(ours, ref, atol=1e-5)
    assert ours[0] @ ours[2] > ours[0] @ ours[1]  # similar sentences are closer
    assert np.allclose(embeddings.embed_one(MODEL, texts[1]), ours[1])


def test_onnx_backend_agrees_with_torch(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from core import embeddings_onnx

    monkeypatch.setattr(embeddings_onnx, "onnx_path", lambda name: tmp_path / "model.onnx")
    texts = ["short", "A longer sentence about the weather in Lisbon today.", "tokens " * 80]
    embeddings.clear()
    torch_vecs = embeddings.embed(MODEL, texts, disk=False)
    with override_settings(embed_backend="onnx"):
        assert embeddings.backend() == "onnx"
        onnx_vecs = embeddings.embed(MODEL, texts, disk=False)
    assert (torch_vecs * onnx_vecs).sum(axis=1).min() >= 0.999
    from core.loader import cache

    cache().discard((embeddings.identity(MODEL), "onnx"))
