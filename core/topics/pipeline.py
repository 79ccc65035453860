"""The topic pipeline end to end: embed (cached) → UMAP (cached) → HDBSCAN → c-TF-IDF →
representation, then the 2-D document map. Stops between stages and embedding batches."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from core.errors import LabError
from core.topics.cluster import make_hdbscan
from core.topics.config import Progress, TopicConfig, check_stop, no_progress, report
from core.topics.data import Corpus
from core.topics.embed import (
    EmbeddingStore,
    cached_backend,
    embedder,
    store,
    window_note,
)
from core.topics.reduce import CachedUMAP, reduce
from core.topics.represent import make_representation, make_vectorizer
from core.topics.runs import TopicRun


def make_bertopic(config: TopicConfig, umap_model: Any = None) -> Any:
    """BERTopic with every part from the config; words/phrases are embedded through the word cache."""
    from bertopic import BERTopic

    return BERTopic(
        embedding_model=cached_backend(config.embedding_model),  # required offline: the default goes to the Hub
        umap_model=umap_model if umap_model is not None else CachedUMAP(**config.umap_params()),
        hdbscan_model=make_hdbscan(config),
        vectorizer_model=make_vectorizer(config),
        representation_model=make_representation(config),
        top_n_words=config.top_n_words,
        min_topic_size=config.min_cluster_size,
        calculate_probabilities=False,
        verbose=False,
    )


def fit_topics(corpus: Corpus, config: TopicConfig, *, embeddings_store: EmbeddingStore | None = None,
               progress: Progress = no_progress) -> TopicRun:
    """Embed (or reuse cached embeddings), fit BERTopic, lay out the 2-D map.

    Progress goes to ``progress`` and to the current job (``core.jobs.report``); the job may stop
    between stages and between embedding batches (``core.jobs.Stopped`` propagates)."""
    config = config.validate(len(corpus))
    caller = progress

    def progress(frac: float, desc: str) -> None:
        caller(frac, desc)
        report(frac, desc)

    st = embeddings_store or store()
    timings: dict[str, float] = {}
    notes = list(corpus.notes)
    t0 = time.perf_counter()
    progress(0.0, "Loading the embedding model")
    embedder(config.embedding_model)
    emb, source = st.get(corpus, config.embedding_model, lambda f, d: progress(0.05 + 0.75 * f, d))
    timings["embed_s"] = time.perf_counter() - t0
    if source == "computed":
        note = window_note(config.embedding_model, corpus.docs)
        if note:
            notes.append(note)
    check_stop()
    progress(0.82, "Reducing (UMAP), clustering (HDBSCAN), describing the topics (c-TF-IDF)")
    t1 = time.perf_counter()
    model = make_bertopic(config)
    try:
        model.fit_transform(corpus.docs, embeddings=emb)
    except ValueError as exc:
        msg = str(exc)
        if "no terms remain" in msg or "empty vocabulary" in msg or "min_df" in msg:
            raise LabError("No words are left to describe the topics: lower min_df or turn off stop-word "
                           "removal (the documents may be very short or not in English).") from None
        if "n_neighbors" in msg or "k must be less" in msg or "Expected n_neighbors" in msg:
            raise LabError(f"Too few documents for n_neighbors={config.n_neighbors}; lower it.") from None
        raise LabError(f"Clustering failed with these settings ({msg.splitlines()[0][:160]}). "
                       "Try a smaller min_cluster_size or other UMAP settings.") from None
    timings["cluster_s"] = time.perf_counter() - t1
    check_stop()
    progress(0.93, "Laying out the document map (2-D UMAP)")
    t2 = time.perf_counter()
    coords = reduce(emb, config.umap_params(n_components=2))
    timings["map_s"] = time.perf_counter() - t2
    timings["total_s"] = time.perf_counter() - t0
    run = TopicRun(corpus=corpus, config=config, model=model, embeddings=emb, coords=coords, timings=timings,
                   embedding_source=source, notes=notes)
    if run.n_topics == 0:
        raise LabError(f"HDBSCAN found no topics in {len(corpus):,} documents (everything is an outlier). "
                       f"Lower min_cluster_size (now {config.min_cluster_size}) or min_samples.")
    progress(1.0, "Done")
    return run


def recluster_config(run: TopicRun, **changes: Any) -> TopicConfig:
    """The run's settings with ``changes`` applied."""
    return replace(run.config, **changes)
