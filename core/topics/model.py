"""BERTopic, wrapped thinly: the book's pipeline with every part a setting, plus caching.

embed (sentence-transformers, cached per corpus+model on disk and in memory) → UMAP (cached per
embeddings+settings) → HDBSCAN → CountVectorizer → c-TF-IDF → representation (c-TF-IDF,
KeyBERTInspired, MaximalMarginalRelevance, LLM labels through :mod:`core.generation`).
Re-clustering with other UMAP/HDBSCAN/representation settings never re-embeds.
Heavy libraries are imported inside functions.
"""
from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import threading
import time
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

from core.errors import LabError
from core.gpu import estimate_duration, gpu_task
from core.settings import get_settings
from core.topics.data import Corpus, min_docs_needed

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

REPRESENTATIONS = {"c-tf-idf": "c-TF-IDF (keywords)", "keybert": "KeyBERTInspired",
                   "mmr": "MaximalMarginalRelevance"}
OUTLIER_STRATEGIES = ("c-tf-idf", "embeddings", "distributions")
EMBED_BATCH = 64


def _no_progress(frac: float, desc: str) -> None:  # noqa: ARG001
    pass


@dataclass(frozen=True)
class TopicConfig:
    """Every knob of the pipeline (the book's values where it gives them)."""

    embedding_model: str = "embed-gte-small"
    n_neighbors: int = 15
    n_components: int = 5
    min_dist: float = 0.0
    umap_metric: str = "cosine"
    seed: int = 42
    min_cluster_size: int = 15
    min_samples: int = 0  # 0 = HDBSCAN's default (= min_cluster_size)
    cluster_selection: str = "eom"  # or "leaf"
    stop_words: str = "english"  # or "none"
    ngram_max: int = 1
    min_df: int = 1  # in how many topics a word must occur (BERTopic fits the vectorizer per topic)
    representation: str = "c-tf-idf"  # or "keybert", "mmr"
    diversity: float = 0.3
    top_n_words: int = 10

    def validate(self, n_docs: int | None = None) -> "TopicConfig":
        problems = []
        if not 2 <= self.n_neighbors <= 200:
            problems.append("n_neighbors must be between 2 and 200")
        if not 2 <= self.n_components <= 50:
            problems.append("n_components must be between 2 and 50")
        if not 0.0 <= self.min_dist <= 1.0:
            problems.append("min_dist must be between 0 and 1")
        if self.umap_metric not in ("cosine", "euclidean", "manhattan", "correlation"):
            problems.append("the UMAP metric must be cosine, euclidean, manhattan or correlation")
        if not 2 <= self.min_cluster_size <= 5000:
            problems.append("min_cluster_size must be between 2 and 5000")
        if not 0 <= self.min_samples <= 5000:
            problems.append("min_samples must be 0 (default) or positive")
        if self.cluster_selection not in ("eom", "leaf"):
            problems.append("cluster selection must be eom or leaf")
        if self.stop_words not in ("english", "none"):
            problems.append("stop words must be 'english' or 'none'")
        if not 1 <= self.ngram_max <= 3:
            problems.append("the n-gram range must end at 1, 2 or 3")
        if not 1 <= self.min_df <= 100:
            problems.append("min_df must be between 1 and 100")
        if self.representation not in REPRESENTATIONS:
            problems.append(f"representation must be one of {', '.join(REPRESENTATIONS)}")
        if not 0.0 <= self.diversity <= 1.0:
            problems.append("MMR diversity must be between 0 and 1")
        if problems:
            raise LabError("Invalid settings: " + "; ".join(problems) + ".")
        if n_docs is not None:
            needed = min_docs_needed(self.min_cluster_size, self.n_neighbors)
            if n_docs < needed:
                raise LabError(f"Topic modelling needs at least {needed} documents with these settings "
                               f"(min_cluster_size={self.min_cluster_size}, n_neighbors={self.n_neighbors}); "
                               f"there are {n_docs}. Add documents or lower those two settings.")
        return self

    def umap_params(self, n_components: int | None = None, seed: int | None = None) -> dict[str, Any]:
        return dict(n_neighbors=self.n_neighbors, n_components=n_components or self.n_components,
                    min_dist=self.min_dist, metric=self.umap_metric,
                    random_state=self.seed if seed is None else seed)


