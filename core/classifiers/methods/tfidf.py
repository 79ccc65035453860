"""Baseline: TF-IDF (1-2 grams) + logistic regression, the book's suggested classic baseline."""
from __future__ import annotations

from typing import Sequence

from core.classifiers.data import LabelledData
from core.classifiers.methods.base import Method, MethodInfo, Predictions, Progress, _noop, indices


class TfidfMethod(Method):
    key = "tfidf"

    def fit(self, data: LabelledData, progress: Progress = _noop) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.model_name = "TF-IDF (1-2 grams) + LogisticRegression"
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        X = self.vectorizer.fit_transform(data.train_texts)
        self.clf = LogisticRegression(max_iter=1000, C=10.0, random_state=self.config.seed)
        self.clf.fit(X, indices(data, data.train_labels))

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        proba = self.clf.predict_proba(self.vectorizer.transform(list(texts)))
        scores = self._full_proba(proba, self.clf.classes_)
        return Predictions(self._labels(scores), scores)


INFO = MethodInfo("tfidf", "Baseline: TF-IDF + logistic regression", None,
                  "suggested by the book as a classic baseline (no figure given)", True,
                  "scikit-learn TF-IDF (1-2 grams)", "scikit-learn TF-IDF (1-2 grams)", TfidfMethod)
