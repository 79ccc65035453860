"""The zoo's methods behind one interface: ``fit(data, config)`` if needed, then ``predict(texts)``.

Every method returns, for each text, a label from ``data.classes`` (or ``UNPARSED`` for a reply a
generative model gave that names no class) and a row of class scores in ``data.classes`` order.

=================  ====================================  ==========================================
method key         Hub mode (the book's models)          offline (packaged models)
=================  ====================================  ==========================================
``tfidf``          TF-IDF + logistic regression (the book's suggested classic baseline)
``task``           cardiffnlp twitter-roberta sentiment  the lab's own task model: SetFit-style
                   (3 classes, neutral ignored as in     contrastive fine-tune of MiniLM on the
                   the book)                             training split + LR head, cached on disk
``embed_lr``       all-mpnet-base-v2 + LogisticRegr.     MiniLM + LogisticRegression
``zeroshot``       cosine similarity to editable label descriptions (same embedder)
``generative``     flan-t5-small, editable prompt        SmolLM2-135M-Instruct, editable prompt
``openai``         any OpenAI-compatible chat model (base URL, model, key from the user's session)
``setfit``         SetFit few-shot: k examples per class (random or picked), trained live
=================  ====================================  ==========================================
"""
from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from core.classifiers import embeddings
from core.classifiers.data import LabelledData
from core.errors import BackendError, LabError
from core.gpu import estimate_duration, gpu_task
from core.settings import get_settings

log = logging.getLogger(__name__)

UNPARSED = "(unparsed)"
Progress = Callable[[float, str], None]