# --------------------------------------------------------------------------------------------
# embeddings: computed once per (corpus, model), kept on disk and in memory
# --------------------------------------------------------------------------------------------

def embedder(model_name: str) -> Any:
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


def encode_documents(model_name: str, docs: Sequence[str], progress: Progress = _no_progress) -> Any:
    """Embed documents in chunks (so the UI can show progress). The slow step."""
    import numpy as np

    chunk = 256
    parts = []
    for start in range(0, len(docs), chunk):
        progress(start / max(1, len(docs)), f"Embedding documents {start:,}/{len(docs):,}")
        parts.append(_encode_chunk(model_name, docs[start:start + chunk]))
    progress(1.0, f"Embedded {len(docs):,} documents")
    return np.vstack(parts) if parts else np.zeros((0, 384), dtype=np.float32)


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


class EmbeddingStore:
    """Embeddings keyed by (corpus hash, model, mode): memory LRU in front of ``.npy`` files."""

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
        from core import catalogue

        settings = get_settings()
        entry = catalogue.get(model_name)
        source = (entry.offline_source or entry.name) if settings.offline else f"{entry.hub_id}@{entry.hub_revision}"
        return f"{corpus_key}-{hashlib.sha256(source.encode()).hexdigest()[:12]}"

    def get(self, corpus: Corpus, model_name: str, progress: Progress = _no_progress) -> tuple[Any, str]:
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
    global _STORE
    if _STORE is None:
        _STORE = EmbeddingStore()
    return _STORE


# --------------------------------------------------------------------------------------------
# UMAP, cached per (embeddings, settings): re-clustering with new HDBSCAN settings skips it
# --------------------------------------------------------------------------------------------

_UMAP_CACHE: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
_UMAP_LOCK = threading.Lock()
UMAP_CACHE_ITEMS = 12


def _array_hash(x: Any) -> str:
    import numpy as np

    a = np.ascontiguousarray(x)
    return hashlib.sha1(a.view(np.uint8).data).hexdigest() + str(a.shape)


class CachedUMAP:
    """A UMAP that remembers its results; BERTopic only calls ``fit_transform``/``transform``."""

    def __init__(self, **params: Any) -> None:
        self.params = params
        self.umap_: Any = None
        self.embedding_: Any = None
        self._fit_hash = ""
        self.from_cache = False

    def fit_transform(self, X: Any, y: Any = None) -> Any:  # noqa: N803
        key = (_array_hash(X), tuple(sorted(self.params.items())))
        with _UMAP_LOCK:
            hit = _UMAP_CACHE.get(key)
            if hit is not None:
                _UMAP_CACHE.move_to_end(key)
        if hit is None:
            from umap import UMAP

            model = UMAP(**self.params)
            emb = model.fit_transform(X)
            with _UMAP_LOCK:
                _UMAP_CACHE[key] = (model, emb)
                while len(_UMAP_CACHE) > UMAP_CACHE_ITEMS:
                    _UMAP_CACHE.popitem(last=False)
            self.from_cache = False
        else:
            model, emb = hit
            self.from_cache = True
        self.umap_, self.embedding_, self._fit_hash = model, emb, key[0]
        return emb.copy()

    def fit(self, X: Any, y: Any = None) -> "CachedUMAP":  # noqa: N803
        self.fit_transform(X, y)
        return self

    def transform(self, X: Any) -> Any:  # noqa: N803
        if self.umap_ is None:
            raise LabError("The dimensionality reduction has not been fitted yet.")
        if _array_hash(X) == self._fit_hash:
            return self.embedding_.copy()
        return self.umap_.transform(X)


def reduce(embeddings: Any, params: dict[str, Any]) -> Any:
    return CachedUMAP(**params).fit_transform(embeddings)


def clear_caches() -> None:
    with _UMAP_LOCK:
        _UMAP_CACHE.clear()


