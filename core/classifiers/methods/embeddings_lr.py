"""Embeddings + logistic regression (book §4.4): a frozen sentence embedder, a trained linear head."""
from __future__ import annotations

from typing import Sequence

from core.classifiers import embeddings
from core.classifiers.data import LabelledData
from core.classifiers.methods.base import Method, MethodInfo, Predictions, Progress, _noop, indices


class EmbedLRMethod(Method):
    key = "embed_lr"

    def fit(self, data: LabelledData, progress: Progress = _noop) -> None:
        from sklearn.linear_model import LogisticRegression

        self.model_name = f"{embeddings.embedder_label()} + LogisticRegression"
        X = embeddings.embed(data.train_texts, progress=progress)
        self.clf = LogisticRegression(random_state=42, max_iter=1000)
        self.clf.fit(X, indices(data, data.train_labels))

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        proba = self.clf.predict_proba(embeddings.embed(texts, progress=progress))
        scores = self._full_proba(proba, self.clf.classes_)
        return Predictions(self._labels(scores), scores)


INFO = MethodInfo("embed_lr", "Embeddings + logistic regression", 0.85,
                  "all-mpnet-base-v2 → LogisticRegression, 8,530 train", True, "MiniLM + LogisticRegression",
                  "all-mpnet-base-v2 + LogisticRegression", EmbedLRMethod)
