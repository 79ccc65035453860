"""The models retrieval uses: a sentence embedder (catalogue ``embed-bge-small``: the book's
BAAI/bge-small-en-v1.5 on the Hub, all-MiniLM-L6-v2 offline) and an optional cross-encoder
reranker (Hub only: no cross-encoder ships in an offline package)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core import catalogue
from core.catalogue import ModelEntry
from core.errors import ModelUnavailable
from core.gpu import estimate_duration, gpu_task
from core.settings import Settings, get_settings

EMBEDDER = "embed-bge-small"
RERANKER = "rerank-ms-marco-minilm"
#: bge models want this instruction in front of *queries* (not passages), per the model card.
BGE_QUERY_PREFIX = "Represent this sentence for searching relevant passages: "


def _load_cross_encoder(entry: ModelEntry, settings: Settings) -> Any:
    if settings.offline:
        raise ModelUnavailable(f"The reranker {entry.label} has no offline copy.",
                               hint="Reranking needs LLM_LAB_MODE=hub (the Hugging Face Hub).")
    from sentence_transformers import CrossEncoder

    from core.gpu import device

    return CrossEncoder(entry.hub_id, revision=entry.hub_revision, device=device())


catalogue.register(
    ModelEntry(RERANKER, "reranking", "cross-encoder", "cross-encoder/ms-marco-MiniLM-L6-v2", "main", None,
               90, "Apache-2.0", 8, label="ms-marco-MiniLM-L6-v2 cross-encoder",
               notes="Hub only: no cross-encoder reranker ships in an offline package."),
)


def _register_loader() -> None:
    from core.loader import register_loader

    register_loader("cross-encoder", _load_cross_encoder)


_register_loader()


def embedder_id(model_name: str = EMBEDDER, settings: Settings | None = None) -> str:
    """What actually embeds in this mode (part of the on-disk index key)."""
    if model_name.startswith("session:"):  # a session's trained embedder (its own index keys)
        from core.embeddings import identity

        return identity(model_name)
    settings = settings or get_settings()
    entry = catalogue.get(model_name)
    return f"offline:{entry.offline_source}" if settings.offline else f"hub:{entry.hub_id}@{entry.hub_revision}"


def embedder_label(model_name: str = EMBEDDER) -> str:
    if model_name.startswith("session:"):
        from core.training.session_models import label

        return label(model_name)
    return catalogue.get(model_name).display(get_settings().mode)


def encode_passages(texts: Sequence[str], model_name: str = EMBEDDER) -> np.ndarray:
    """Normalised passage embeddings through the lab's one embed-and-cache path (:mod:`core.embeddings`;
    RAG keeps its own on-disk indexes, so nothing is written to the embeddings disk cache)."""
    from core import embeddings

    return embeddings.embed(model_name, list(texts), disk=False)


def query_prefix(model_name: str = EMBEDDER) -> str:
    """The query instruction of a bge model on the Hub (none offline: MiniLM takes none)."""
    if model_name.startswith("session:"):
        return ""  # the trained embedder is MiniLM: no query instruction
    entry = catalogue.get(model_name)
    return BGE_QUERY_PREFIX if (not get_settings().offline and "bge" in entry.hub_id.lower()) else ""


def encode_query(text: str, model_name: str = EMBEDDER) -> np.ndarray:
    from core import embeddings

    return embeddings.embed_one(model_name, text, prefix=query_prefix(model_name))


def embedding_dim(model_name: str = EMBEDDER) -> int:
    from core import embeddings

    return embeddings.embedding_dim(model_name)


def reranker_status() -> tuple[bool, str]:
    """(available, sentence for the UI)."""
    entry = catalogue.get(RERANKER)
    if entry.available_in(get_settings().mode):
        return True, f"Reranker: {entry.hub_id} (cross-encoder, scores each question–chunk pair)."
    return False, (f"Reranking is not available offline: no cross-encoder ships in an offline package. "
                   f"On the Hub the lab uses {entry.hub_id}.")


def _rerank_duration(query: str, texts: Sequence[str]) -> int:
    return estimate_duration(len(texts), per_unit_s=0.02, base_s=5)


@gpu_task(duration=_rerank_duration)
def cross_encoder_scores(query: str, texts: Sequence[str]) -> list[float]:
    """Cross-encoder relevance of each (query, text) pair (raises ModelUnavailable offline)."""
    from core.loader import load

    model = load(RERANKER)
    scores = model.predict([(query, t) for t in texts], show_progress_bar=False)
    return [float(s) for s in np.asarray(scores).reshape(-1)]