# --------------------------------------------------------------------------------------------
# building BERTopic
# --------------------------------------------------------------------------------------------

def make_hdbscan(config: TopicConfig) -> Any:
    from hdbscan import HDBSCAN

    return HDBSCAN(min_cluster_size=config.min_cluster_size, min_samples=config.min_samples or None,
                   metric="euclidean", cluster_selection_method=config.cluster_selection, prediction_data=True)


def make_vectorizer(config: TopicConfig) -> Any:
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(stop_words="english" if config.stop_words == "english" else None,
                           ngram_range=(1, config.ngram_max), min_df=config.min_df)


def make_representation(config: TopicConfig) -> Any:
    if config.representation == "keybert":
        from bertopic.representation import KeyBERTInspired

        return KeyBERTInspired(top_n_words=config.top_n_words, random_state=config.seed)
    if config.representation == "mmr":
        from bertopic.representation import MaximalMarginalRelevance

        return MaximalMarginalRelevance(diversity=config.diversity, top_n_words=config.top_n_words)
    return None


def make_bertopic(config: TopicConfig, umap_model: Any = None) -> Any:
    from bertopic import BERTopic

    return BERTopic(
        embedding_model=embedder(config.embedding_model),  # required offline: the default goes to the Hub
        umap_model=umap_model if umap_model is not None else CachedUMAP(**config.umap_params()),
        hdbscan_model=make_hdbscan(config),
        vectorizer_model=make_vectorizer(config),
        representation_model=make_representation(config),
        top_n_words=config.top_n_words,
        min_topic_size=config.min_cluster_size,
        calculate_probabilities=False,
        verbose=False,
    )


# --------------------------------------------------------------------------------------------
# a fitted run and what users do with it
# --------------------------------------------------------------------------------------------

@dataclass
class TopicRun:
    """A fitted topic model on a corpus (the app keeps one per session)."""

    corpus: Corpus
    config: TopicConfig
    model: Any  # bertopic.BERTopic
    embeddings: Any  # (n_docs, dim) float32
    coords: Any  # (n_docs, 2) for the document map
    timings: dict[str, float] = field(default_factory=dict)
    embedding_source: str = "computed"
    notes: list[str] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)  # user/LLM labels
    outlier_history: list[str] = field(default_factory=list)

    @property
    def topics(self) -> list[int]:
        return [int(t) for t in self.model.topics_]

    @property
    def n_topics(self) -> int:
        return len({t for t in self.topics if t != -1})

    @property
    def outliers(self) -> int:
        return sum(1 for t in self.topics if t == -1)

    @property
    def outlier_share(self) -> float:
        return self.outliers / max(1, len(self.topics))

    def words(self, topic: int, n: int = 10) -> list[str]:
        rep = self.model.get_topic(topic) or []
        return [w for w, _ in rep[:n] if w]

    def label(self, topic: int) -> str:
        if topic in self.labels:
            return self.labels[topic]
        if topic == -1:
            return "Outliers"
        return " · ".join(self.words(topic, 4)) or f"Topic {topic}"

    def topic_table(self) -> Any:
        """id, size, share, label, top words, a representative document."""
        import pandas as pd

        info = self.model.get_topic_info()
        rows = []
        n = max(1, len(self.topics))
        for _, r in info.iterrows():
            t = int(r["Topic"])
            reps = r.get("Representative_Docs") if "Representative_Docs" in info.columns else None
            rep = (reps[0] if isinstance(reps, (list, tuple)) and reps else "") or ""
            rows.append({"Topic": t, "Size": int(r["Count"]), "Share %": round(100 * int(r["Count"]) / n, 1),
                         "Label": self.label(t), "Top words": ", ".join(self.words(t, 10)),
                         "Representative document": rep[:300]})
        return pd.DataFrame(rows)

    def document_table(self) -> Any:
        import pandas as pd

        frame = pd.DataFrame({"document": self.corpus.docs, "topic": self.topics,
                              "label": [self.label(t) for t in self.topics]})
        if self.corpus.timestamps is not None:
            frame["timestamp"] = self.corpus.timestamps
        if self.corpus.classes is not None:
            frame["class"] = self.corpus.classes
        return frame

    def apply_labels(self) -> None:
        """Push user/LLM labels into BERTopic's ``custom_labels_`` (used by its plots)."""
        info = self.model.get_topic_info()
        self.model.set_topic_labels({int(t): self.label(int(t)) for t in info["Topic"]})


