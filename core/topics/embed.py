"""Embeddings for the topic pipeline: documents (once per corpus+model, memory and disk) and the
words and phrases representations embed (MMR / KeyBERT candidates, kept per model so a
re-cluster does not embed them again).

Documents are embedded in small chunks; between chunks the job may stop (``check_stop``) and
reports ``embedding 1,200 / 3,824``.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.gpu import device, estimate_duration, gpu_task
from core.settings import get_settings
from core.topics.config import Progress, check_stop, no_progress
from core.topics.data import Corpus

log = logging.getLogger(__name__)

EMBED_BATCH = 32
#: documents per call between stop checks: ~1–2 s on a shared CPU; bigger on a GPU (one call each)
CPU_CHUNK, GPU_CHUNK = 32, 512
#: most word/phrase embeddings kept per model (384 floats each: 10k ≈ 15 MB)
WORD_CACHE_ITEMS = 50_000


def embedder(model_name: str) -> Any:
    """The sentence-transformers model (loaded once by :mod:`core.loader`)."""
    from core.loader import load

    return load(model_name)


def _encode_duration(model_name: str, docs: Sequence[str]) -> int:
    return estimate_duration(len(docs), per_unit_s=0.01, base_s=5)


@gpu_task(duration=_encode_duration)
def _encode_chunk(model_name: str, docs: Sequence[str]) -> Any:
    import numpy as np

    st = embedder(model_name)
    out = st.encode(list(docs), batch_size=EMBED_BATCH, show_progress_bar=False, convert_to_numpy=True)
    return np.asarray(out, dtype=np.float32)


def encode_documents(model_name: str, docs: Sequence[str], progress: Progress = no_progress,
                     what: str = "documents") -> Any:
    """Embed in chunks, checking for Stop and reporting progress between chunks. The slow step."""
    import numpy as np

    chunk = GPU_CHUNK if device() == "cuda" else CPU_CHUNK
    parts = []
    for start in range(0, len(docs), chunk):
        check_stop()
        progress(start / max(1, len(docs)), f"Embedding {what} {start:,} / {len(docs):,}")
        parts.append(_encode_chunk(model_name, docs[start:start + chunk]))
    progress(1.0, f"Embedded {len(docs):,} {what}")
    if parts:
        return np.vstack(parts)
    dim = embedder(model_name).get_sentence_embedding_dimension() or 384
    return np.zeros((0, dim), dtype=np.float32)


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


def model_source(model_name: str) -> str:
    """What the catalogue name resolves to (a cache key part: other weights, other embeddings)."""
    from core import catalogue

    entry = catalogue.get(model_name)
    if get_settings().offline:
        return entry.offline_source or entry.name
    return f"{entry.hub_id}@{entry.hub_revision}"


class EmbeddingStore:
    """Document embeddings keyed by (corpus hash, model): memory LRU in front of ``.npy`` files."""

    def __init__(self, directory: Path | None = None, max_items: int = 4) -> None:
        self.directory = directory
        self.max_items = max_items
        self._memory: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many times documents were really embedded

    def _dir(self) -> Path:
        return self.directory or (get_settings().cache_dir / "topics" / "embeddings")

    @staticmethod
    def key(corpus_key: str, model_name: str) -> str:
        return f"{corpus_key}-{hashlib.sha256(model_source(model_name).encode()).hexdigest()[:12]}"

    def get(self, corpus: Corpus, model_name: str, progress: Progress = no_progress) -> tuple[Any, str]:
        """``(embeddings, source)`` where source is ``memory``, ``disk`` or ``computed``."""
        import numpy as np

        key = self.key(corpus.key, model_name)
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key], "memory"
        path = self._dir() / f"{key}.npy"
        source = "disk"
        emb = None
        if path.exists():
            try:
                emb = np.load(path)
                if emb.shape[0] != len(corpus):
                    emb = None
            except (OSError, ValueError):
                emb = None
        if emb is None:
            emb = encode_documents(model_name, corpus.docs, progress)
            self.computed += 1
            source = "computed"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, emb)
                tmp.replace(path)
            except OSError as exc:  # a read-only cache must not break the app
                log.warning("could not cache embeddings: %s", exc)
        with self._lock:
            self._memory[key] = emb
            while len(self._memory) > self.max_items:
                self._memory.popitem(last=False)
        return emb, source


_STORE: EmbeddingStore | None = None


def store() -> EmbeddingStore:
    """The process-wide document embedding store."""
    global _STORE
    if _STORE is None:
        _STORE = EmbeddingStore()
    return _STORE


class WordEmbeddings:
    """Embeddings of short strings (candidate words, joined keyword lists) per model, LRU-bounded.

    Only the strings not seen before are embedded, in one batched call per request.
    """

    def __init__(self, max_items: int = WORD_CACHE_ITEMS) -> None:
        self.max_items = max_items
        self._memory: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.embedded = 0  # strings really embedded (a re-cluster should add few or none)

    def get(self, model_name: str, texts: Sequence[str]) -> Any:
        """A ``(len(texts), dim)`` float32 array, embedding only the misses."""
        import numpy as np

        source = model_source(model_name)
        keys = [(source, _text_key(t)) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys((k, t) for k, t in zip(keys, texts) if k not in self._memory))
        if missing:
            new = encode_documents(model_name, [t for _, t in missing], what="words")
            with self._lock:
                self.embedded += len(missing)
                for (key, _), vec in zip(missing, new):
                    self._memory[key] = vec
        with self._lock:
            rows = []
            for key, t in zip(keys, texts):
                vec = self._memory.get(key)
                if vec is None:  # evicted between the two steps by a concurrent caller: embed alone
                    vec = encode_documents(model_name, [t], what="words")[0]
                else:
                    self._memory.move_to_end(key)
                rows.append(vec)
            while len(self._memory) > self.max_items:
                self._memory.popitem(last=False)
        if not rows:
            return np.zeros((0, embedder(model_name).get_sentence_embedding_dimension() or 384), dtype=np.float32)
        return np.vstack(rows).astype(np.float32)


def _text_key(text: str) -> str:
    """Short strings are their own key; long ones (KeyBERT's representative documents) a hash."""
    return text if len(text) <= 200 else "sha1:" + hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()


_WORDS = WordEmbeddings()


def word_cache() -> WordEmbeddings:
    """The process-wide word/phrase embedding cache."""
    return _WORDS


def cached_backend(model_name: str) -> Any:
    """A BERTopic embedding backend whose ``embed_words``/``embed_documents`` go through
    :func:`word_cache` (representations embed the same candidate words on every re-cluster)."""
    from bertopic.backend import BaseEmbedder

    class CachedBackend(BaseEmbedder):
        def __init__(self) -> None:
            super().__init__(embedding_model=embedder(model_name))
            self.model_name = model_name

        def embed(self, documents: list[str], verbose: bool = False) -> Any:
            return word_cache().get(self.model_name, list(documents))

    return CachedBackend()
