"""Classifier Zoo core: data handling, metrics vs scikit-learn, every method above chance."""
from __future__ import annotations

import numpy as np
import pytest

from core.classifiers import data as cdata
from core.classifiers import embeddings, metrics
from core.classifiers.evaluate import evaluate, run_methods
from core.classifiers.methods import (METHOD_INFO, UNPARSED, ZooConfig, clear_fitted, fill_prompt, get_method,
                                      parse_reply)
from core.errors import InvalidUpload, LabError
from core.settings import Limits, get_settings, override_settings
from tests.fake_openai import FakeOpenAI

POSITIVE = ("good", "great", "best", "fun", "funny", "beautiful", "moving", "charming", "delight", "brilliant",
            "wonderful", "enjoy", "solid", "smart", "entertaining", "love", "fine", "perfect", "strong")


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    cache = tmp_path_factory.mktemp("llm-lab-cache")
    assets = get_settings().assets_dir
    (cache / "assets").symlink_to(assets)
    with override_settings(cache_dir=cache) as s:
        yield s.models_dir


@pytest.fixture(scope="module")
def small(models_dir):
    return cdata.builtin(test_size=60, train_size=160)


@pytest.fixture(scope="module")
def evaluation(small):
    config = ZooConfig(setfit_k=8, setfit_steps=2, task_steps=3, task_max_train=160)
    return evaluate(small, ["tfidf", "embed_lr", "zeroshot", "setfit", "task"], config)


# ---------------------------------------------------------------------------------------------- data

def test_builtin_split_is_fixed_stratified_and_disjoint(small):
    again = cdata.builtin(test_size=60, train_size=160)
    assert again.test_texts == small.test_texts and again.train_texts == small.train_texts
    assert small.classes == ["rotten", "fresh"]
    assert len(small.test_texts) == 60 and len(small.train_texts) == 160
    assert not set(small.test_texts) & set(small.train_texts)
    counts = small.counts()
    assert all(abs(te - 30) <= 3 for _, te in counts.values())
    assert small.fingerprint != cdata.builtin(test_size=60, train_size=160, seed=1).fingerprint


def _csv(tmp_path, text: str, name: str = "d.csv", encoding: str = "utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return str(p)


def test_csv_preview_guesses_columns_and_detects_delimiter_and_encoding(tmp_path):
    rows = "\n".join(f"{i};Caf\u00e9 review number {i} was {'great' if i % 2 else 'bad'};{'pos' if i % 2 else 'neg'}"
                     for i in range(30))
    p = _csv(tmp_path, "id;review;sentiment\n" + rows, encoding="latin-1")
    prev = cdata.preview_csv(p)
    assert prev.text_column == "review" and prev.label_column == "sentiment"
    assert any("delimiter" in n for n in prev.notes) and any("UTF-8" in n for n in prev.notes)
    data = cdata.from_frame(prev.frame, "review", "sentiment", test_size=10, train_size=20)
    assert data.classes == ["neg", "pos"] and "Café" in data.train_texts[0] + "".join(data.train_texts)


def test_csv_bad_inputs_have_clear_messages(tmp_path):
    one_col = _csv(tmp_path, "just text\n" + "\n".join(f"line {i}" for i in range(10)), "one.csv")
    with pytest.raises(InvalidUpload, match="only one column"):
        cdata.preview_csv(one_col)
    one_class = _csv(tmp_path, "text,label\n" + "\n".join(f"t{i},x" for i in range(20)), "oneclass.csv")
    prev = cdata.preview_csv(one_class)
    with pytest.raises(InvalidUpload, match="fewer than 2 classes"):
        cdata.from_frame(prev.frame, "text", "label")
    with pytest.raises(InvalidUpload, match="not in the file"):
        cdata.from_frame(prev.frame, "text", "labels")
    big = _csv(tmp_path, "text,label\n" + "\n".join(f"t{i},{i % 2}" for i in range(80)), "big.csv")
    with override_settings(limits=Limits(csv_rows=50)):
        with pytest.raises(InvalidUpload, match="more than 50 rows"):
            cdata.preview_csv(big)


def test_empty_texts_and_label_typos_are_reported(tmp_path):
    lines = [f"text {i} here,{'spam' if i % 2 else 'ham'}" for i in range(40)]
    lines += ["text 99,sapm", ",ham", "nan,spam", "real text,"]
    prev = cdata.preview_csv(_csv(tmp_path, "text,label\n" + "\n".join(lines)))
    counts, warnings = cdata.class_counts(prev.frame, "label", "text")
    assert counts["spam"] == 20 and counts["sapm"] == 1
    assert any("typo of 'spam'" in w for w in warnings)
    assert any("3 row(s) with an empty or NaN" in w for w in warnings)
    data = cdata.from_frame(prev.frame, "text", "label", test_size=8, train_size=40)
    assert data.classes == ["ham", "spam"]  # the single 'sapm' row is dropped, with a note
    assert any("single example" in n for n in data.notes)


def test_label_mapping_parsing():
    m = cdata.parse_mapping("fresh: A great film\n\nrotten:  awful", ["rotten", "fresh"], {}, "description")
    assert m == {"rotten": "awful", "fresh": "A great film"}
    with pytest.raises(LabError, match="Unknown class"):
        cdata.parse_mapping("fersh: x", ["rotten", "fresh"], {}, "description")
    # class names may contain colons (a URL, "type:A"): the known class the line starts with wins
    classes = ["type:A", "type", "http://x.org/a"]
    m = cdata.parse_mapping("type:A: first letter\ntype: a kind\nhttp://x.org/a : a link", classes, {}, "word")
    assert m == {"type:A": "first letter", "type": "a kind", "http://x.org/a": "a link"}


# ------------------------------------------------------------------------------------------- metrics

def test_metrics_match_scikit_learn():
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    rng = np.random.default_rng(0)
    classes = ["a", "b", "c"]
    y_true = list(rng.choice(classes, 200, p=[0.5, 0.3, 0.2]))
    y_pred = [t if rng.random() < 0.6 else rng.choice(classes + [UNPARSED]) for t in y_true]
    m = metrics.compute(y_true, y_pred, classes)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=classes, average="weighted", zero_division=0)
    assert m.accuracy == pytest.approx(accuracy_score(y_true, y_pred))
    assert (m.precision, m.recall, m.f1) == pytest.approx((p, r, f))
    assert m.macro_f1 == pytest.approx(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0))
    pc, rc, fc, sc = precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=0)
    assert [c.f1 for c in m.per_class] == pytest.approx(list(fc))
    assert [c.support for c in m.per_class] == list(sc)
    assert (m.confusion == confusion_matrix(y_true, y_pred, labels=classes)).all()
    assert m.unparsed == sum(1 for x in y_pred if x == UNPARSED)


