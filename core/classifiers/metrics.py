"""Classification metrics written out with numpy (the tests check them against scikit-learn's).

Predictions outside ``classes`` (an unparsable reply from a generative model) count as wrong: they
lower accuracy and the true class's recall, and belong to no class's precision, exactly like
``sklearn.metrics.precision_recall_fscore_support(labels=classes, zero_division=0)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class ClassReport:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Metrics:
    accuracy: float
    precision: float  # weighted by support
    recall: float
    f1: float
    macro_f1: float
    per_class: list[ClassReport]
    confusion: np.ndarray  # rows = true class, columns = predicted class (classes order)
    classes: list[str]
    n: int
    unparsed: int  # predictions outside the classes

    def as_row(self) -> dict[str, float]:
        return {"accuracy": self.accuracy, "precision": self.precision, "recall": self.recall, "f1": self.f1}


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.zeros_like(a, dtype=float)
    np.divide(a, b, out=out, where=b > 0)
    return out


def compute(y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]) -> Metrics:
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    classes = list(classes)
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    cm = np.zeros((k, k), dtype=int)
    unparsed = 0
    correct = 0
    for t, p in zip(y_true, y_pred):
        correct += int(t == p)
        if p not in index:
            unparsed += 1
        if t in index and p in index:
            cm[index[t], index[p]] += 1
    support = np.array([sum(1 for t in y_true if t == c) for c in classes], dtype=float)
    predicted = cm.sum(axis=0).astype(float)
    tp = np.diag(cm).astype(float)
    precision = _div(tp, predicted)
    recall = _div(tp, support)
    f1 = _div(2 * precision * recall, precision + recall)
    total = support.sum()
    weights = support / total if total else np.zeros(k)
    n = len(y_true)
    return Metrics(
        accuracy=correct / n if n else 0.0,
        precision=float((precision * weights).sum()),
        recall=float((recall * weights).sum()),
        f1=float((f1 * weights).sum()),
        macro_f1=float(f1.mean()) if k else 0.0,
        per_class=[ClassReport(c, float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
                   for i, c in enumerate(classes)],
        confusion=cm, classes=classes, n=n, unparsed=unparsed)
