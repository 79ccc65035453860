"""Issue 16: indexing checks core.jobs.check_stop() between embedding batches and reports progress;
an answer stream stops with its job's stop event."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from core.jobs import Job, Stopped, running
from core.rag.chunking import ChunkConfig, Document
from core.rag.store import EMBED_BATCH, IndexStore, build_collection


def test_indexing_stops_between_embedding_batches(tmp_path: Path) -> None:
    job = Job(slug="rag", kind="index")
    calls: list[int] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        if len(calls) == 2:
            job.stop("stopped by you")
        return np.ones((len(texts), 4), dtype=np.float32) / 2

    text = " ".join(f"Sentence number {i}." for i in range(EMBED_BATCH * 4))
    store = IndexStore(tmp_path)
    with running(job), pytest.raises(Stopped):
        build_collection([Document("long.txt", (text,), "text")], ChunkConfig("sentence", 1, 0), store=store,
                         encode_passages=encode, encode_query=lambda q: np.ones(4, np.float32) / 2,
                         embedder="fake")
    assert calls == [EMBED_BATCH, EMBED_BATCH]  # stopped after the batch that asked, not at the end
    assert job.text.startswith("embedding long.txt:") and 0 < (job.fraction or 0) < 1
    assert list(store.index_dir.glob("[!.]*")) == []  # no half-built index was published


def test_answer_stream_passes_the_stop_event_to_the_backend() -> None:
    from core.rag.answer import answer_stream
    from core.rag.chunking import Chunk
    from core.rag.search import Collection

    class Slow:
        name = "slow"

        def stream(self, messages, params, stop: threading.Event | None = None, **_: object):
            for i in range(100):
                if stop is not None and stop.is_set():
                    return
                yield f"w{i} "
                if i == 2 and stop is not None:
                    stop.set()

    chunks = [Chunk(0, "d.txt", None, "Okapis eat leaves.", 0, 18)]
    coll = Collection(chunks, np.ones((1, 4), np.float32) / 2, "fake", lambda q: np.ones(4, np.float32) / 2)
    stop = threading.Event()
    *_, ans = answer_stream("What do okapis eat?", coll, Slow(), mode="dense", k=1, threshold=0.0, stop=stop)
    assert ans.done and ans.text == "w0 w1 w2"
