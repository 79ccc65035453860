"""Classifier Zoo take-home: the notebook reruns TF-IDF, embeddings + LR and zero-shot on the same
split and gets the lab's metrics; the link carries an uploaded CSV; the download has provenance."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from core.classifiers import data as cdata
from core.notebooks import execute, outputs_json
from apps.classifiers import MANIFEST

METHODS = ["tfidf", "embed_lr", "zeroshot"]


def _state(**over):
    from core.classifiers.results import link_state

    desc = cdata.format_mapping(cdata.RT_DESCRIPTIONS, cdata.RT_CLASSES)
    words = cdata.format_mapping(cdata.RT_WORDS, cdata.RT_CLASSES)
    args = dict(source=cdata.BUILTIN, file=None, text_col="", label_col="", test_size=60, train_size=200,
                methods=METHODS, descriptions=desc, words=words, prompt="p", calibrate=True, base_url="",
                model="", k=8, pick="", steps=0)
    args.update(over)
    return link_state(**args)


@pytest.mark.slow
def test_notebook_reproduces_the_lab_metrics(tmp_path: Path) -> None:
    from core.classifiers import evaluate
    from core.classifiers.methods import ZooConfig
    from core.classifiers.notebook import notebook
    from core.classifiers.results import data_of

    state = _state()
    data = data_of(state)
    ev = evaluate(data, METHODS, ZooConfig(descriptions=dict(cdata.RT_DESCRIPTIONS)))
    name, content = notebook(state, data, app=MANIFEST).bundle()
    assert name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        zf.extractall(tmp_path)
    got = outputs_json(execute(str(tmp_path / "llm-lab-classifiers.ipynb"), timeout_s=180))
    for r in ev.results:
        assert r.ok, r.error
        for key, want in r.metrics.as_row().items():
            assert got[r.key][key] == pytest.approx(want, abs=1e-6), (r.key, key)


def test_link_carries_an_uploaded_csv(tmp_path: Path) -> None:
    from core.classifiers.results import data_of, upload_file

    csv = tmp_path / "mine.csv"
    rows = ["text,label"] + [f"good film number {i},pos" if i % 2 else f"bad film number {i},neg" for i in range(40)]
    csv.write_text("\n".join(rows), encoding="utf-8")
    state = _state(source="Upload a CSV", file=str(csv), text_col="text", label_col="label", test_size=10,
                   train_size=30)
    assert state["csv"].startswith("text,label") and state["csv_name"] == "mine.csv"
    restored = upload_file(state)
    assert Path(restored).read_text(encoding="utf-8") == csv.read_text(encoding="utf-8")
    assert sorted(data_of(state).classes) == ["neg", "pos"] and len(data_of(state).test_texts) == 10


def test_download_is_a_csv_with_provenance() -> None:
    from core.classifiers import evaluate
    from core.classifiers.methods import ZooConfig
    from core.classifiers.results import data_of, results
    from core.errors import LabError

    state = _state(methods=["tfidf"])
    with pytest.raises(LabError, match="Evaluate"):
        results(None, state)
    ev = evaluate(data_of(state), ["tfidf"], ZooConfig())
    name, content = results(ev, state)
    text = content.decode()
    assert name.endswith(".csv") and text.startswith("# lab: ")
    assert "# parameters:" in text and '"test_size": 60' in text and "scikit-learn" in text
    assert "\nmethod,key,model,accuracy" in text and ",tfidf," in text
