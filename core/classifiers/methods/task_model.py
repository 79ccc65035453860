"""Task-specific model (book §4.2). Hub: the book's cardiffnlp sentiment model. Offline: the lab's own
MiniLM classifier, a SetFit-style contrastive fine-tune on the training split, stored on disk under
``models_dir/classifiers/task/<training data hash>-…`` so a restart reuses it (:func:`warm` trains it
at start-up, in the background)."""
from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from core.classifiers.data import LabelledData
from core.classifiers.methods.base import MethodInfo, Predictions, Progress, ZooConfig, _noop, indices
from core.classifiers.methods.setfit import SetFitPredict, train_setfit
from core.errors import LabError
from core.settings import get_settings

log = logging.getLogger(__name__)

#: Seconds per contrastive step of batch 16 on MiniLM, measured on the lab's 2-core CPU (60 steps: 163 s).
SECONDS_PER_STEP = 2.6
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
stats = {"trained": 0, "loaded": 0}


def cache_folder(data: LabelledData, config: ZooConfig) -> Path:
    """Where the task model trained on ``data``'s training split with ``config`` is stored."""
    key = f"{data.train_fingerprint}-s{config.task_steps}-n{config.task_max_train}-r{config.seed}"
    return get_settings().models_dir / "classifiers" / "task" / key


def is_cached(data: LabelledData, config: ZooConfig) -> bool:
    """True when the offline task model for this data and config is on disk (no training needed)."""
    return (cache_folder(data, config) / "model_head.pkl").exists()


def train_estimate_s(config: ZooConfig) -> int:
    """A rough training time on CPU, said before a first use trains."""
    return int(round(10 + SECONDS_PER_STEP * config.task_steps, -1))


def _lock(folder: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(folder), threading.Lock())


def _load(folder: Path) -> Any | None:
    from setfit import SetFitModel

    if not (folder / "model_head.pkl").exists():
        return None
    try:
        model = SetFitModel.from_pretrained(str(folder))
    except Exception:  # noqa: BLE001 - a broken cache is rebuilt
        log.warning("broken task-model cache %s: retraining", folder)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    stats["loaded"] += 1
    return model


def _save(model: Any, folder: Path) -> None:
    staging = folder.with_name(folder.name + f".partial-{threading.get_ident()}")
    try:
        model.save_pretrained(str(staging))
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except OSError as exc:
        log.warning("could not cache the task model: %s", exc)
        shutil.rmtree(staging, ignore_errors=True)


def load_or_train(data: LabelledData, config: ZooConfig, progress: Progress = _noop) -> tuple[Any, bool]:
    """(model, loaded_from_disk). One training per folder at a time: a click during the start-up
    warm-up waits for it instead of training a second copy."""
    folder = cache_folder(data, config)
    with _lock(folder):
        model = _load(folder)
        if model is not None:
            return model, True
        n = min(len(data.train_texts), config.task_max_train)
        progress(0.0, f"first use: trains a model, about {train_estimate_s(config)} s")
        model = train_setfit(data.train_texts[:n], indices(data, data.train_labels[:n]), data.classes,
                             max_steps=config.task_steps, num_iterations=2, seed=config.seed, progress=progress)
        stats["trained"] += 1
        _save(model, folder)
        return model, False


def warm(data: LabelledData | None = None, config: ZooConfig | None = None) -> bool:
    """Start-up: make sure the offline task model of the built-in data is on disk (trains it if not).

    Returns True when it had to train. Does nothing in Hub mode (the book's model is downloaded)."""
    if not get_settings().offline:
        return False
    from core.classifiers import data as cdata

    data = data or cdata.builtin()
    config = config or ZooConfig()
    if is_cached(data, config):
        return False
    _, loaded = load_or_train(data, config)
    return not loaded


class TaskMethod(SetFitPredict):
    """Hub: the book's cardiffnlp sentiment model. Offline: the lab's own fine-tuned classifier."""

    key = "task"
    cached = False

    def __init__(self, data: LabelledData, config: ZooConfig) -> None:
        super().__init__(data, config)
        self.hub = not get_settings().offline
        if self.hub:
            words = {c: (config.words.get(c) or data.words.get(c) or c).lower() for c in self.classes}
            unknown = [c for c, w in words.items() if w not in ("negative", "neutral", "positive")]
            if unknown:
                raise LabError("The sentiment model only knows negative/neutral/positive; set the answer word "
                               f"of {', '.join(map(repr, unknown[:4]))} to one of those.")
            self.words = words

    def cache_folder(self, data: LabelledData) -> Path:
        return cache_folder(data, self.config)

    def fit(self, data: LabelledData, progress: Progress = _noop) -> None:
        if self.hub:
            from core.loader import load

            self.pipe = load("sentiment-roberta")
            self.model_name = "cardiffnlp/twitter-roberta-base-sentiment-latest"
            return
        self.model_name = f"lab's own MiniLM classifier ({self.config.task_steps} contrastive steps)"
        self.model, self.cached = load_or_train(data, self.config, progress)

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        if not self.hub:
            return super().predict(texts, progress)
        out = self.pipe(list(texts), top_k=None, batch_size=32, truncation=True)
        scores, raw = [], []
        for item in out:
            by = {d["label"].lower(): float(d["score"]) for d in item}
            raw.append(", ".join(f"{k}={v:.3f}" for k, v in sorted(by.items())))
            row = np.array([by.get(self.words[c], 0.0) if self.words[c] != "neutral" else 0.0
                            for c in self.classes])
            scores.append(row / row.sum() if row.sum() > 0 else row)  # the book ignores neutral
        arr = np.array(scores)
        return Predictions(self._labels(arr), arr, raw)


def _fit_key(config: ZooConfig) -> tuple[Any, ...]:
    return (config.task_steps, config.task_max_train, config.seed, tuple(sorted(config.words.items())))


INFO = MethodInfo("task", "Task-specific model", 0.80, "twitter-roberta-base-sentiment-latest, neutral ignored",
                  True, "lab's own MiniLM SetFit-style fine-tune (cached)", "twitter-roberta-base-sentiment-latest",
                  TaskMethod, fit_key=_fit_key)
