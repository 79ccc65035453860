"""Topic Explorer pipeline on a small built-in slice: one fitted model shared by the module.

Health tweets are short, so embedding 300 of them is quick; numba's JIT is paid once per process.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from core.errors import LabError
from core.topics import (
    config,
    edit,
    embed,
    export,
    figures,
    outliers,
    pipeline,
    runs,
    stability,
    warmup,
)
from core.topics import labels as topic_labels
from core.topics.data import load_builtin, prepare

N_DOCS = 300
CONFIG = config.TopicConfig(min_cluster_size=8, cluster_selection="leaf", seed=42)


@pytest.fixture(scope="module")
def corpus() -> Any:
    table = load_builtin("healthtweets", limit=N_DOCS, seed=3)
    return prepare(table, table.text_column, table.time_column, table.class_column)


@pytest.fixture(scope="module")
def emb_store(tmp_path_factory: pytest.TempPathFactory) -> embed.EmbeddingStore:
    return embed.EmbeddingStore(tmp_path_factory.mktemp("topics-emb"))


@pytest.fixture(scope="module")
def run(corpus: Any, emb_store: embed.EmbeddingStore) -> runs.TopicRun:
    seen: list[float] = []
    result = pipeline.fit_topics(corpus, CONFIG, embeddings_store=emb_store, progress=lambda f, d: seen.append(f))
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    return result


def _fresh(corpus: Any, emb_store: embed.EmbeddingStore, **changes: Any) -> runs.TopicRun:
    return pipeline.fit_topics(corpus, config.TopicConfig(**{**CONFIG.__dict__, **changes}), embeddings_store=emb_store)


def test_topics_are_found_and_every_document_has_one(run: runs.TopicRun, corpus: Any) -> None:
    assert run.embedding_source == "computed"
    assert run.embeddings.shape == (len(corpus), 384)
    assert len(run.topics) == len(corpus) == run.coords.shape[0]
    assert run.n_topics >= 5  # measured: 9 (seeds 42, 43) on this slice
    assert set(run.topics) <= set(range(-1, run.n_topics))
    assert 0.0 <= run.outlier_share < 0.7
    table = run.topic_table()
    assert table["Size"].sum() == len(corpus)
    assert list(table.columns) == ["Topic", "Size", "Share %", "Label", "Top words", "Representative document"]
    # stop words removed: labels are not "the_of_and"
    top = " ".join(table[table.Topic != -1]["Top words"].head(5))
    assert not {"the", "of", "and", "to"} & set(top.replace(",", " ").split())


def test_recluster_reuses_embeddings_without_calling_the_embedder(
        run: runs.TopicRun, corpus: Any, emb_store: embed.EmbeddingStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: Any, **k: Any) -> Any:
        raise AssertionError("the documents were embedded again")

    st = embed.embedder(CONFIG.embedding_model)
    calls: list[int] = []
    original = st.encode
    from core import embeddings

    monkeypatch.setattr(embeddings, "_encode_chunk", boom)
    monkeypatch.setattr(st, "encode", lambda *a, **k: calls.append(1) or original(*a, **k))
    again = _fresh(corpus, emb_store, min_cluster_size=12, cluster_selection="eom")
    assert again.embedding_source == "memory" and emb_store.computed == 1
    assert calls == []  # c-TF-IDF representation: the embedding model is not used at all
    assert len(again.topics) == len(corpus)
    # a new store over the same folder finds the embeddings on disk
    embeddings.clear()  # forget the vectors in memory
    monkeypatch.undo()
    disk = embed.EmbeddingStore(emb_store.directory)
    emb, source = disk.get(corpus, CONFIG.embedding_model)
    assert source == "disk" and (emb == run.embeddings).all()


def test_same_seed_reproduces_and_umap_is_cached(run: runs.TopicRun, corpus: Any, emb_store: embed.EmbeddingStore) -> None:
    again = _fresh(corpus, emb_store)
    assert again.model.umap_model.from_cache
    assert again.topics == run.topics


def test_representations(run: runs.TopicRun, corpus: Any, emb_store: embed.EmbeddingStore) -> None:
    mmr = _fresh(corpus, emb_store, representation="mmr", diversity=0.6)
    keybert = _fresh(corpus, emb_store, representation="keybert")
    assert mmr.topics == run.topics == keybert.topics  # only the words change
    t = next(t for t in sorted(set(run.topics)) if t != -1)
    assert mmr.words(t) and keybert.words(t)
    assert mmr.words(t) != run.words(t) or keybert.words(t) != run.words(t)


def test_reduce_outliers_hits_the_target(corpus: Any, emb_store: embed.EmbeddingStore) -> None:
    fresh = _fresh(corpus, emb_store)
    before = fresh.outlier_share * 100
    target = max(0.0, round(before / 3))
    report = outliers.reduce_outliers(fresh, "embeddings", target_pct=target)
    assert report.after_pct <= target + 0.5
    assert report.after_pct >= target - 8  # the bisection keeps as many outliers as the target allows
    assert fresh.outlier_share * 100 == pytest.approx(report.after_pct)
    assert fresh.topic_table()["Size"].sum() == len(corpus)
    with pytest.raises(LabError, match="already"):
        outliers.reduce_outliers(fresh, "c-tf-idf", target_pct=90)
    outliers.reduce_outliers(fresh, "embeddings", threshold=0.0)  # threshold 0: every outlier is reassigned
    assert fresh.outliers == 0
    with pytest.raises(LabError, match="no outliers"):
        outliers.reduce_outliers(fresh, "c-tf-idf")


def test_stability_with_three_seeds(run: runs.TopicRun) -> None:
    rep = stability.stability(run)
    assert rep.seeds == (42, 43, 44) and len(rep.pairs) == 3
    assert all(-1.0 <= ari <= 1.0 for _, _, ari in rep.pairs)
    assert rep.n_topics[0] == run.n_topics
    same = stability.stability(run, seeds=(42, 42))
    assert same.pairs[0][2] == pytest.approx(1.0)
    from apps.topics.views import stability_html
    assert "adjusted Rand" in stability_html(rep)


def test_find_merge_rename(corpus: Any, emb_store: embed.EmbeddingStore) -> None:
    fresh = _fresh(corpus, emb_store)
    found = edit.find(fresh, "ebola outbreak")
    assert len(found) == 5 and found["Similarity"].is_monotonic_decreasing
    assert "ebola" in " ".join(found["Top words"].head(2))
    with pytest.raises(LabError, match="Type a few words"):
        edit.find(fresh, "  ")
    n = fresh.n_topics
    edit.merge(fresh, [0, 1])
    assert fresh.n_topics == n - 1 and len(fresh.topics) == len(corpus)
    with pytest.raises(LabError, match="no topic 999"):
        edit.merge(fresh, [0, 999])
    edit.rename(fresh, 0, "  My   favourite topic ")
    assert fresh.label(0) == "My favourite topic"
    assert fresh.model.custom_labels_[1] == "My favourite topic"  # index 0 is -1 (outliers)
    assert edit.parse_ids("1, 2;3") == [1, 2, 3]


def test_llm_labels_through_an_openai_compatible_backend(corpus: Any, emb_store: embed.EmbeddingStore) -> None:
    from core.generation import OpenAIBackend
    from tests.fake_openai import FakeOpenAI

    fresh = _fresh(corpus, emb_store)
    with FakeOpenAI(reply='Topic: "Public health news".') as server:
        labels = topic_labels.llm_labels(fresh, OpenAIBackend(server.base_url, "fake-model", api_key="sk-secret"), max_topics=3)
        prompt = server.requests[0]["messages"][-1]["content"]
    assert list(labels) == [0, 1, 2] and set(labels.values()) == {"Public health news"}
    assert "The topic is described by the following keywords" in prompt
    assert fresh.label(0) == "Public health news" and fresh.label(3) != "Public health news"


def test_exports_round_trip(run: runs.TopicRun, corpus: Any, tmp_path: Path) -> None:
    table = pd.read_csv(export.export_topic_table(run, tmp_path), encoding="utf-8-sig")
    assert table["Topic"].tolist() == run.topic_table()["Topic"].tolist()
    assert table["Size"].sum() == len(corpus)
    from core.exports import safe_cell

    docs = pd.read_csv(export.export_documents(run, tmp_path), keep_default_na=False, encoding="utf-8-sig")
    assert docs["topic"].tolist() == run.topics and docs["document"].tolist() == [safe_cell(d) for d in corpus.docs]
    assert {"timestamp", "class"} <= set(docs.columns)
    loaded = export.load_model(export.export_model(run, tmp_path))
    assert loaded.get_topic_info()["Topic"].tolist() == run.model.get_topic_info()["Topic"].tolist()
    assert [(w, pytest.approx(float(v))) for w, v in loaded.get_topic(0)] == \
        [(w, float(v)) for w, v in run.model.get_topic(0)]
    assert loaded.find_topics("vaccine", top_n=2)[0] == run.model.find_topics("vaccine", top_n=2)[0]


def test_views_draw(run: runs.TopicRun) -> None:
    fig = figures.document_map(run)
    names = [t.name for t in fig.data]
    assert names[0].startswith("Outliers") and fig.data[0].marker.color == figures.OUTLIER_GREY
    assert len(fig.data) == run.n_topics + (1 if run.outliers else 0)
    assert sum(len(t.x) for t in fig.data) == len(run.topics)
    for fn in (figures.barchart, figures.heatmap, figures.hierarchy, figures.over_time, figures.per_class):
        out = figures.safe(fn, run)
        assert out.data, fn.__name__  # a real chart, not a message
    from apps.topics.views import summary_html
    assert "outliers" in summary_html(run)
    assert figures.safe(figures.heatmap, None).layout.annotations


def test_too_few_documents_and_impossible_settings(corpus: Any, emb_store: embed.EmbeddingStore) -> None:
    with pytest.raises(LabError, match="at least 400 documents"):
        _fresh(corpus, emb_store, min_cluster_size=200)
    assert len(corpus) < 400
    with pytest.raises(LabError, match="no topics|min_df|No words"):
        _fresh(corpus, emb_store, min_df=100, min_cluster_size=150)


def test_numba_warm_up_is_once() -> None:
    warmup.warm_numba()
    assert warmup.warm_numba() == 0.0


def test_mmr_candidate_words_are_embedded_once(corpus: Any, emb_store: embed.EmbeddingStore) -> None:
    from core import embeddings

    first = _fresh(corpus, emb_store, representation="mmr", diversity=0.5)
    before = embeddings.stats["encoded"]
    again = _fresh(corpus, emb_store, representation="mmr", diversity=0.5)
    assert embeddings.stats["encoded"] == before  # the re-cluster embeds no word (and no document) again
    assert again.topics == first.topics and again.words(0) == first.words(0)


def test_a_fit_stops_between_embedding_batches_and_reports_progress(corpus: Any, tmp_path: Path) -> None:
    import threading
    import time

    from core import embeddings, jobs

    embeddings.clear()  # the documents must really be embedded
    job = jobs.Job("topics", "fit")
    outcome: list[Any] = []

    def work() -> None:
        with jobs.running(job):
            try:
                pipeline.fit_topics(corpus, CONFIG, embeddings_store=embed.EmbeddingStore(tmp_path))
                outcome.append("finished")
            except jobs.Stopped as exc:
                outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    deadline = time.monotonic() + 60
    while "embedding" not in job.text.lower() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "embedding" in job.text.lower() and job.fraction is not None
    t0 = time.monotonic()
    job.stop("stopped by you")
    thread.join(10)
    assert outcome and isinstance(outcome[0], jobs.Stopped)
    assert time.monotonic() - t0 < 3.0  # one batch of 32 documents at most


def test_topic_exports_neutralise_spreadsheet_formulas(tmp_path: Path) -> None:
    from core.topics.export import _write_frame

    frame = pd.DataFrame({"document": ["=HYPERLINK(\"http://x\")", "\t=1+1", "-2 degrees", "plain"],
                          "topic": [0, 1, -1, 2]})
    path = tmp_path / "t.csv"
    _write_frame(path, frame)
    back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    assert back["document"].tolist() == ["'=HYPERLINK(\"http://x\")", "'\t=1+1", "'-2 degrees", "plain"]
    assert back["topic"].tolist() == [0, 1, -1, 2]  # numbers stay numbers
