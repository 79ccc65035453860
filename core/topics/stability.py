"""Stability across UMAP seeds: re-cluster the same embeddings, compare with the adjusted Rand index."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.topics.cluster import make_hdbscan
from core.topics.config import Progress, check_stop, no_progress
from core.topics.reduce import reduce
from core.topics.runs import TopicRun


@dataclass(frozen=True)
class StabilityReport:
    seeds: tuple[int, ...]
    n_topics: tuple[int, ...]
    outlier_pct: tuple[float, ...]
    pairs: tuple[tuple[int, int, float], ...]  # (seed a, seed b, adjusted Rand index)

    @property
    def mean_ari(self) -> float:
        return sum(p[2] for p in self.pairs) / max(1, len(self.pairs))


def stability(run: TopicRun, seeds: Sequence[int] | None = None, progress: Progress = no_progress) -> StabilityReport:
    """Cluster the same embeddings with three UMAP seeds; compare with the adjusted Rand index."""
    from itertools import combinations

    from sklearn.metrics import adjusted_rand_score

    seeds = tuple(seeds or (run.config.seed, run.config.seed + 1, run.config.seed + 2))
    labels = []
    for i, s in enumerate(seeds):
        check_stop()
        progress(i / len(seeds), f"Clustering with seed {s}")
        reduced = reduce(run.embeddings, run.config.umap_params(seed=s))
        labels.append(make_hdbscan(run.config).fit_predict(reduced))
    n = len(run.topics)
    pairs = tuple((seeds[a], seeds[b], float(adjusted_rand_score(labels[a], labels[b])))
                  for a, b in combinations(range(len(seeds)), 2))
    return StabilityReport(seeds, tuple(int(len(set(lab)) - (1 if -1 in lab else 0)) for lab in labels),
                           tuple(100 * float((lab == -1).sum()) / n for lab in labels), pairs)
