"""The zoo's methods, one module each, behind ONE registry (:data:`METHOD_INFO`) and ONE :func:`get_method`.

Every method returns, for each text, a label from ``data.classes`` (or ``UNPARSED`` for a reply a
generative model gave that names no class) and a row of class scores in ``data.classes`` order.

=================  ====================================  ==========================================
method (module)    Hub mode (the book's models)          offline (packaged models)
=================  ====================================  ==========================================
``tfidf``          TF-IDF + logistic regression (the book's suggested classic baseline)
``task``           cardiffnlp twitter-roberta sentiment  the lab's own task model: SetFit-style
(task_model)       (3 classes, neutral ignored)          fine-tune of MiniLM, cached on disk
``embed_lr``       all-mpnet-base-v2 + LogisticRegr.     MiniLM + LogisticRegression
``zeroshot``       cosine similarity to editable label descriptions (same embedder)
``generative``     flan-t5-small, editable prompt        SmolLM2-135M-Instruct, editable prompt
``openai``         any OpenAI-compatible chat model (base URL, model, key from the user's session)
``setfit``         SetFit few-shot: k examples per class (random or picked), trained live
=================  ====================================  ==========================================
"""
from __future__ import annotations

import time
from collections import OrderedDict

from core.classifiers.data import LabelledData
from core.classifiers.methods import embeddings_lr, generative, openai_api, setfit, task_model, tfidf, zero_shot
from core.classifiers.methods.base import (DEFAULT_PROMPT, UNPARSED, Method, MethodInfo, Predictions, Progress,
                                           ZooConfig, _noop, softmax)
from core.classifiers.methods.prompt import BOOK_PROMPT, PARSE_RULE, fill_prompt, parse_reply
from core.cache import budget_cache
from core.errors import LabError
from core.settings import get_settings

__all__ = [
    "BOOK_PROMPT", "DEFAULT_PROMPT", "METHOD_INFO", "Method", "MethodInfo", "OFFLINE_DEFAULT", "PARSE_RULE",
    "Predictions", "Progress", "UNPARSED", "ZooConfig", "clear_fitted", "fill_prompt", "get_method",
    "needs_first_training", "parse_reply", "softmax",
]

#: The one registry: key → MethodInfo (title, the book's figure, models, the class that runs it).
METHOD_INFO: "OrderedDict[str, MethodInfo]" = OrderedDict(
    (m.INFO.key, m.INFO) for m in (tfidf, task_model, embeddings_lr, zero_shot, generative, openai_api, setfit))
OFFLINE_DEFAULT = [key for key, info in METHOD_INFO.items() if info.default]

# fitted methods, cached per (method, settings, training data) in the lab's memory budget ---------
_fitted = budget_cache("classifiers.fitted", max_items=12)


def _fit_key(info: MethodInfo, data: LabelledData, config: ZooConfig) -> str:
    relevant = (get_settings().mode, data.train_fingerprint, *info.fit_key(config))
    return f"{info.key}:{config.fingerprint(*relevant)}"


def clear_fitted() -> None:
    """Forget every fitted method kept in memory (the on-disk task model stays)."""
    _fitted.clear()


def needs_first_training(key: str, data: LabelledData, config: ZooConfig) -> int:
    """Seconds (estimated) a first use of ``key`` will spend training a stored model; 0 if none."""
    if key != "task" or not get_settings().offline:
        return 0
    if _fit_key(METHOD_INFO[key], data, config) in _fitted:
        return 0
    return 0 if task_model.is_cached(data, config) else task_model.train_estimate_s(config)


def get_method(key: str, data: LabelledData, config: ZooConfig, progress: Progress = _noop) -> tuple[Method, float]:
    """A ready-to-predict method and the seconds spent fitting it now (0 when cached)."""
    info = METHOD_INFO.get(key)
    if info is None:
        raise LabError(f"Unknown method {key!r}.")
    if not info.needs_training:
        return info.cls(data, config), 0.0
    spent = [0.0]

    def fit() -> Method:
        method = info.cls(data, config)
        started = time.perf_counter()
        method.fit(data, progress)
        spent[0] = time.perf_counter() - started
        return method

    # one fit per key at a time: a second request for the same fit waits for the first
    return _fitted.get_or_create(_fit_key(info, data, config), fit), spent[0]