def fit_topics(corpus: Corpus, config: TopicConfig, *, embeddings_store: EmbeddingStore | None = None,
               progress: Progress = _no_progress) -> TopicRun:
    """Embed (or reuse cached embeddings), fit BERTopic, lay out the 2-D map."""
    config = config.validate(len(corpus))
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
    progress(0.82, "Reducing (UMAP) and clustering (HDBSCAN)")
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
    progress(0.93, "Laying out the document map")
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
    return replace(run.config, **changes)


# --------------------------------------------------------------------------------------------
# outliers
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutlierReport:
    strategy: str
    threshold: float
    before: int
    after: int
    n_docs: int
    target_pct: float | None = None

    @property
    def before_pct(self) -> float:
        return 100 * self.before / max(1, self.n_docs)

    @property
    def after_pct(self) -> float:
        return 100 * self.after / max(1, self.n_docs)


def _reassign(run: TopicRun, topics: list[int], strategy: str, threshold: float) -> list[int]:
    kwargs: dict[str, Any] = {"strategy": strategy, "threshold": threshold}
    if strategy == "embeddings":
        kwargs["embeddings"] = run.embeddings
    return [int(t) for t in run.model.reduce_outliers(run.corpus.docs, topics, **kwargs)]


def reduce_outliers(run: TopicRun, strategy: str = "c-tf-idf", *, threshold: float = 0.0,
                    target_pct: float | None = None, progress: Progress = _no_progress) -> OutlierReport:
    """Reassign outliers with BERTopic's ``reduce_outliers``; with ``target_pct`` search the
    threshold (bisection) that leaves about that share of outliers. Updates the topic words."""
    if strategy not in OUTLIER_STRATEGIES:
        raise LabError(f"Unknown outlier strategy {strategy!r}; choose {', '.join(OUTLIER_STRATEGIES)}.")
    topics = run.topics
    n = len(topics)
    before = topics.count(-1)
    if before == 0:
        raise LabError("There are no outliers left to reassign.")
    if target_pct is not None:
        if not 0 <= target_pct <= 100:
            raise LabError("The target outlier share must be between 0 and 100 %.")
        target = int(round(target_pct / 100 * n))
        if target >= before:
            raise LabError(f"The outlier share is already {100 * before / n:.1f} %, at or below the target "
                           f"{target_pct:g} %.")
        lo, hi = 0.0, 1.0  # threshold 0 reassigns every outlier; higher keeps more
        best = (0.0, _reassign(run, topics, strategy, 0.0))
        steps = 6 if strategy == "distributions" else 12
        for i in range(steps):
            progress(i / steps, f"Searching the threshold for {target_pct:g} % outliers")
            mid = (lo + hi) / 2
            new = _reassign(run, topics, strategy, mid)
            left = new.count(-1)
            if left <= target:
                best = (mid, new)  # meets the target: try keeping more outliers
                lo = mid
            else:
                hi = mid
        threshold, new_topics = best
    else:
        new_topics = _reassign(run, topics, strategy, threshold)
    progress(0.95, "Updating topic words")
    run.model.update_topics(run.corpus.docs, topics=new_topics, top_n_words=run.config.top_n_words,
                            vectorizer_model=make_vectorizer(run.config),
                            representation_model=make_representation(run.config))
    report = OutlierReport(strategy, threshold, before, run.topics.count(-1), n, target_pct)
    run.outlier_history.append(f"{strategy} (threshold {threshold:.3f}): {report.before_pct:.1f} % → "
                               f"{report.after_pct:.1f} %")
    return report


