"""Classifier Zoo → a notebook that reruns the chosen methods on the same train/test split with
scikit-learn and sentence-transformers called directly, as the book's chapter 4 notebook does.

The split itself travels with the notebook (``data/split.json``: split, text, label), so the
notebook sees exactly the examples the lab evaluated; an uploaded CSV goes along too. Methods the
notebook reruns: TF-IDF + logistic regression, embeddings + logistic regression, zero-shot
similarity. The others (the lab's task model, generative, SetFit, an API model) get a cell that
says what they did in the lab and how the book runs them. Prints ``LAB_RESULT`` with the metrics.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from core.classifiers.data import LabelledData
from core.notebooks import Notebook

PACKAGES = ("scikit-learn", "sentence-transformers", "transformers", "torch", "pandas", "numpy")
REPRODUCED = ("tfidf", "embed_lr", "zeroshot")

_SETUP = '''
import json, os
import numpy as np, pandas as pd
from sklearn.metrics import accuracy_score, precision_recall_fscore_support

if MODE == "offline":
    os.environ["HF_HUB_OFFLINE"] = "1"
split = pd.DataFrame(json.load(open({rel!r}, encoding="utf-8")))
train, test = split[split.split == "train"], split[split.split == "test"]
CLASSES = {classes!r}
y_train = np.array([CLASSES.index(c) for c in train.label])
METRICS = {{}}


def evaluate(name, pred_idx):
    """Accuracy and weighted precision/recall/F1 over CLASSES, as the lab reports them."""
    pred = [CLASSES[i] for i in pred_idx]
    p, r, f, _ = precision_recall_fscore_support(test.label, pred, labels=CLASSES, average="weighted", zero_division=0)
    METRICS[name] = {{"accuracy": accuracy_score(test.label, pred), "precision": p, "recall": r, "f1": f}}
    print(name, {{k: round(v, 3) for k, v in METRICS[name].items()}})
print(len(train), "training and", len(test), "test examples;", CLASSES)
'''.strip()

_TFIDF = '''
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
clf = LogisticRegression(max_iter=1000, C=10.0, random_state=42).fit(vectorizer.fit_transform(train.text), y_train)
proba = np.zeros((len(test), len(CLASSES)))
proba[:, clf.classes_] = clf.predict_proba(vectorizer.transform(test.text))
evaluate("tfidf", proba.argmax(axis=1))
'''.strip()

_EMBEDDER = '''
from sentence_transformers import SentenceTransformer

# the book's all-mpnet-base-v2; offline the packaged all-MiniLM-L6-v2
embedder = (SentenceTransformer(str(offline_asset("minilm")), device="cpu") if MODE == "offline"
            else SentenceTransformer({hub!r}, revision={rev!r}))
embed = lambda texts: embedder.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
test_emb = embed(test.text)
'''.strip()

_EMBED_LR = '''
from sklearn.linear_model import LogisticRegression

clf = LogisticRegression(random_state=42, max_iter=1000).fit(embed(train.text), y_train)
proba = np.zeros((len(test), len(CLASSES)))
proba[:, clf.classes_] = clf.predict_proba(test_emb)
evaluate("embed_lr", proba.argmax(axis=1))
'''.strip()

_ZEROSHOT = '''
DESCRIPTIONS = {descriptions!r}
sims = test_emb @ embed(DESCRIPTIONS).T   # cosine similarity (unit vectors)
evaluate("zeroshot", sims.argmax(axis=1))
'''.strip()

_OTHER = {
    "task": "the lab's own task model (a SetFit-style fine-tune of the embedder, stored on disk) — the book uses "
            "`cardiffnlp/twitter-roberta-base-sentiment-latest` through `transformers.pipeline` (§4.3)",
    "generative": "a generation model with the prompt below, the reply parsed to a class (§4.5); run it with "
                  "`transformers.pipeline('text-generation', …)` on each filled prompt",
    "openai": "an OpenAI-compatible chat model (§4.5); its key never leaves the lab, so it is not in this notebook",
    "setfit": "SetFit few-shot (chapter 11, §11.2): `setfit.SetFitModel` trained on k examples per class",
}


def split_json(data: LabelledData) -> bytes:
    """The split as JSON records (split, text, label): machine input, so texts stay byte for byte
    (a CSV for spreadsheets would neutralise cells starting with = + - @)."""
    rows = [{"split": "train", "text": t, "label": lab} for t, lab in zip(data.train_texts, data.train_labels)]
    rows += [{"split": "test", "text": t, "label": lab} for t, lab in zip(data.test_texts, data.test_labels)]
    return json.dumps(rows, ensure_ascii=False).encode("utf-8")


def notebook(state: Mapping[str, Any], data: LabelledData | None = None, *, app: Any) -> Notebook:
    """The notebook of a Zoo state (see :func:`core.classifiers.results.link_state`)."""
    MANIFEST = app  # the app's manifest (slug, title, chapters), given by the caller
    from core import catalogue
    from core.classifiers.data import parse_mapping
    from core.classifiers.results import data_of, models_of, settings_of
    from core.settings import get_settings

    data = data or data_of(state)
    settings = settings_of(state)
    methods = settings["methods"]
    nb = Notebook(MANIFEST.slug, MANIFEST.title, MANIFEST.chapters[0], parameters=settings,
                  models=tuple(models_of(methods)))
    rel = nb.add_data("split.json", split_json(data))
    if state.get("source") == "upload" and state.get("csv"):
        nb.add_data(str(state.get("csv_name") or "upload.csv"), str(state["csv"]).encode("utf-8"))
    nb.setup(PACKAGES, assets=("minilm",), mode=get_settings().mode)
    nb.section("§4.1 The sentiment of movie reviews — the data",
               f"The same split the lab evaluated: **{data.name}**, {len(data.train_texts):,} training and "
               f"{len(data.test_texts):,} test examples (seed {settings['seed']}), from `{rel}`.")
    nb.code(_SETUP.format(rel=rel, classes=list(data.classes)))
    if "tfidf" in methods:
        nb.section("§4.4 A classic baseline: TF-IDF + logistic regression",
                   "Word and bigram TF-IDF features, a logistic regression on top (the lab's settings).")
        nb.code(_TFIDF)
    if any(m in methods for m in ("embed_lr", "zeroshot")):
        entry = catalogue.get("embed-mpnet")
        nb.section("§4.4 Classification tasks that leverage embeddings",
                   "A frozen sentence embedder (unit-normalised vectors, batches of 64, as the lab encodes).")
        nb.code(_EMBEDDER.format(hub=entry.hub_id, rev=entry.hub_revision))
    if "embed_lr" in methods:
        nb.section("§4.4 Supervised classification", "Embeddings → logistic regression.")
        nb.code(_EMBED_LR)
    if "zeroshot" in methods:
        desc = parse_mapping(settings["descriptions"], data.classes, data.descriptions, "description")
        nb.section("§4.4 What if we do not have labeled data? (zero-shot)",
                   "Each text takes the class whose description embeds closest (cosine similarity).")
        nb.code(_ZEROSHOT.format(descriptions=[desc.get(c) or c for c in data.classes]))
    for key in methods:
        if key not in REPRODUCED and key in _OTHER:
            nb.md(f"**Not rerun here: `{key}`** — {_OTHER[key]}." + (
                f"\n\nThe lab's prompt:\n\n```\n{settings['prompt']}\n```" if key == "generative" else ""))
    nb.section("§4.2 Model evaluation: the comparison", "Weighted averages over the classes, as in the lab's table.")
    nb.code("print(pd.DataFrame(METRICS).T.round(3))\nprint('LAB_RESULT ' + json.dumps(METRICS))")
    return nb
