"""Run the zoo: every chosen method on one text, or on a test split with metrics and comparisons.

A method that fails (an unreachable API, a bad prompt) gets its error in its :class:`MethodResult`;
the other methods still run.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from core.classifiers import metrics as metrics_mod
from core.classifiers.data import LabelledData
from core.classifiers.methods.base import check_stop, is_stop
from core.classifiers.methods import (METHOD_INFO, UNPARSED, Progress, ZooConfig, _noop, get_method,
                                      needs_first_training)
from core.errors import LabError
from core.exports import write_csv
from core.tempfiles import download_dir

log = logging.getLogger(__name__)


@dataclass
class MethodResult:
    key: str
    title: str
    model: str = ""
    labels: list[str] = field(default_factory=list)
    scores: np.ndarray | None = None
    raw: list[str] | None = None
    said: list[str] | None = None  # generative: the class the reply named, before calibration
    fit_s: float = 0.0
    predict_s: float = 0.0
    error: str = ""
    metrics: metrics_mod.Metrics | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def docs_per_s(self) -> float:
        return len(self.labels) / self.predict_s if self.predict_s > 0 else float("inf")

    @property
    def book_f1(self) -> float | None:
        return METHOD_INFO[self.key].book_f1


def _message(exc: BaseException) -> str:
    if isinstance(exc, LabError):
        return str(exc)
    log.exception("classifier method failed")
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else 'failed'}"


def run_methods(keys: Sequence[str], data: LabelledData, texts: Sequence[str], config: ZooConfig,
                progress: Progress = _noop) -> list[MethodResult]:
    """Fit (or reuse) each method and predict ``texts``; errors stay inside their method's result."""
    results = []
    n = max(1, len(keys))
    for i, key in enumerate(keys):
        info = METHOD_INFO.get(key)
        if info is None:
            raise LabError(f"Unknown method {key!r}.")
        res = MethodResult(key, info.title)

        def sub(frac: float, desc: str, i: int = i, title: str = info.title) -> None:
            progress((i + max(0.0, min(1.0, frac))) / n, f"{title}: {desc}")

        wait = needs_first_training(key, data, config)
        check_stop()
        sub(0.0, f"first use: trains a model, about {wait} s" if wait else "starting")
        try:
            method, res.fit_s = get_method(key, data, config, sub)
            res.model = method.model_name
            started = time.perf_counter()
            pred = method.predict(texts, sub)
            res.predict_s = time.perf_counter() - started
            res.labels, res.scores, res.raw, res.said = pred.labels, pred.scores, pred.raw, pred.said
            if getattr(method, "rows", None) is not None:
                res.notes.append(f"trained on {len(method.rows)} examples (training rows {method.rows[:12]}…)")
            if getattr(method, "cached", False):
                res.notes.append("loaded from the on-disk cache")
        except Exception as exc:  # noqa: BLE001 - one method's failure must not stop the others
            if is_stop(exc):
                raise
            res.error = _message(exc)
        results.append(res)
    progress(1.0, "done")
    return results


def classify_text(text: str, keys: Sequence[str], data: LabelledData, config: ZooConfig,
                  progress: Progress = _noop) -> list[MethodResult]:
    """Every chosen method on one text (training methods use ``data``'s training split)."""
    text = " ".join((text or "").split())
    if not text:
        raise LabError("Type or paste a text to classify.")
    if not keys:
        raise LabError("Choose at least one method.")
    return run_methods(keys, data, [text], config, progress)


