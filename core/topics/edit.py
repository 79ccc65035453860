"""Steering a fitted run: search topics, merge, rename."""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from core.errors import LabError
from core.topics.runs import TopicRun


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