# --------------------------------------------------------------------------------------------
# stability across seeds
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StabilityReport:
    seeds: tuple[int, ...]
    n_topics: tuple[int, ...]
    outlier_pct: tuple[float, ...]
    pairs: tuple[tuple[int, int, float], ...]  # (seed a, seed b, adjusted Rand index)

    @property
    def mean_ari(self) -> float:
        return sum(p[2] for p in self.pairs) / max(1, len(self.pairs))


def stability(run: TopicRun, seeds: Sequence[int] | None = None, progress: Progress = _no_progress) -> StabilityReport:
    """Cluster the same embeddings with three UMAP seeds; compare with the adjusted Rand index."""
    from itertools import combinations

    from sklearn.metrics import adjusted_rand_score

    seeds = tuple(seeds or (run.config.seed, run.config.seed + 1, run.config.seed + 2))
    labels = []
    for i, s in enumerate(seeds):
        progress(i / len(seeds), f"Clustering with seed {s}")
        reduced = reduce(run.embeddings, run.config.umap_params(seed=s))
        labels.append(make_hdbscan(run.config).fit_predict(reduced))
    n = len(run.topics)
    pairs = tuple((seeds[a], seeds[b], float(adjusted_rand_score(labels[a], labels[b])))
                  for a, b in combinations(range(len(seeds)), 2))
    return StabilityReport(seeds, tuple(int(len(set(lab)) - (1 if -1 in lab else 0)) for lab in labels),
                           tuple(100 * float((lab == -1).sum()) / n for lab in labels), pairs)


# --------------------------------------------------------------------------------------------
# editing, search, LLM labels
# --------------------------------------------------------------------------------------------

def _check_topic(run: TopicRun, topic: int) -> int:
    valid = set(run.topics)
    if int(topic) not in valid:
        raise LabError(f"There is no topic {topic}; topics go from {min(valid)} to {max(valid)}.")
    return int(topic)


def merge(run: TopicRun, topics: Sequence[int]) -> None:
    ids = sorted({_check_topic(run, t) for t in topics})
    if -1 in ids:
        raise LabError("Outliers (-1) cannot be merged; use outlier reduction instead.")
    if len(ids) < 2:
        raise LabError("Give at least two topic ids to merge, e.g. 3, 7.")
    run.model.merge_topics(run.corpus.docs, ids)
    run.labels.clear()  # topic ids are renumbered by the merge
    run.model.custom_labels_ = None


def rename(run: TopicRun, topic: int, label: str) -> None:
    topic = _check_topic(run, topic)
    label = re.sub(r"\s+", " ", label or "").strip()[:80]
    if not label:
        run.labels.pop(topic, None)
    else:
        run.labels[topic] = label
    run.apply_labels()


def parse_ids(text: str) -> list[int]:
    try:
        return [int(x) for x in re.split(r"[,\s;]+", (text or "").strip()) if x]
    except ValueError:
        raise LabError(f"Could not read topic ids from {text!r}; write numbers separated by commas.") from None


def find(run: TopicRun, query: str, top_n: int = 5) -> Any:
    import pandas as pd

    query = (query or "").strip()
    if not query:
        raise LabError("Type a few words to search for, e.g. 'election campaign'.")
    topics, sims = run.model.find_topics(query[:500], top_n=top_n)
    sizes = run.model.get_topic_freq().set_index("Topic")["Count"].to_dict()
    return pd.DataFrame([{"Topic": int(t), "Similarity": round(float(s), 3), "Size": int(sizes.get(t, 0)),
                          "Label": run.label(int(t)), "Top words": ", ".join(run.words(int(t), 8))}
                         for t, s in zip(topics, sims)])


LABEL_PROMPT = """I have a topic that contains the following documents:
[DOCUMENTS]

The topic is described by the following keywords: '[KEYWORDS]'.

Based on the documents and keywords, what is this topic about? Answer with a short topic label of at most six words, nothing else."""


def clean_label(text: str) -> str:
    text = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    text = re.sub(r"^(topic( label)?|label)\s*[:\-]\s*", "", text, flags=re.I)
    text = text.strip(" \"'`*.#:")
    return text[:60]


