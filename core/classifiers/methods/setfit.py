"""SetFit (book §11.2): contrastive fine-tuning of the embedder on a few labelled pairs, then a LR head.

:func:`train_setfit` is shared with the lab's own task model (:mod:`.task_model`).
"""
from __future__ import annotations

import random
import shutil
import tempfile
from typing import Any, Sequence

import numpy as np

from core.classifiers import embeddings
from core.classifiers.data import LabelledData
from core.classifiers.methods.base import (Method, MethodInfo, Predictions, Progress, ZooConfig, _noop, check_stop,
                                           indices)
from core.errors import LabError
from core.gpu import estimate_duration, gpu_task
from core.settings import get_settings


def setfit_base() -> str:
    """The embedder SetFit fine-tunes: the packaged MiniLM offline, the book's mpnet on the Hub."""
    from core.assets import asset_dir

    if get_settings().offline:
        from core.loader import offline_env

        offline_env()
        return str(asset_dir("minilm"))
    return "sentence-transformers/all-mpnet-base-v2"


def _accuracy(y_pred: Any, y_test: Any) -> dict[str, float]:  # setfit's default metric needs the Hub
    return {"accuracy": float(np.mean([int(a) == int(b) for a, b in zip(y_pred, y_test)]))}


def _setfit_duration(texts: Sequence[str], labels: Sequence[int], classes: Sequence[str], *a: Any, **k: Any) -> int:
    return estimate_duration(len(texts), per_unit_s=0.2, base_s=20, cap_s=120)


@gpu_task(duration=_setfit_duration)
def train_setfit(texts: Sequence[str], labels: Sequence[int], classes: Sequence[str], *, max_steps: int = -1,
                 num_iterations: int | None = None, seed: int = 42, progress: Progress = _noop) -> Any:
    """Contrastive fine-tune of the embedder on pairs from (texts, labels), then a LR head.

    Stops between steps when the job's Stop is pressed (:func:`core.jobs.check_stop`)."""
    import os

    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments
    from transformers import TrainerCallback

    from core.loader import configure_torch

    configure_torch()
    os.environ.setdefault("WANDB_DISABLED", "true")

    class _Report(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            check_stop()
            total = state.max_steps or 1
            progress(0.9 * state.global_step / total, f"SetFit contrastive step {state.global_step}/{total}")

    model = SetFitModel.from_pretrained(setfit_base(), labels=list(classes))
    out = tempfile.mkdtemp(prefix="llm-lab-setfit-")
    try:
        args = TrainingArguments(output_dir=out, batch_size=16, num_epochs=1, max_steps=max_steps,
                                 num_iterations=num_iterations, seed=seed, report_to="none",
                                 show_progress_bar=False, save_strategy="no", logging_strategy="no")
        trainer = Trainer(model=model, args=args, metric=_accuracy, callbacks=[_Report()],
                          train_dataset=Dataset.from_dict({"text": list(texts), "label": [int(x) for x in labels]}))
        progress(0.0, "SetFit: building sentence pairs")
        trainer.train()
    finally:
        shutil.rmtree(out, ignore_errors=True)
    check_stop()
    progress(0.95, "SetFit: head trained")
    return model


def _setfit_predict_duration(model: Any, texts: Sequence[str]) -> int:
    return estimate_duration(len(texts), per_unit_s=0.003, base_s=5)


@gpu_task(duration=_setfit_predict_duration)
def _setfit_proba(model: Any, texts: Sequence[str]) -> np.ndarray:
    return np.asarray(model.predict_proba(list(texts), batch_size=64, as_numpy=True, show_progress_bar=False),
                      dtype=float)


class SetFitPredict(Method):
    """Prediction through a trained SetFit model (``self.model``)."""

    model: Any = None

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        proba = _setfit_proba(self.model, texts)
        head_classes = getattr(self.model.model_head, "classes_", np.arange(proba.shape[1]))
        scores = self._full_proba(proba, head_classes)
        return Predictions(self._labels(scores), scores)


class SetFitMethod(SetFitPredict):
    key = "setfit"

    def few_shot_rows(self, data: LabelledData) -> list[int]:
        """Training-split rows used: the user's picks, else k per class at random (seeded)."""
        if self.config.setfit_pick:
            picked = sorted({int(i) for i in self.config.setfit_pick})
            bad = [i for i in picked if not 0 <= i < len(data.train_texts)]
            if bad:
                raise LabError(f"Picked row(s) {bad[:5]} are outside the training split "
                               f"(0–{len(data.train_texts) - 1}).")
            classes = {data.train_labels[i] for i in picked}
            if len(classes) < 2:
                raise LabError("The picked examples cover fewer than 2 classes; pick examples of every class.")
            return picked
        k = max(1, int(self.config.setfit_k))
        rng = random.Random(self.config.seed)
        rows: list[int] = []
        for c in data.classes:
            idx = [i for i, lab in enumerate(data.train_labels) if lab == c]
            rows.extend(rng.sample(idx, min(k, len(idx))))
        return sorted(rows)

    def fit(self, data: LabelledData, progress: Progress = _noop) -> None:
        rows = self.few_shot_rows(data)
        self.rows = rows
        texts = [data.train_texts[i] for i in rows]
        labels = indices(data, [data.train_labels[i] for i in rows])
        steps = int(self.config.setfit_steps) if self.config.setfit_steps else -1
        self.model = train_setfit(texts, labels, data.classes, max_steps=steps, seed=self.config.seed,
                                  progress=progress)
        self.model_name = f"SetFit on {embeddings.embedder_label()}, {len(rows)} examples"


def _fit_key(config: ZooConfig) -> tuple[Any, ...]:
    return (config.setfit_k, tuple(config.setfit_pick or ()), config.setfit_steps, config.seed)


INFO = MethodInfo("setfit", "SetFit few-shot", 0.84, "all-mpnet-base-v2, 16 per class, 20 iterations, 3 epochs",
                  True, "SetFit on MiniLM", "SetFit on all-mpnet-base-v2", SetFitMethod, fit_key=_fit_key)
