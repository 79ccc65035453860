"""What every Classifier Zoo method shares: its settings, its registry entry, its predictions, its base class."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from core import jobs
from core.classifiers.data import LabelledData

UNPARSED = "(unparsed)"
Progress = Callable[[float, str], None]

DEFAULT_PROMPT = (
    "Is the following movie review [LABELS]?\n\n"
    "Review: [DOCUMENT]\n\n"
    "Answer with one word: [LABELS]."
)


def _noop(frac: float, desc: str) -> None:
    pass


@dataclass
class ZooConfig:
    """Per-request method settings (from the UI). The API key lives only in this object."""

    descriptions: dict[str, str] = field(default_factory=dict)  # zero-shot label descriptions
    words: dict[str, str] = field(default_factory=dict)  # answer words for generative methods
    prompt: str = DEFAULT_PROMPT
    openai_base_url: str = ""
    openai_model: str = ""
    openai_key: str = field(default="", repr=False)
    openai_workers: int = 4
    setfit_k: int = 8  # the book uses 16 per class; see apps.classifiers.app.SETFIT_NOTE
    setfit_pick: list[int] | None = None  # training-split row numbers chosen by the user
    setfit_steps: int = 0  # 0 = SetFit's default (all unique pairs, one epoch)
    task_steps: int = 60  # contrastive steps for the lab's own task model
    task_max_train: int = 1000
    calibrate: bool = True  # generative method: divide out the model's bias (see PARSE_RULE)
    seed: int = 42

    def fingerprint(self, *parts: Any) -> str:
        return hashlib.sha1(repr(parts).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class MethodInfo:
    """One method's registry entry: what it is, what the book reports, and the class that runs it."""

    key: str
    title: str
    book_f1: float | None  # weighted F1 the book reports on rotten_tomatoes test (n = 1,066)
    book_setup: str
    needs_training: bool
    offline_model: str
    hub_model: str
    cls: type["Method"]
    default: bool = True  # checked in the UI by default (offline)
    fit_key: Callable[[ZooConfig], tuple[Any, ...]] = lambda config: ()  # settings that change the fit


@dataclass
class Predictions:
    labels: list[str]
    scores: np.ndarray  # (n, k) in classes order
    raw: list[str] | None = None  # generated replies / 3-class scores, for display
    said: list[str] | None = None  # generative: the class the reply itself names (before calibration)


class Method:
    """Base class. Subclasses set ``key`` and implement ``fit`` (optional) and ``predict``."""

    key = ""

    def __init__(self, data: LabelledData, config: ZooConfig) -> None:
        self.classes = list(data.classes)
        self.config = config
        self.model_name = ""

    def fit(self, data: LabelledData, progress: Progress = _noop) -> None:
        """Train on ``data``'s training split (no-op for methods that need no labels)."""

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        raise NotImplementedError

    def _full_proba(self, proba: np.ndarray, seen: Sequence[int]) -> np.ndarray:
        """Expand predict_proba columns (only classes seen in training) to all classes."""
        out = np.zeros((proba.shape[0], len(self.classes)), dtype=float)
        for j, cls in enumerate(seen):
            out[:, int(cls)] = proba[:, j]
        return out

    def _labels(self, scores: np.ndarray) -> list[str]:
        return [self.classes[i] for i in scores.argmax(axis=1)] if len(scores) else []


def indices(data: LabelledData, labels: Sequence[str]) -> np.ndarray:
    """Class indices (in ``data.classes`` order) of ``labels``."""
    index = {c: i for i, c in enumerate(data.classes)}
    return np.array([index[lab] for lab in labels], dtype=int)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def check_stop() -> None:
    """Between batches: raise :class:`core.jobs.Stopped` if the job's Stop was pressed (no-op outside a job)."""
    jobs.check_stop()


def is_stop(exc: BaseException) -> bool:
    """True when ``exc`` is the job runner's Stopped (it must pass through per-method error handling)."""
    return isinstance(exc, jobs.Stopped)