def llm_labels(run: TopicRun, backend: Any, *, max_topics: int = 20, doc_chars: int = 200,
               progress: Progress = _no_progress) -> dict[int, str]:
    """Ask a generation backend (local SmolLM2 or any OpenAI-compatible model) to name each topic."""
    from core.generation import SamplingParams

    reps = run.model.get_representative_docs() or {}
    ids = [t for t in sorted(set(run.topics)) if t != -1][:max_topics]
    params = SamplingParams(max_new_tokens=16, greedy=True)
    out: dict[int, str] = {}
    for i, t in enumerate(ids):
        progress(i / max(1, len(ids)), f"Labelling topic {t} ({i + 1}/{len(ids)})")
        docs = "\n".join(f"- {d[:doc_chars]}" for d in (reps.get(t) or [])[:4])
        prompt = LABEL_PROMPT.replace("[DOCUMENTS]", docs).replace("[KEYWORDS]", ", ".join(run.words(t, 10)))
        label = clean_label(backend.generate([{"role": "user", "content": prompt}], params))
        if label:
            out[t] = label
    run.labels.update(out)
    run.apply_labels()
    return out


# --------------------------------------------------------------------------------------------
# exports
# --------------------------------------------------------------------------------------------

def _export_dir() -> Path:
    d = Path(tempfile.mkdtemp(prefix="topics-export-"))
    return d


def export_topic_table(run: TopicRun, directory: Path | None = None) -> Path:
    path = (directory or _export_dir()) / "topics.csv"
    run.topic_table().to_csv(path, index=False)
    return path


def export_documents(run: TopicRun, directory: Path | None = None) -> Path:
    path = (directory or _export_dir()) / "documents_topics.csv"
    run.document_table().to_csv(path, index=False)
    return path


def export_model(run: TopicRun, directory: Path | None = None) -> Path:
    """The fitted model as a zip of BERTopic's safetensors folder (no pickle: safe to load)."""
    from core import catalogue

    base = directory or _export_dir()
    folder = base / "bertopic_model"
    entry = catalogue.get(run.config.embedding_model)
    run.model.save(str(folder), serialization="safetensors", save_ctfidf=True,
                   save_embedding_model=entry.hub_id or True)
    path = base / "bertopic_model.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(folder).as_posix())
    return path


def load_model(zip_path: Path, embedding_model: str = "embed-gte-small") -> Any:
    """Load an exported model (tests; also how users reload it, with their own embedder)."""
    from bertopic import BERTopic

    target = Path(tempfile.mkdtemp(prefix="topics-import-"))
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(target)
    return BERTopic.load(str(target), embedding_model=embedder(embedding_model))


# --------------------------------------------------------------------------------------------
# numba warm-up (the first UMAP/HDBSCAN call in a process compiles for ~8 s)
# --------------------------------------------------------------------------------------------

_WARM_LOCK = threading.Lock()
_WARMED = False


def warm_numba() -> float:
    """Compile UMAP/HDBSCAN's numba code on tiny random data; returns seconds spent (0 if done)."""
    global _WARMED
    with _WARM_LOCK:
        if _WARMED:
            return 0.0
        t = time.perf_counter()
        import numpy as np
        from hdbscan import HDBSCAN
        from umap import UMAP

        x = np.random.default_rng(0).normal(size=(80, 16)).astype(np.float32)
        for metric in ("cosine", "euclidean"):
            red = UMAP(n_neighbors=10, n_components=5, min_dist=0.0, metric=metric, random_state=0).fit_transform(x)
        HDBSCAN(min_cluster_size=5, prediction_data=True).fit(red)
        _WARMED = True
        return time.perf_counter() - t


def warm_in_background() -> None:
    """Start :func:`warm_numba` in a daemon thread (once per process)."""
    if _WARMED:
        return
    threading.Thread(target=lambda: _safe_warm(), name="topics-numba-warmup", daemon=True).start()


def _safe_warm() -> None:
    try:
        log.info("topics: numba warm-up took %.1f s", warm_numba())
    except Exception:  # noqa: BLE001 - warm-up is an optimisation only
        log.exception("numba warm-up failed")