def test_parse_reply_rule():
    words, classes = ["negative", "positive"], ["rotten", "fresh"]
    assert parse_reply("Positive.", words, classes) == "fresh"
    assert parse_reply("negative, not positive", words, classes) == "rotten"
    assert parse_reply("1", words, classes) == "fresh" and parse_reply(" 0 ", words, classes) == "rotten"
    assert parse_reply("I cannot say", words, classes) is None
    assert fill_prompt("Is it [LABELS]? [DOCUMENT]", "fun", words) == "Is it negative or positive? fun"
    with pytest.raises(LabError, match=r"\[DOCUMENT\]"):
        fill_prompt("no placeholder", "x", words)


# ------------------------------------------------------------------------------------------- methods

# floors: measured on this 60-example split (accuracy tfidf 0.63, embed_lr 0.72, zero-shot 0.65,
# SetFit 8/class 0.60, task 0.6) minus a margin; chance is 0.5.
FLOORS = {"tfidf": 0.55, "embed_lr": 0.62, "zeroshot": 0.57, "setfit": 0.55, "task": 0.55}


@pytest.mark.parametrize("key", list(FLOORS))
def test_method_beats_chance(evaluation, key):
    r = next(r for r in evaluation.results if r.key == key)
    assert r.ok, r.error
    assert r.metrics.accuracy >= FLOORS[key], (key, r.metrics.accuracy)
    assert r.scores.shape == (60, 2) and np.allclose(r.scores.sum(axis=1), 1.0, atol=1e-4)
    assert set(r.labels) <= {"rotten", "fresh"}


def test_comparison_disagreements_and_csv(evaluation, tmp_path):
    rows = evaluation.comparison()
    assert len(rows) == 5 and all(r["status"] == "ok" for r in rows)
    assert {r["method"]: r["book F1"] for r in rows}["Embeddings + logistic regression"] == 0.85
    dis = evaluation.disagreements("disagree")
    assert dis and all(len({v.split()[1] for k, v in d.items() if k not in ("#", "text", "gold")}) > 1 for d in dis)
    path = evaluation.write_predictions(tmp_path)
    import pandas as pd

    frame = pd.read_csv(path)
    assert len(frame) == 60 and "embed_lr_score_fresh" in frame.columns and "zeroshot_reply" in frame.columns


def test_embeddings_and_task_model_are_cached(small, evaluation, models_dir):
    before = dict(embeddings.stats)
    embeddings.embed(small.test_texts)
    assert embeddings.stats["hits"] == before["hits"] + 1
    from core import embeddings as lab_embeddings

    assert list(lab_embeddings.disk_dir().glob("*.npy"))  # the lab's one embeddings module keeps them
    clear_fitted()
    config = ZooConfig(task_steps=3, task_max_train=160)
    method, fit_s = get_method("task", small, config)
    assert getattr(method, "cached", False), "the task model should load from the on-disk cache"


def test_setfit_user_picked_rows(small):
    config = ZooConfig(setfit_pick=[0, 1, 2, 3, 4, 5, 6, 7], setfit_steps=1)
    picked_labels = {small.train_labels[i] for i in range(8)}
    if len(picked_labels) < 2:
        pytest.skip("first rows are one class")
    method, _ = get_method("setfit", small, config)
    assert method.rows == list(range(8))
    with pytest.raises(LabError, match="outside the training split"):
        get_method("setfit", small, ZooConfig(setfit_pick=[0, 99999]))


