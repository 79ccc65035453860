"""The embedder a browser trained in the Classifier Zoo becomes a choice of RAG Chat (and only there,
for that browser): trained here for 2 steps on a tiny slice, kept under the browser's lab id as the
Zoo keeps it, then listed, chosen and used for indexing and questions through RAG Chat's API."""
from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from core.training.session_models import LABEL


def _train_tiny(tmp_path: Path, lab_id: str) -> str:
    """2 MNR steps of a tiny SentenceTransformer on a tiny slice, kept as ``lab_id``'s embedder."""
    from core.training import artifacts, session_models
    from core.training import data as D
    from core.training.embedder import train_embedder
    from tests.core.training.tiny import tiny_sentence_transformer

    pos, neg = [f"great wonderful {w}" for w in "abcdefgh"], [f"awful terrible {w}" for w in "abcdefgh"]
    pairs = D.labelled_pairs(pos + neg, ["pos"] * 8 + ["neg"] * 8, n_train=8, n_eval=4, seed=1)
    run = train_embedder(pairs, base=str(tiny_sentence_transformer(tmp_path)), steps=2, lr=1e-3, batch=4)
    assert run.steps == 2
    artifacts.keep(lab_id, "embedder", artifacts.new_folder("embedder"), {}, model=run.model)
    return session_models.model_name(lab_id)


def _names(update: Any) -> dict[str, str]:
    return {label: value for label, value in update["choices"]}


def test_trained_embedder_is_offered_chosen_and_indexes(launch: Any, tmp_path: Path) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from apps.rag.app import CSS, build
    from core.cache import budget_cache
    from core.rag.models import EMBEDDER

    client, url = launch(build(), CSS)
    lab_id = uuid.uuid4().hex
    assert client.predict(lab_id, api_name="/rag_lab_session") == lab_id  # the page load's binding
    assert LABEL not in _names(client.predict(EMBEDDER, api_name="/rag_embedders"))  # nothing trained yet

    name = _train_tiny(tmp_path, lab_id)
    offered = _names(client.predict(EMBEDDER, api_name="/rag_embedders"))
    assert offered[LABEL] == name and EMBEDDER in offered.values()
    status = client.predict(name, "sentence", 2, 0, api_name="/rag_embedder")[0]
    assert "once documents are loaded" in status and LABEL in status
    status = client.predict("sentence", 2, 0, api_name="/rag_load_builtin")[0]
    assert "Indexed 4 document(s)" in status and LABEL in status
    used = [k for k in budget_cache("rag.collections").keys() if k[2] == name]
    assert used and budget_cache("rag.collections").get(used[0]).embeddings.shape[1] == 32  # the tiny model
    history, sources = client.predict("What went wrong with Hubble's mirror?", [], "dense", False, 3, 0.0,
                                      "Local model", "chat-smollm2-135m", "", "", "", 32, "extractive",
                                      api_name="/rag_ask")[:2]
    assert 'class="rag-src' in sources
    question = hashlib.sha1("What went wrong with Hubble's mirror?".encode()).hexdigest()
    assert any(k[0].startswith(name) and k[1] == question for k in budget_cache("embeddings").keys())  # its query

    other = Client(url, verbose=False, download_files=False)  # another browser: not offered, refused
    assert LABEL not in _names(other.predict(EMBEDDER, api_name="/rag_embedders"))
    with pytest.raises(AppError, match="not in the list of choices"):  # its dropdown never offered it
        other.predict(name, "sentence", 2, 0, api_name="/rag_embedder")

    newer = _train_tiny(tmp_path / "again", lab_id)  # the Zoo trains again: the old choice says so
    assert newer != name
    with pytest.raises(AppError, match="newer"):
        client.predict("What went wrong with Hubble's mirror?", [], "dense", False, 3, 0.0, "Local model",
                       "chat-smollm2-135m", "", "", "", 32, "extractive", api_name="/rag_ask")
    assert _names(client.predict(name, api_name="/rag_embedders"))[LABEL] == newer


def test_topic_explorer_lists_it_for_that_browser_only(launch: Any, tmp_path: Path) -> None:
    from gradio_client import Client

    from apps.topics.app import CSS, build

    client, url = launch(build(), CSS)
    lab_id = uuid.uuid4().hex
    client.predict(lab_id, api_name="/topics_lab_session")
    name = _train_tiny(tmp_path, lab_id)
    update = client.predict("embed-gte-small", api_name="/topics_embedders")
    assert _names(update)[LABEL] == name and update["value"] == "embed-gte-small"  # offered, not forced
    other = Client(url, verbose=False, download_files=False)
    assert LABEL not in _names(other.predict("embed-gte-small", api_name="/topics_embedders"))


def test_zoo_training_runs_open_as_notebooks(launch: Any) -> None:
    import json
    import zipfile

    from apps.classifiers.app import CSS, build

    client, _ = launch(build(), CSS)
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/classifiers_lab_session", "/classifiers_embedder_notebook", "/classifiers_finetune_notebook"} <= names
    from core.classifiers.data import BUILTIN

    zoo = [BUILTIN, None, "", "", 30, 80]  # the zoo's built-in data, a small split
    for api, data, args in (("/classifiers_embedder_notebook", "data/pairs.json",
                             ["Built-in Rotten Tomatoes (same-label pairs)", *zoo, 10, "5e-5", 16]),
                            ("/classifiers_finetune_notebook", "data/split.json", [*zoo, 2, False, 10, "2e-4", False])):
        out = client.predict(*args, api_name=api)[0]
        out = out.get("value", out) if isinstance(out, dict) else out  # a visible-file update
        path = out.get("path") if isinstance(out, dict) else out
        with zipfile.ZipFile(path) as zf:
            nb = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith(".ipynb"))))
            assert data in zf.namelist()
        assert "LAB_RESULT" in json.dumps(nb)