DEFAULT_PROMPT = (
    "Is the following movie review [LABELS]?\n\n"
    "Review: [DOCUMENT]\n\n"
    "Answer with one word: [LABELS]."
)
BOOK_PROMPT = (  # the book's ChatGPT template (ch. 4), for the OpenAI-compatible method
    "Predict whether the following document is a positive or negative movie review:\n\n"
    "[DOCUMENT]\n\n"
    "If it is positive return 1 and if it is negative return 0. Do not give any other answers."
)
PARSE_RULE = (
    "Parsing rule: the reply is lower-cased and the class whose answer word appears first in it wins "
    "(a bare number i picks the i-th class, 0-based, as in the book's ChatGPT prompt). For the book's "
    "two classes this is its T5 rule ('negative' → 0, else 1). If no answer word appears, a local model "
    "falls back to the class whose answer word's first token it scored highest; an API reply counts "
    f"as {UNPARSED} (wrong). With 'calibrate' on (default offline: SmolLM2-135M answers one word for "
    "everything), the label is instead the class whose answer word's first token is most likely after "
    "dividing by its probability for the content-free input 'N/A' (contextual calibration)."
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
    setfit_k: int = 8
    setfit_pick: list[int] | None = None  # training-split row numbers chosen by the user
    setfit_steps: int = 0  # 0 = SetFit's default (all unique pairs, one epoch)
    task_steps: int = 60  # contrastive steps for the lab's own task model
    task_max_train: int = 1000
    calibrate: bool = True  # generative method: divide out the model's bias (see PARSE_RULE)
    seed: int = 42

    def fingerprint(self, *parts: Any) -> str:
        return hashlib.sha1(repr(parts).encode()).hexdigest()[:12]


@dataclass
class MethodInfo:
    key: str
    title: str
    book_f1: float | None  # weighted F1 the book reports on rotten_tomatoes test (n = 1,066)
    book_setup: str
    needs_training: bool
    offline_model: str
    hub_model: str


METHOD_INFO: "OrderedDict[str, MethodInfo]" = OrderedDict((m.key, m) for m in [
    MethodInfo("tfidf", "Baseline: TF-IDF + logistic regression", None,
               "suggested by the book as a classic baseline (no figure given)", True,
               "scikit-learn TF-IDF (1-2 grams)", "scikit-learn TF-IDF (1-2 grams)"),
    MethodInfo("task", "Task-specific model", 0.80, "twitter-roberta-base-sentiment-latest, neutral ignored",
               True, "lab's own MiniLM SetFit-style fine-tune (cached)", "twitter-roberta-base-sentiment-latest"),
    MethodInfo("embed_lr", "Embeddings + logistic regression", 0.85,
               "all-mpnet-base-v2 → LogisticRegression, 8,530 train", True, "MiniLM + LogisticRegression",
               "all-mpnet-base-v2 + LogisticRegression"),
    MethodInfo("zeroshot", "Zero-shot: similarity to label descriptions", 0.78,
               "all-mpnet-base-v2, 'A negative/positive review'", False, "MiniLM cosine similarity",
               "all-mpnet-base-v2 cosine similarity"),
    MethodInfo("generative", "Generative prompt", 0.84, "flan-t5-small, 'Is the following sentence positive or "
               "negative?'", False, "SmolLM2-135M-Instruct", "flan-t5-small"),
    MethodInfo("openai", "OpenAI-compatible chat model", 0.91, "gpt-3.5-turbo-0125, temperature 0", False,
               "your endpoint", "your endpoint"),
    MethodInfo("setfit", "SetFit few-shot", 0.84, "all-mpnet-base-v2, 16 per class, 20 iterations, 3 epochs",
               True, "SetFit on MiniLM", "SetFit on all-mpnet-base-v2"),
])


@dataclass
class Predictions:
    labels: list[str]
    scores: np.ndarray  # (n, k) in classes order
    raw: list[str] | None = None  # generated replies / 3-class scores, for display


class Method:
    """Base class. Subclasses set ``key`` and implement ``_fit`` (optional) and ``predict``."""

    key = ""

    def __init__(self, data: LabelledData, config: ZooConfig) -> None:
        self.classes = list(data.classes)
        self.config = config
        self.model_name = ""

    @property
    def info(self) -> MethodInfo:
        return METHOD_INFO[self.key]

    def fit(self, data: LabelledData, progress: Progress = _noop) -> None:
        """Train on ``data``'s training split (no-op for methods that need no labels)."""

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        raise NotImplementedError

    # helpers --------------------------------------------------------------------------------
    def _full_proba(self, proba: np.ndarray, seen: Sequence[int]) -> np.ndarray:
        """Expand predict_proba columns (only classes seen in training) to all classes."""
        out = np.zeros((proba.shape[0], len(self.classes)), dtype=float)
        for j, cls in enumerate(seen):
            out[:, int(cls)] = proba[:, j]
        return out

    def _labels(self, scores: np.ndarray) -> list[str]:
        return [self.classes[i] for i in scores.argmax(axis=1)] if len(scores) else []


def _indices(data: LabelledData, labels: Sequence[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(data.classes)}
    return np.array([index[lab] for lab in labels], dtype=int)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------------------------
# 0. TF-IDF baseline
# --------------------------------------------------------------------------------------------

class TfidfMethod(Method):
    key = "tfidf"

    def fit(self, data: LabelledData, progress: Progress = _noop) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.model_name = "TF-IDF (1-2 grams) + LogisticRegression"
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
        X = self.vectorizer.fit_transform(data.train_texts)
        self.clf = LogisticRegression(max_iter=1000, C=10.0, random_state=self.config.seed)
        self.clf.fit(X, _indices(data, data.train_labels))

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        proba = self.clf.predict_proba(self.vectorizer.transform(list(texts)))
        scores = self._full_proba(proba, self.clf.classes_)
        return Predictions(self._labels(scores), scores)


# --------------------------------------------------------------------------------------------
# 2. embeddings + logistic regression, 3. zero-shot
# --------------------------------------------------------------------------------------------

class EmbedLRMethod(Method):
    key = "embed_lr"

    def fit(self, data: LabelledData, progress: Progress = _noop) -> None:
        from sklearn.linear_model import LogisticRegression

        self.model_name = f"{embeddings.embedder_label()} + LogisticRegression"
        X = embeddings.embed(data.train_texts, progress=progress)
        self.clf = LogisticRegression(random_state=42, max_iter=1000)
        self.clf.fit(X, _indices(data, data.train_labels))

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        proba = self.clf.predict_proba(embeddings.embed(texts, progress=progress))
        scores = self._full_proba(proba, self.clf.classes_)
        return Predictions(self._labels(scores), scores)


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


# --------------------------------------------------------------------------------------------
# SetFit (6. few-shot, and the offline task model)
# --------------------------------------------------------------------------------------------

def setfit_base() -> str:
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
    """Contrastive fine-tune of the embedder on pairs from (texts, labels), then a LR head."""
    import os

    from datasets import Dataset
    from setfit import SetFitModel, Trainer, TrainingArguments
    from transformers import TrainerCallback

    from core.loader import configure_torch

    configure_torch()
    os.environ.setdefault("WANDB_DISABLED", "true")

    class _Report(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
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
    progress(0.95, "SetFit: head trained")
    return model


def _setfit_predict_duration(model: Any, texts: Sequence[str]) -> int:
    return estimate_duration(len(texts), per_unit_s=0.003, base_s=5)


@gpu_task(duration=_setfit_predict_duration)
def _setfit_proba(model: Any, texts: Sequence[str]) -> np.ndarray:
    return np.asarray(model.predict_proba(list(texts), batch_size=64, as_numpy=True, show_progress_bar=False),
                      dtype=float)


class _SetFitPredict(Method):
    model: Any = None

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        proba = _setfit_proba(self.model, texts)
        head_classes = getattr(self.model.model_head, "classes_", np.arange(proba.shape[1]))
        scores = self._full_proba(proba, head_classes)
        return Predictions(self._labels(scores), scores)


class SetFitMethod(_SetFitPredict):
    key = "setfit"

    def few_shot_rows(self, data: LabelledData) -> list[int]:
        """Training-split rows used: the user's picks, else k per class at random (seeded)."""
        import random

        if self.config.setfit_pick:
            picked = sorted({int(i) for i in self.config.setfit_pick})
            bad = [i for i in picked if not 0 <= i < len(data.train_texts)]
            if bad:
                raise LabError(f"Picked row(s) {bad[:5]} are outside the training split (0–{len(data.train_texts) - 1}).")
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
        labels = _indices(data, [data.train_labels[i] for i in rows])
        steps = int(self.config.setfit_steps) if self.config.setfit_steps else -1
        self.model = train_setfit(texts, labels, data.classes, max_steps=steps, seed=self.config.seed,
                                  progress=progress)
        self.model_name = f"SetFit on {embeddings.embedder_label()}, {len(rows)} examples"


class TaskMethod(_SetFitPredict):
    """Hub: the book's cardiffnlp sentiment model. Offline: the lab's own fine-tuned classifier."""

    key = "task"

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
        key = f"{data.train_fingerprint}-s{self.config.task_steps}-n{self.config.task_max_train}-r{self.config.seed}"
        return get_settings().models_dir / "classifiers" / "task" / key

    def fit(self, data: LabelledData, progress: Progress = _noop) -> None:
        if self.hub:
            from core.loader import load

            self.pipe = load("sentiment-roberta")
            self.model_name = "cardiffnlp/twitter-roberta-base-sentiment-latest"
            return
        from setfit import SetFitModel

        folder = self.cache_folder(data)
        self.model_name = f"lab's own MiniLM classifier ({self.config.task_steps} contrastive steps)"
        if (folder / "model_head.pkl").exists():
            try:
                self.model = SetFitModel.from_pretrained(str(folder))
                self.cached = True
                return
            except Exception:  # noqa: BLE001 - a broken cache is rebuilt
                shutil.rmtree(folder, ignore_errors=True)
        n = min(len(data.train_texts), self.config.task_max_train)
        texts, labels = data.train_texts[:n], _indices(data, data.train_labels[:n])
        self.model = train_setfit(texts, labels, data.classes, max_steps=self.config.task_steps,
                                  num_iterations=2, seed=self.config.seed, progress=progress)
        self.cached = False
        staging = folder.with_name(folder.name + f".partial-{threading.get_ident()}")
        try:
            self.model.save_pretrained(str(staging))
            if folder.exists():
                shutil.rmtree(folder)
            staging.rename(folder)
        except OSError as exc:
            log.warning("could not cache the task model: %s", exc)
            shutil.rmtree(staging, ignore_errors=True)

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


# --------------------------------------------------------------------------------------------
# 4. generative prompt, 5. OpenAI-compatible chat
# --------------------------------------------------------------------------------------------

def fill_prompt(template: str, text: str, words: Sequence[str]) -> str:
    if "[DOCUMENT]" not in template:
        raise LabError("The prompt must contain [DOCUMENT] where the text goes.")
    if len(words) == 2:
        label_list = f"{words[0]} or {words[1]}"
    else:
        label_list = ", ".join(words[:-1]) + f" or {words[-1]}"
    return template.replace("[LABELS]", label_list).replace("[DOCUMENT]", text)


def parse_reply(reply: str, words: Sequence[str], classes: Sequence[str]) -> str | None:
    """The class whose answer word appears first in ``reply``; a bare index also works; else None."""
    low = reply.strip().lower()
    best: tuple[int, int] | None = None
    for i, w in enumerate(words):
        m = re.search(r"(?<![a-z0-9])" + re.escape(w.lower()) + r"(?![a-z0-9])", low)
        if m and (best is None or m.start() < best[0] or (m.start() == best[0] and len(w) > len(words[best[1]]))):
            best = (m.start(), i)
    if best is not None:
        return classes[best[1]]
    m = re.match(r"^\W*(\d+)\W*$", low)
    if m and int(m.group(1)) < len(classes):
        return classes[int(m.group(1))]
    return None


def _gen_duration(model_name: str, prompts: Sequence[str], *a: Any, **k: Any) -> int:
    return estimate_duration(len(prompts), per_unit_s=0.05, base_s=5)


@gpu_task(duration=_gen_duration)
def _generate_batch(model_name: str, prompts: Sequence[str], first_ids: Sequence[Sequence[int]],
                    max_new_tokens: int = 4) -> tuple[list[str], np.ndarray]:
    """Greedy replies and, per prompt, the logits of each class's first tokens at the first step."""
    import torch

    from core.loader import load

    lm = load(model_name)
    tok = lm.tokenizer
    seq2seq = bool(getattr(lm.model.config, "is_encoder_decoder", False))
    kwargs: dict[str, Any] = {"return_tensors": "pt", "padding": True, "truncation": True, "max_length": 512}
    if not seq2seq:
        kwargs["add_special_tokens"] = False
        kwargs["padding_side"] = "left"
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    enc = tok(list(prompts), **kwargs).to(lm.model.device)
    with torch.inference_mode():
        out = lm.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, output_scores=True,
                                return_dict_in_generate=True, pad_token_id=pad, temperature=None, top_p=None,
                                top_k=None)
    first = out.scores[0].float().cpu()  # (batch, vocab)
    logits = np.stack([first[:, list(ids)].max(dim=1).values.numpy() for ids in first_ids], axis=1)
    new = out.sequences if seq2seq else out.sequences[:, enc["input_ids"].shape[1]:]
    replies = tok.batch_decode(new, skip_special_tokens=True)
    return [r.strip() for r in replies], logits


class GenerativeMethod(Method):
    key = "generative"
    batch_size = 16

    def __init__(self, data: LabelledData, config: ZooConfig) -> None:
        super().__init__(data, config)
        self.words = [config.words.get(c) or data.words.get(c) or c for c in self.classes]
        self.template = config.prompt or DEFAULT_PROMPT
        fill_prompt(self.template, "x", self.words)  # validate early
        if get_settings().offline:
            self.lm_name, self.chat = "chat-smollm2-135m", True
        else:
            self.lm_name, self.chat = "text2text-flan-t5-small", False
        from core import catalogue

        self.model_name = catalogue.get(self.lm_name).display(get_settings().mode)

    def _first_ids(self) -> list[list[int]]:
        from core.loader import load

        tok = load(self.lm_name).tokenizer
        ids = []
        for w in self.words:
            variants = {w, w.lower(), w.capitalize(), " " + w, " " + w.lower(), " " + w.capitalize()}
            first = {t[0] for v in variants if (t := tok(v, add_special_tokens=False)["input_ids"])}
            ids.append(sorted(first))
        return ids

    def render(self, text: str) -> str:
        content = fill_prompt(self.template, text[:2000], self.words)
        if not self.chat:
            return content
        from core.generation import LocalBackend

        return LocalBackend(self.lm_name).render_prompt([{"role": "user", "content": content}])

    def _prior(self, first_ids: list[list[int]]) -> np.ndarray:
        """Class probabilities for a content-free input ("N/A"): the model's bias, divided out when
        ``calibrate`` is on (contextual calibration, Zhao et al. 2021)."""
        key = (self.lm_name, self.template, tuple(self.words))
        if key not in _PRIORS:
            _, logits = _generate_batch(self.lm_name, [self.render("N/A")], first_ids, max_new_tokens=1)
            _PRIORS[key] = softmax(logits, axis=1)[0]
        return _PRIORS[key]

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        first_ids = self._first_ids()
        calibrate = self.config.calibrate
        prior = self._prior(first_ids) if calibrate else None
        labels, raw, rows = [], [], []
        texts = list(texts)
        for start in range(0, len(texts), self.batch_size):
            progress(start / max(1, len(texts)), f"prompting {start:,}/{len(texts):,}")
            batch = texts[start:start + self.batch_size]
            replies, logits = _generate_batch(self.lm_name, [self.render(t) for t in batch], first_ids,
                                              max_new_tokens=3)
            scores = softmax(logits, axis=1)
            if prior is not None:
                scores = scores / prior
                scores = scores / scores.sum(axis=1, keepdims=True)
            for reply, row in zip(replies, scores):
                parsed = None if calibrate else parse_reply(reply, self.words, self.classes)
                labels.append(parsed if parsed is not None else self.classes[int(row.argmax())])
                if calibrate:
                    raw.append(f"{reply!r} → calibrated first-token scores")
                else:
                    raw.append(reply if parsed is not None else f"{reply!r} → fallback: first-token scores")
                rows.append(row)
        return Predictions(labels, np.array(rows).reshape(len(texts), len(self.classes)), raw)


_PRIORS: dict[tuple[Any, ...], np.ndarray] = {}


class OpenAIMethod(Method):
    key = "openai"
    system = "You are a helpful assistant."

    def __init__(self, data: LabelledData, config: ZooConfig) -> None:
        super().__init__(data, config)
        if not config.openai_base_url.strip():
            raise LabError("No OpenAI-compatible endpoint is set: enter a base URL (and key, model) to use it.")
        if not config.openai_model.strip():
            raise LabError("Enter the model name to use on the OpenAI-compatible server.")
        self.words = [config.words.get(c) or data.words.get(c) or c for c in self.classes]
        self.template = config.prompt or DEFAULT_PROMPT
        fill_prompt(self.template, "x", self.words)
        self.model_name = f"{config.openai_model} (OpenAI-compatible)"

    def _backend(self) -> Any:
        from core.generation import OpenAIBackend

        return OpenAIBackend(self.config.openai_base_url.strip(), self.config.openai_model.strip(),
                             api_key=self.config.openai_key, system_prompt=self.system)

    def predict(self, texts: Sequence[str], progress: Progress = _noop) -> Predictions:
        from concurrent.futures import ThreadPoolExecutor

        from core.generation import SamplingParams

        backend = self._backend()
        params = SamplingParams(max_new_tokens=8, greedy=True, temperature=1.0)
        texts = list(texts)

        def ask(text: str) -> str:
            msg = [{"role": "user", "content": fill_prompt(self.template, text[:4000], self.words)}]
            return backend.generate(msg, params)

        # one request first: a wrong URL or key fails fast with one clear message
        replies = [ask(texts[0])] if texts else []
        done = [1]
        stop = threading.Event()

        def ask_rest(text: str) -> str:
            if stop.is_set():
                raise BackendError("cancelled")
            try:
                return ask(text)
            finally:
                done[0] += 1

        with ThreadPoolExecutor(max_workers=max(1, self.config.openai_workers)) as pool:
            futures = [pool.submit(ask_rest, t) for t in texts[1:]]
            try:
                for f in futures:
                    replies.append(f.result())
                    progress(done[0] / len(texts), f"API {done[0]:,}/{len(texts):,}")
            except BaseException:
                stop.set()
                raise
        labels, rows = [], []
        for reply in replies:
            parsed = parse_reply(reply, self.words, self.classes)
            row = np.zeros(len(self.classes))
            if parsed is None:
                labels.append(UNPARSED)
            else:
                labels.append(parsed)
                row[self.classes.index(parsed)] = 1.0
            rows.append(row)
        return Predictions(labels, np.array(rows).reshape(len(texts), len(self.classes)), replies)


METHODS: dict[str, type[Method]] = {
    "tfidf": TfidfMethod, "task": TaskMethod, "embed_lr": EmbedLRMethod, "zeroshot": ZeroShotMethod,
    "generative": GenerativeMethod, "openai": OpenAIMethod, "setfit": SetFitMethod,
}
OFFLINE_DEFAULT = ["tfidf", "task", "embed_lr", "zeroshot", "generative", "setfit"]


# --------------------------------------------------------------------------------------------
# fitted methods, cached per (method, settings, training data)
# --------------------------------------------------------------------------------------------

_fitted: "OrderedDict[str, Method]" = OrderedDict()
_fit_lock = threading.Lock()
_FITTED_ITEMS = 12


def _fit_key(key: str, data: LabelledData, config: ZooConfig) -> str:
    relevant: tuple[Any, ...] = (get_settings().mode, data.train_fingerprint)
    if key == "setfit":
        relevant += (config.setfit_k, tuple(config.setfit_pick or ()), config.setfit_steps, config.seed)
    elif key == "task":
        relevant += (config.task_steps, config.task_max_train, config.seed, tuple(sorted(config.words.items())))
    return f"{key}:{config.fingerprint(*relevant)}"


def clear_fitted() -> None:
    with _fit_lock:
        _fitted.clear()


def get_method(key: str, data: LabelledData, config: ZooConfig, progress: Progress = _noop) -> tuple[Method, float]:
    """A ready-to-predict method and the seconds spent fitting it now (0 when cached)."""
    if key not in METHODS:
        raise LabError(f"Unknown method {key!r}.")
    cls = METHODS[key]
    if not METHOD_INFO[key].needs_training:
        return cls(data, config), 0.0
    fkey = _fit_key(key, data, config)
    with _fit_lock:
        if fkey in _fitted:
            _fitted.move_to_end(fkey)
            return _fitted[fkey], 0.0
    method = cls(data, config)
    started = time.perf_counter()
    method.fit(data, progress)
    seconds = time.perf_counter() - started
    with _fit_lock:
        _fitted[fkey] = method
        while len(_fitted) > _FITTED_ITEMS:
            _fitted.popitem(last=False)
    return method, seconds
