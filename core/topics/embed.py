"""Embeddings for the topic pipeline, all through the lab's one embed-and-cache path
(:func:`core.embeddings.embed`: per-text cache in the lab memory budget, ``.npy`` reuse): the
documents, and the words and phrases representations embed (MMR / KeyBERT candidates), so a
re-cluster embeds neither again.

Texts are embedded in small chunks; between chunks the job may stop (``check_stop``) and
reports ``embedding 1,200 / 3,824 texts``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.gpu import device
from core.settings import get_settings
from core.topics.config import Progress, no_progress
from core.topics.data import Corpus

log = logging.getLogger(__name__)

EMBED_BATCH = 32
#: documents per call between stop checks: ~1–2 s on a shared CPU; bigger on a GPU (one call each)
CPU_CHUNK, GPU_CHUNK = 32, 512


def embedder(model_name: str) -> Any:
    """The sentence-transformers model (loaded once by :mod:`core.loader`)."""
    from core.loader import load

    return load(model_name)


def encode_documents(model_name: str, docs: Sequence[str], progress: Progress = no_progress,
                     disk: bool | Path = False) -> Any:
    """Embed through :func:`core.embeddings.embed` (cached per text in the lab budget) in chunks,
    checking for Stop and reporting progress between chunks. The slow step."""
    from core import embeddings

    chunk = GPU_CHUNK if device() == "cuda" else CPU_CHUNK
    return embeddings.embed(model_name, list(docs), batch_size=EMBED_BATCH, normalize=False, disk=disk,
                            progress=progress, chunk=chunk)


def window_note(model_name: str, docs: Sequence[str]) -> str | None:
    """How many documents exceed the embedding model's window (they are cut to it when embedded)."""
    st = embedder(model_name)
    limit = int(getattr(st, "max_seq_length", 0) or 0)
    tok = getattr(st, "tokenizer", None)
    if not limit or tok is None:
        return None
    # character pre-filter: a token covers at least ~1 char, so short docs cannot exceed the window
    candidates = [d for d in docs if len(d) > limit]
    if not candidates:
        return None
    lengths = [len(ids) for ids in tok(candidates, add_special_tokens=True, truncation=False)["input_ids"]]
    over = sum(1 for n in lengths if n > limit)
    if not over:
        return None
    return (f"{over:,} document(s) are longer than the embedding model's {limit}-token window; their "
            f"embeddings use the first {limit} tokens (the topic keywords still use the whole text).")


#: seconds per 1,000 characters embedded (a document counts up to WINDOW_CHARS: longer ones are cut);
#: the default is measured on 2 free CPU cores; every real embedding run updates it (this machine, now)
_RATE = {"s_per_kchar": 0.032}
WINDOW_CHARS = 2_000


def _measured(seconds: float, docs: Sequence[str]) -> None:
    kchars = sum(min(len(d), WINDOW_CHARS) for d in docs) / 1000
    if kchars >= 20:  # too small a run says little
        _RATE["s_per_kchar"] = seconds / kchars


def estimate_embed_s(n_docs: int, median_chars: int) -> float:
    """Seconds to embed ``n_docs`` documents of about ``median_chars`` characters, at the rate last
    measured in this process (the machine's real load included)."""
    return n_docs * min(max(median_chars, 1), WINDOW_CHARS) / 1000 * _RATE["s_per_kchar"]


class EmbeddingStore:
    """Document embeddings of a corpus (``.npy`` files in ``directory``); counts real embedding runs."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.computed = 0  # how many times documents were really embedded

    def _dir(self) -> Path:
        return self.directory or (get_settings().cache_dir / "topics" / "embeddings")

    def get(self, corpus: Corpus, model_name: str, progress: Progress = no_progress) -> tuple[Any, str]:
        """``(embeddings, source)`` where source is ``memory``, ``disk`` or ``computed``."""
        from core import embeddings

        before = (embeddings.stats["encoded"], embeddings.stats["disk_hits"])
        t0 = time.perf_counter()
        emb = encode_documents(model_name, corpus.docs, progress, disk=self._dir())
        if embeddings.stats["encoded"] > before[0]:
            source = "computed"
            self.computed += 1
            _measured(time.perf_counter() - t0, corpus.docs)
        else:
            source = "disk" if embeddings.stats["disk_hits"] > before[1] else "memory"
        return emb, source


_STORE: EmbeddingStore | None = None


def store() -> EmbeddingStore:
    """The process-wide document embedding store."""
    global _STORE
    if _STORE is None:
        _STORE = EmbeddingStore()
    return _STORE


def cached_backend(model_name: str) -> Any:
    """A BERTopic embedding backend whose ``embed_words``/``embed_documents`` go through
    :func:`core.embeddings.embed` (cached per text: representations embed the same candidate words
    on every re-cluster, and only new ones are encoded)."""
    from bertopic.backend import BaseEmbedder

    class CachedBackend(BaseEmbedder):
        def __init__(self) -> None:
            super().__init__(embedding_model=embedder(model_name))
            self.model_name = model_name

        def embed(self, documents: list[str], verbose: bool = False) -> Any:
            return encode_documents(self.model_name, list(documents))

    return CachedBackend()