@dataclass
class Evaluation:
    data: LabelledData
    results: list[MethodResult]
    seconds: float

    def ok(self) -> list[MethodResult]:
        return [r for r in self.results if r.ok]

    def comparison(self) -> list[dict[str, Any]]:
        """One row per method: our scores beside the book's weighted F1."""
        rows = []
        for r in self.results:
            m = r.metrics
            rows.append({
                "method": r.title,
                "model": r.model if r.ok else "—",
                "accuracy": round(m.accuracy, 3) if m else None,
                "precision (w)": round(m.precision, 3) if m else None,
                "recall (w)": round(m.recall, 3) if m else None,
                "F1 (w)": round(m.f1, 3) if m else None,
                "book F1": r.book_f1,
                "docs/s": round(r.docs_per_s, 1) if r.ok and np.isfinite(r.docs_per_s) else None,
                "train s": round(r.fit_s, 1) if r.ok else None,
                "status": "ok" if r.ok else f"error: {r.error}",
            })
        return rows

    def disagreements(self, only: str = "disagree", limit: int = 200) -> list[dict[str, Any]]:
        """Test examples where methods disagree (or: any method wrong / all wrong / everything)."""
        good = self.ok()
        out = []
        for i, (text, gold) in enumerate(zip(self.data.test_texts, self.data.test_labels)):
            preds = [r.labels[i] for r in good]
            if only == "disagree" and len(set(preds)) < 2:
                continue
            if only == "any wrong" and all(p == gold for p in preds):
                continue
            if only == "all wrong" and any(p == gold for p in preds):
                continue
            row: dict[str, Any] = {"#": i, "text": text, "gold": gold}
            for r in good:
                score = float(r.scores[i].max()) if r.scores is not None and r.scores.shape[1] else 0.0
                mark = "✓" if r.labels[i] == gold else "✗"
                row[r.title] = f"{mark} {r.labels[i]} ({score:.2f})"
            out.append(row)
            if len(out) >= limit:
                break
        return out

    def write_predictions(self, folder: Path | None = None) -> Path:
        """Per-example predictions (label and every class score per method) as CSV (formula-safe cells)."""
        folder = Path(folder or download_dir("classifiers-predictions-"))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "classifier_zoo_predictions.csv"
        good = self.ok()
        classes = self.data.classes
        header = ["index", "text", "gold"]
        for r in good:
            header.append(f"{r.key}_label")
            header.extend(f"{r.key}_score_{c}" for c in classes)
            if r.raw is not None:
                header.append(f"{r.key}_reply")
        rows = []
        for i, (text, gold) in enumerate(zip(self.data.test_texts, self.data.test_labels)):
            row: list[Any] = [i, text, gold]
            for r in good:
                row.append(r.labels[i])
                row.extend(round(float(s), 4) for s in r.scores[i])
                if r.raw is not None:
                    row.append(r.raw[i])
            rows.append(row)
        write_csv(path, rows, header=header)  # the one safe writer: =, +, -, @, tab, CR cells neutralised
        return path


def evaluate(data: LabelledData, keys: Sequence[str], config: ZooConfig,
             progress: Progress = _noop) -> Evaluation:
    if not keys:
        raise LabError("Choose at least one method to evaluate.")
    started = time.perf_counter()
    results = run_methods(keys, data, data.test_texts, config, progress)
    for r in results:
        if r.ok:
            r.metrics = metrics_mod.compute(data.test_labels, r.labels, data.classes)
            if r.metrics.unparsed:
                r.notes.append(f"{r.metrics.unparsed} repl(ies) named no class ({UNPARSED}) and count as wrong")
    return Evaluation(data, results, time.perf_counter() - started)


def confusion_figure(result: MethodResult) -> Any:
    """A plotly heat map of the confusion matrix (rows = true, columns = predicted)."""
    import plotly.graph_objects as go

    m = result.metrics
    if m is None:
        return go.Figure()
    cm = m.confusion
    totals = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, totals, out=np.zeros_like(cm, dtype=float), where=totals > 0)
    text = [[f"{cm[i, j]}<br>{share[i, j]:.0%}" for j in range(cm.shape[1])] for i in range(cm.shape[0])]
    from core.escape import plot_labels, plot_text

    names = plot_labels(m.classes, 32)
    fig = go.Figure(go.Heatmap(z=share, x=[f"pred {c}" for c in names], y=[f"true {c}" for c in names],
                               text=text, texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1,
                               showscale=False, hovertemplate="%{y} → %{x}: %{text}<extra></extra>"))
    size = 260 + 40 * len(m.classes)
    fig.update_layout(title=f"{plot_text(result.title, 60)}: confusion matrix (n = {m.n})", height=min(900, size),
                      margin=dict(l=10, r=10, t=50, b=10), yaxis=dict(autorange="reversed"))
    return fig


def per_class_rows(result: MethodResult) -> list[dict[str, Any]]:
    m = result.metrics
    if m is None:
        return []
    rows = [{"class": c.label, "precision": round(c.precision, 3), "recall": round(c.recall, 3),
             "F1": round(c.f1, 3), "support": c.support} for c in m.per_class]
    rows.append({"class": "macro avg", "precision": None, "recall": None, "F1": round(m.macro_f1, 3),
                 "support": m.n})
    rows.append({"class": "weighted avg", "precision": round(m.precision, 3), "recall": round(m.recall, 3),
                 "F1": round(m.f1, 3), "support": m.n})
    rows.append({"class": "accuracy", "precision": None, "recall": None, "F1": round(m.accuracy, 3),
                 "support": m.n})
    return rows
