"""Zero-shot (book §4.4): cosine similarity of each text to editable label descriptions."""
from __future__ import annotations

from typing import Sequence

from core.classifiers import embeddings
from core.classifiers.data import LabelledData
from core.classifiers.methods.base import Method, MethodInfo, Predictions, Progress, ZooConfig, _noop, softmax

ZEROSHOT_SCALE = 20.0  # scores = softmax(cosine × 20), a temperature of 0.05


class ZeroShotMethod(Method):
    key = "zeroshot"

    def __init__(self, data: LabelledData, config: ZooConfig) -> None:
        super().__init__(data, config)
        self.descriptions = [config.descriptions.get(c) or data.descriptions.get(c) or c for c in self.classes]
        self.model_name = f"{embeddings.embedder_label()} cosine to label descriptions"

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        X = embeddings.embed(texts, progress=progress)
        D = embeddings.embed(self.descriptions)
        sims = X @ D.T
        scores = softmax(sims * ZEROSHOT_SCALE, axis=1)
        labels = [self.classes[i] for i in sims.argmax(axis=1)]
        raw = ["cosine " + ", ".join(f"{c}={s:.3f}" for c, s in zip(self.classes, row)) for row in sims]
        return Predictions(labels, scores, raw)


INFO = MethodInfo("zeroshot", "Zero-shot: similarity to label descriptions", 0.78,
                  "all-mpnet-base-v2, 'A negative/positive review'", False, "MiniLM cosine similarity",
                  "all-mpnet-base-v2 cosine similarity", ZeroShotMethod)
