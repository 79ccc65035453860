"""Retrieval for RAG Chat (book ch. 8): chunking, BM25, dense + FAISS, hybrid RRF, reranking,
metrics, evaluation and the on-disk index store. Import submodules directly; nothing heavy is
imported here."""
from core.rag.chunking import Chunk, ChunkConfig, Document  # noqa: F401
from core.rag.search import RETRIEVERS, Collection, Hit, apply_threshold, rrf  # noqa: F401