def _lexicon_reply(payload):
    text = payload["messages"][-1]["content"].lower()
    doc = text.split("review:", 1)[-1]
    return "positive" if any(w in doc for w in POSITIVE) else "negative"


def test_openai_method_on_fake_server(small):
    with FakeOpenAI(reply=_lexicon_reply) as server:
        config = ZooConfig(openai_base_url=server.base_url, openai_model="fake-model", openai_key="sk-secret-123")
        ev = evaluate(small, ["openai", "tfidf"], config)
        assert len(server.requests) == 60
        assert {k.lower(): v for k, v in server.headers[0].items()}["authorization"] == "Bearer sk-secret-123"
        assert server.requests[0]["temperature"] == 0.0
    r = ev.results[0]
    assert r.ok, r.error
    assert r.metrics.accuracy >= 0.55  # the lexicon fake scores 0.6 here
    assert r.raw[0] in ("positive", "negative")


@pytest.mark.parametrize("mode", ["401", "unreachable"])
def test_openai_errors_stay_in_their_method(small, mode):
    if mode == "unreachable":
        config = ZooConfig(openai_base_url="http://127.0.0.1:9/v1", openai_model="m", openai_key="sk-secret-123")
        results = run_methods(["openai", "zeroshot"], small, small.test_texts[:5], config)
    else:
        with FakeOpenAI(mode="401") as server:
            config = ZooConfig(openai_base_url=server.base_url, openai_model="m", openai_key="sk-secret-123")
            results = run_methods(["openai", "zeroshot"], small, small.test_texts[:5], config)
    api, other = results
    assert not api.ok and ("401" in api.error or "Could not reach" in api.error)
    assert "sk-secret-123" not in api.error
    assert other.ok and len(other.labels) == 5


def test_openai_needs_an_endpoint(small):
    (r,) = run_methods(["openai"], small, ["x"], ZooConfig())
    assert "base URL" in r.error


def test_generative_method_smollm2(small):
    texts = small.test_texts[:6]
    (r,) = run_methods(["generative"], small, texts, ZooConfig())
    assert r.ok, r.error
    assert set(r.labels) <= {"rotten", "fresh"} and len(r.labels) == 6
    assert np.allclose(r.scores.sum(axis=1), 1.0, atol=1e-4)
    assert all("calibrated" in x for x in r.raw)
    assert r.said is not None and len(r.said) == 6  # what the reply itself named, before calibration
    (raw,) = run_methods(["generative"], small, texts[:2], ZooConfig(calibrate=False))
    assert raw.ok and all(isinstance(x, str) for x in raw.raw)
    from core.generation import engine_name

    assert engine_name("chat-smollm2-135m") in raw.model  # text only: the lab's default engine


def test_every_method_has_book_info():
    assert METHOD_INFO["zeroshot"].book_f1 == 0.78 and METHOD_INFO["openai"].book_f1 == 0.91


def test_semicolon_export_with_a_quoted_line_break_is_read(tmp_path):
    """The spreadsheet export the old sniffer read as ',' (shared reader: core.uploads.read_csv)."""
    from tests.core.test_uploads import SEMICOLON_MULTILINE

    preview = cdata.preview_csv(_csv(tmp_path, SEMICOLON_MULTILINE, "export.csv"))
    assert preview.columns == ["id", "sentiment", "review"]
    assert preview.text_column == "review" and preview.label_column == "sentiment"
    data = cdata.from_frame(preview.frame, "review", "sentiment", name="export.csv", test_size=6, train_size=20)
    assert data.classes == ["negative", "positive"] and len(data.test_texts) + len(data.train_texts) == 26


def test_predictions_csv_neutralises_formulas(tmp_path):
    """Issue 17: user text, labels and replies starting with = + - @ tab CR are disarmed (core.exports)."""
    import csv as _csv

    from core.classifiers.evaluate import Evaluation, MethodResult

    hostile = ['=HYPERLINK("http://x","click")', "+1+2", "\t=cmd", "@SUM(A1)", "plain"]
    data = cdata.LabelledData("h.csv", ["a", "b"], ["-neg", "pos"], hostile, ["-neg", "pos", "-neg", "pos", "pos"],
                              ["-neg", "pos"])
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.5, 0.5]])
    res = MethodResult("zeroshot", "Zero-shot", labels=["-neg", "pos", "-neg", "pos", "pos"], scores=scores,
                       raw=["=2*3", "ok", "-x", "y", "z"])
    path = Evaluation(data, [res], 0.1).write_predictions(tmp_path)
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(_csv.reader(f))
    cells = [c for row in rows[1:] for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c.startswith("-") and not c[1:2].isdigit())]
    assert rows[1][1] == "'" + hostile[0] and rows[1][2] == "'-neg" and rows[1][4] == "0.9"
