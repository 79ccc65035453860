"""Topic Explorer → a notebook that fits BERTopic on the same documents with the same embedding model,
UMAP, HDBSCAN, CountVectorizer and representation settings and seed, the way the book's chapter 5
notebook builds it step by step. The prepared documents travel as ``data/docs.json`` (an uploaded
CSV goes along too), with the lab's document vectors (``data/embeddings.npy``: UMAP is chaotic in
1e-7 float differences, so exact topics need the exact vectors; the notebook also embeds the documents
itself and prints how far its vectors are from the lab's); ``LAB_RESULT`` holds the topic count and every document's topic."""
from __future__ import annotations

import json
from typing import Any, Mapping

from core.notebooks import Notebook
from core.topics.config import TopicConfig

PACKAGES = ("bertopic", "umap-learn", "hdbscan", "scikit-learn", "sentence-transformers", "numpy", "pandas")

_DOCS = '''
import json, os
import numpy as np

if MODE == "offline":
    os.environ["HF_HUB_OFFLINE"] = "1"
docs = json.load(open({rel!r}, encoding="utf-8"))
print(len(docs), "documents; the first:", docs[0][:200])
'''.strip()

_EMBED = '''
from sentence_transformers import SentenceTransformer

# {label}; offline the packaged all-MiniLM-L6-v2 (what the lab ran in this mode)
embedding_model = (SentenceTransformer(str(offline_asset("minilm")), device="cpu") if MODE == "offline"
                   else SentenceTransformer({hub!r}, revision={rev!r}))
embeddings = embedding_model.encode(docs, batch_size=32, normalize_embeddings=False, show_progress_bar=False)
lab_embeddings = np.load({emb_rel!r})
EMBED_DIFF = float(np.abs(embeddings - lab_embeddings).max()) if embeddings.shape == lab_embeddings.shape else None
print("largest difference from the lab's vectors:", EMBED_DIFF)
# UMAP turns float differences of 1e-7 (another batch size or thread count) into another layout, so the
# lab's own vectors give its exact topics; set USE_LAB_EMBEDDINGS = False to cluster the ones just computed.
USE_LAB_EMBEDDINGS = True
if USE_LAB_EMBEDDINGS:
    embeddings = lab_embeddings
embeddings.shape
'''.strip()

_MODELS = '''
from hdbscan import HDBSCAN
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from umap import UMAP

umap_model = UMAP(n_neighbors={c.n_neighbors}, n_components={c.n_components}, min_dist={c.min_dist}, metric={c.umap_metric!r},
                  random_state={c.seed})
hdbscan_model = HDBSCAN(min_cluster_size={c.min_cluster_size}, min_samples={min_samples}, metric="euclidean",
                        cluster_selection_method={c.cluster_selection!r}, prediction_data=True)
{stop_line}
vectorizer_model = CountVectorizer(stop_words=STOP_WORDS, ngram_range=(1, {c.ngram_max}), min_df={c.min_df})
'''.strip()

_REPR = {
    "c-tf-idf": "representation_model = None  # plain c-TF-IDF keywords",
    "keybert": "from bertopic.representation import KeyBERTInspired\n\n"
               "representation_model = KeyBERTInspired(top_n_words={c.top_n_words}, random_state={c.seed})",
    "mmr": "from bertopic.representation import MaximalMarginalRelevance\n\n"
           "representation_model = MaximalMarginalRelevance(diversity={c.diversity}, top_n_words={c.top_n_words})",
}

_FIT = '''
from bertopic import BERTopic

topic_model = BERTopic(embedding_model=embedding_model, umap_model=umap_model, hdbscan_model=hdbscan_model,
                       vectorizer_model=vectorizer_model, representation_model=representation_model,
                       top_n_words={c.top_n_words}, min_topic_size={c.min_cluster_size}, calculate_probabilities=False,
                       verbose=False)
topics, _ = topic_model.fit_transform(docs, embeddings)
topic_model.get_topic_info()[["Topic", "Count", "Name"]].head(20)
'''.strip()

_RESULT = '''
n_topics = len(set(topics) - {-1})
print(n_topics, "topics;", sum(t == -1 for t in topics), "outliers")
print("LAB_RESULT " + json.dumps({"n_topics": n_topics, "topics": [int(t) for t in topics], "embed_diff": EMBED_DIFF}))
'''.strip()


def _stop_line(config: TopicConfig) -> str:
    if config.stop_words != "english":
        return "STOP_WORDS = None  # keep all words"
    from core.topics.represent import FILLER_WORDS

    return (f"FILLER_WORDS = {sorted(FILLER_WORDS)!r}  # reporting fillers the lab also drops\n"
            "STOP_WORDS = sorted(ENGLISH_STOP_WORDS | set(FILLER_WORDS))")


def notebook(state: Mapping[str, Any], corpus: Any = None, config: TopicConfig | None = None,
             embeddings: Any = None, *, app: Any) -> Notebook:
    """The notebook of a Topic Explorer state (``corpus``/``config``/``embeddings``: the current run's,
    when there is one; else the state's corpus, embedded through the lab's cache)."""
    import io

    import numpy as np
    from dataclasses import asdict

    MANIFEST = app  # the app's manifest (slug, title, chapters), given by the caller
    from core import catalogue
    from core.settings import get_settings
    from core.topics.results import config_of, corpus_of

    config = config or config_of(state)
    corpus = corpus if corpus is not None else corpus_of(state)
    nb = Notebook(MANIFEST.slug, MANIFEST.title, MANIFEST.chapters[0], parameters=asdict(config),
                  models=(config.embedding_model,))
    rel = nb.add_data("docs.json", json.dumps(list(corpus.docs), ensure_ascii=False).encode("utf-8"))
    if state.get("corpus") == "upload" and state.get("csv"):
        nb.add_data(str(state.get("csv_name") or "corpus.csv"), str(state["csv"]).encode("utf-8"))
    if embeddings is None:
        from core.topics.embed import encode_documents

        embeddings = encode_documents(config.embedding_model, corpus.docs)
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(embeddings, dtype=np.float32))
    emb_rel = nb.add_data("embeddings.npy", buffer.getvalue())
    nb.setup(PACKAGES, assets=("minilm",), mode=get_settings().mode)
    nb.section("§5.1 ArXiv's articles: the documents",
               f"The {len(corpus.docs):,} documents the lab clustered (**{corpus.name}**, cleaned and de-duplicated "
               f"as the lab prepared them), from `{rel}`.")
    nb.code(_DOCS.format(rel=rel))
    entry = catalogue.get(config.embedding_model)
    nb.section("§5.2 A common pipeline for text clustering — embedding documents",
               f"The embedding model: {entry.label} on the Hub, the packaged MiniLM offline. The lab's vectors "
               f"come along as `{emb_rel}`.")
    nb.code(_EMBED.format(label=entry.label, hub=entry.hub_id, rev=entry.hub_revision, emb_rel=emb_rel))
    nb.section("§5.2 Reducing the dimensionality (UMAP) and clustering (HDBSCAN)",
               "The same reducer, clusterer and keyword vectorizer, with the lab's settings and seed.")
    nb.code(_MODELS.format(c=config, min_samples=config.min_samples or None, stop_line=_stop_line(config)))
    nb.section("§5.3 From text clustering to topic modeling — representation",
               "How each topic is described: c-TF-IDF keywords, optionally re-ranked.")
    nb.code(_REPR[config.representation].format(c=config))
    nb.section("§5.3 BERTopic: a modular topic modeling framework", "Fit on the precomputed embeddings.")
    nb.code(_FIT.format(c=config))
    nb.code(_RESULT)
    return nb
