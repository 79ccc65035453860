"""HDBSCAN (cluster) for the topic pipeline; the job may stop before and after it."""
from __future__ import annotations

from typing import Any

from core.topics.config import TopicConfig, check_stop


def make_hdbscan(config: TopicConfig) -> Any:
    """An ``hdbscan.HDBSCAN`` with the config's settings that honours Stop around ``fit``."""
    from hdbscan import HDBSCAN

    class StoppableHDBSCAN(HDBSCAN):
        def fit(self, X: Any, y: Any = None, **kwargs: Any) -> Any:
            check_stop()
            out = super().fit(X, y, **kwargs)
            check_stop()
            return out

    return StoppableHDBSCAN(min_cluster_size=config.min_cluster_size, min_samples=config.min_samples or None,
                            metric="euclidean", cluster_selection_method=config.cluster_selection,
                            prediction_data=True)
