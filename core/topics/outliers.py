"""Outlier reduction: reassign topic −1 with BERTopic's ``reduce_outliers`` (threshold or target share)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import LabError
from core.topics.config import OUTLIER_STRATEGIES, Progress, check_stop, no_progress
from core.topics.represent import make_representation, make_vectorizer
from core.topics.runs import TopicRun


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
                    target_pct: float | None = None, progress: Progress = no_progress) -> OutlierReport:
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
            check_stop()
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
