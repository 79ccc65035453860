"""A fitted topic model on a corpus (:class:`TopicRun`; the app keeps one per session)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.topics.config import TopicConfig
from core.topics.data import Corpus


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


# --------------------------------------------------------------------------------------------
# where the runs live: the lab's memory budget, not the browser sessions
# --------------------------------------------------------------------------------------------

DROPPED = ("This topic model was dropped to free memory for the room (the least recently used go first): "
           "press Find topics to fit it again (the embeddings are cached, so it is quick).")


@dataclass(frozen=True)
class RunRef:
    """What a browser session keeps of its topic run; the run itself is in the lab's memory budget,
    so forty participants' fitted models are evicted like every other cache instead of piling up."""

    id: str


def _runs() -> Any:
    from core.cache import budget_cache

    return budget_cache("topics.runs", max_items=256)


def run_size(run: TopicRun) -> int:
    """Bytes a run holds of its own: documents, vectors, UMAP/HDBSCAN state, c-TF-IDF; not the
    embedding model, which every run shares."""
    from core.cache import estimate_size

    shared = {id(getattr(run.model, "embedding_model", None))}
    return estimate_size(run, _seen=shared)


def keep(run: TopicRun) -> RunRef:
    """Put ``run`` in the budget; the returned handle is what the session's state holds."""
    import uuid

    ref = RunRef(uuid.uuid4().hex)
    _runs().put(ref.id, run, size=run_size(run))
    return ref


def resolve(ref: RunRef | TopicRun | None, missing_ok: bool = False) -> TopicRun | None:
    """The run behind a session's handle (None when there is none); a run the budget evicted raises
    :class:`~core.errors.LabError` with :data:`DROPPED`, or gives None with ``missing_ok``."""
    if ref is None or isinstance(ref, TopicRun):
        return ref
    run = _runs().get(ref.id)
    if run is None and not missing_ok:
        from core.errors import LabError

        raise LabError(DROPPED)
    return run
