"""Topic Explorer take-home: the notebook fits BERTopic with the same settings and seed and finds the
lab's topic count and assignments; links round-trip every knob (and an uploaded CSV); the download
carries provenance."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from core.notebooks import execute, outputs_json
from core.topics.config import TopicConfig
from apps.topics import MANIFEST


@pytest.mark.slow
def test_notebook_reproduces_topics_and_assignments(tmp_path: Path) -> None:
    from core.topics.notebook import notebook
    from core.topics.pipeline import fit_topics
    from core.topics.results import config_of, corpus_of, link_state, results

    config = TopicConfig(min_cluster_size=8, n_neighbors=10, seed=7)
    state = link_state("sample", None, "", "", "", config)
    assert config_of(state) == config
    corpus = corpus_of(state)
    run = fit_topics(corpus, config)
    name, content = notebook(state, corpus, config, run.embeddings, app=MANIFEST).bundle()
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        zf.extractall(tmp_path)
    got = outputs_json(execute(str(tmp_path / "llm-lab-topics.ipynb"), timeout_s=180))
    assert got["n_topics"] == run.n_topics
    assert got["topics"] == run.topics
    assert got["embed_diff"] < 1e-4  # its own vectors are the same up to float noise

    rname, blob = results(run, state)
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        assert sorted(zf.namelist()) == ["documents_topics.csv", "provenance.json", "topics.csv"]
        text = zf.read("topics.csv").decode()
    assert text.startswith("# lab: ") and '"min_cluster_size": 8' in text and '"seed": 7' in text


def test_link_state_round_trips_knobs_and_upload(tmp_path: Path) -> None:
    import urllib.parse

    from core.links import make_link, open_link
    from core.topics.results import config_of, link_state, upload_file

    config = TopicConfig(embedding_model="embed-minilm", n_neighbors=20, min_dist=0.1, representation="mmr",
                         diversity=0.5, stop_words="none", ngram_max=2, cluster_selection="leaf", min_samples=3)
    small = make_link("topics", link_state("news", None, "text", "publish_date", "(none)", config))
    assert small.expires is None
    state = open_link("topics", dict(urllib.parse.parse_qsl(small.query)))
    assert config_of(state) == config and state["time"] == "publish_date" and "cls" not in state

    csv = tmp_path / "c.csv"
    csv.write_text("text\n" + "\n".join(f"document number {i} about things" for i in range(200)), encoding="utf-8")
    big = make_link("topics", link_state("upload", str(csv), "text", "", "", config))
    assert big.expires is not None
    back = open_link("topics", dict(urllib.parse.parse_qsl(big.query)))
    assert Path(upload_file(back)).read_text(encoding="utf-8") == csv.read_text(encoding="utf-8")


def test_bad_link_settings_get_a_clear_message() -> None:
    from core.errors import LabError
    from core.topics.results import config_of

    with pytest.raises(LabError, match="n_neighbors"):
        config_of({"nn": "1"})
