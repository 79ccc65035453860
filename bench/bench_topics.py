"""Topic Explorer benchmark: ``python -m bench.bench_topics [--limit N]``.

On the built-in 3,824 news articles (after dropping empty/duplicate rows), in one process:

1. numba warm-up (once, so neither side pays the JIT);
2. baseline: plain ``BERTopic(embedding_model=st, umap_model=UMAP(...), hdbscan_model=HDBSCAN(...),
   vectorizer_model=CountVectorizer(...)).fit_transform(docs)`` — BERTopic embeds the documents itself;
3. the explorer end to end with a cold embedding cache (embed → BERTopic → 2-D map);
4. re-cluster with cached embeddings: other HDBSCAN + MMR (candidate words embedded once, then cached),
   the same again with other HDBSCAN settings (word cache warm), then other UMAP settings.

Prints the ratios (explorer / baseline; first run / re-cluster) and the topics found.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="use a seeded sample of N articles")
    parser.add_argument("--min-cluster-size", type=int, default=15)
    args = parser.parse_args(argv)

    import torch

    from core import embeddings
    from core.topics.config import TopicConfig
    from core.topics.data import load_builtin, prepare
    from core.topics.embed import EmbeddingStore, embedder
    from core.topics.pipeline import fit_topics
    from core.topics.warmup import warm_numba

    print(f"torch threads: {torch.get_num_threads()}, cpus: {os.cpu_count()}")
    table = load_builtin("news", limit=args.limit)
    corpus = prepare(table, table.text_column, table.time_column, table.class_column, hover_column=table.hover_column)
    docs = corpus.docs
    print(f"corpus: {corpus.rows_in:,} rows → {len(docs):,} documents ({'; '.join(corpus.notes)})")
    config = TopicConfig(min_cluster_size=args.min_cluster_size)

    t = time.perf_counter()
    st = embedder(config.embedding_model)
    print(f"embedding model loaded in {time.perf_counter() - t:.1f} s")
    print(f"numba warm-up: {warm_numba():.1f} s")

    # --- baseline: plain BERTopic, same models, same settings --------------------------------
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    t, c = time.perf_counter(), time.process_time()
    base = BERTopic(embedding_model=st,
                    umap_model=UMAP(n_neighbors=config.n_neighbors, n_components=config.n_components,
                                    min_dist=config.min_dist, metric=config.umap_metric, random_state=config.seed),
                    hdbscan_model=HDBSCAN(min_cluster_size=config.min_cluster_size, metric="euclidean",
                                          cluster_selection_method="eom", prediction_data=True),
                    vectorizer_model=CountVectorizer(stop_words="english"), min_topic_size=config.min_cluster_size)
    base_topics, _ = base.fit_transform(docs)
    t_base, c_base = time.perf_counter() - t, time.process_time() - c
    n_base = len(set(base_topics) - {-1})
    print(f"baseline BERTopic.fit_transform: {t_base:.1f} s → {n_base} topics, "
          f"{100 * list(base_topics).count(-1) / len(docs):.1f} % outliers")

    # --- the explorer, cold embedding cache -------------------------------------------------
    store = EmbeddingStore(Path(tempfile.mkdtemp(prefix="bench-topics-")))
    t, c = time.perf_counter(), time.process_time()
    run = fit_topics(corpus, config, embeddings_store=store)
    t_first, c_first = time.perf_counter() - t, time.process_time() - c
    print(f"explorer first run (embed + BERTopic + 2-D map): {t_first:.1f} s "
          f"[embed {run.timings['embed_s']:.1f}, cluster {run.timings['cluster_s']:.1f}, map {run.timings['map_s']:.1f}]"
          f" → {run.n_topics} topics, {100 * run.outlier_share:.1f} % outliers")
    print(f"RATIO explorer / plain BERTopic: {t_first / t_base:.2f}x wall, {c_first / c_base:.2f}x CPU time "
          f"({c_first:.0f} vs {c_base:.0f} CPU s) (aim ≤ 1.1x)")

    # --- re-cluster with cached embeddings ----------------------------------------------------
    n_docs_encoded = embeddings.stats["encoded"]
    encoded = embeddings.stats
    t = time.perf_counter()
    run_mmr = fit_topics(corpus, TopicConfig(min_cluster_size=args.min_cluster_size + 10, representation="mmr"),
                         embeddings_store=store)
    t_mmr_cold = time.perf_counter() - t
    embedded_cold = encoded["encoded"]
    print(f"re-cluster, new HDBSCAN + MMR, word cache cold: {t_mmr_cold:.1f} s → {run_mmr.n_topics} topics "
          f"({embedded_cold - n_docs_encoded} words/phrases embedded); SPEED-UP {t_first / t_mmr_cold:.1f}x")
    t = time.perf_counter()
    run2 = fit_topics(corpus, TopicConfig(min_cluster_size=args.min_cluster_size + 5, representation="mmr"),
                      embeddings_store=store)
    t_re = time.perf_counter() - t
    t = time.perf_counter()
    run3 = fit_topics(corpus, TopicConfig(min_cluster_size=args.min_cluster_size, n_neighbors=25, n_components=8),
                      embeddings_store=store)
    t_re_umap = time.perf_counter() - t
    assert store.computed == 1, "re-clustering must not re-embed"
    print(f"re-cluster, new HDBSCAN + MMR (cached embeddings, UMAP and words): {t_re:.1f} s → {run2.n_topics} "
          f"topics ({encoded['encoded'] - embedded_cold} new words/phrases embedded); "
          f"SPEED-UP {t_first / t_re:.1f}x (aim ≥ 20x)")
    print(f"re-cluster, new UMAP (cached embeddings): {t_re_umap:.1f} s → {run3.n_topics} topics; "
          f"SPEED-UP {t_first / t_re_umap:.1f}x")

    table = run.topic_table()
    print("\nTopics (explorer, first run):")
    for _, r in table.head(25).iterrows():
        print(f"  {r['Topic']:>3}  {r['Size']:>5}  {r['Top words'][:90]}")


if __name__ == "__main__":
    main()
