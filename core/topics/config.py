"""The topic pipeline's settings (:class:`TopicConfig`) and its progress/stop hooks
(``check_stop``/``report`` from :mod:`core.jobs`: no-ops outside a job)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core import catalogue
from core.errors import LabError
from core.jobs import check_stop, report  # re-exported: the pipeline's stop/progress hooks
from core.topics.data import min_docs_needed

Progress = Callable[[float, str], None]

REPRESENTATIONS = {"c-tf-idf": "c-TF-IDF (keywords)", "keybert": "KeyBERTInspired",
                   "mmr": "MaximalMarginalRelevance"}
OUTLIER_STRATEGIES = ("c-tf-idf", "embeddings", "distributions")
__all__ = ["OUTLIER_STRATEGIES", "REPRESENTATIONS", "Progress", "TopicConfig", "check_stop", "no_progress", "report"]


def no_progress(frac: float, desc: str) -> None:
    """A progress callback that ignores everything."""


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

    def validate(self, n_docs: int | None = None) -> TopicConfig:
        """Return self, or raise :class:`LabError` naming every setting out of range."""
        problems = []
        embedders = catalogue.offer("sentence-embedding").names
        if not self.embedding_model.startswith("session:") and self.embedding_model not in embedders:
            problems.append(f"the embedding model must be one of {', '.join(embedders)} "
                            f"(or this session's trained embedder), not {self.embedding_model!r}")
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
        """Keyword arguments for ``umap.UMAP``."""
        return dict(n_neighbors=self.n_neighbors, n_components=n_components or self.n_components,
                    min_dist=self.min_dist, metric=self.umap_metric,
                    random_state=self.seed if seed is None else seed)
