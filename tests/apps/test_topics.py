"""Topic Explorer through its HTTP API (gradio_client), on the small sample CSV."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from gradio_client import handle_file

from core.topics.data import SAMPLE_CSV

#: text, time, class columns, then the pipeline controls in the order of ``topics_run``
SETTINGS = ["embed-gte-small", 15, 5, 0.0, "cosine", 42, 8, 0, "leaf", "english", 1, 1, "c-tf-idf", 0.3]


@pytest.fixture(scope="module")
def app() -> Any:
    from gradio_client import Client

    from apps.common import configure_queue
    from apps.launch import launch_kwargs
    from apps.topics.app import CSS, build
    from tests.conftest import free_port

    demo = build()
    configure_queue(demo)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                **launch_kwargs(CSS))
    client = Client(demo.local_url, verbose=False, download_files=False)
    yield client
    demo.close()


def _run(client: Any, *, text: str = "text", time: str = "date", cls: str = "source", **changes: Any) -> tuple:
    settings = list(SETTINGS)
    if "min_cluster_size" in changes:
        settings[6] = changes["min_cluster_size"]
    return client.predict(text, time, cls, *settings, api_name="/topics_run")


def test_api_endpoints_are_named(app: Any) -> None:
    names = set(app.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/topics_load", "/topics_run", "/topics_views", "/topics_search", "/topics_outliers",
            "/topics_stability", "/topics_rename", "/topics_merge", "/topics_label", "/topics_export"} <= names


def test_bad_uploads_get_clear_messages(app: Any, tmp_path: Path) -> None:
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("a,b\n" + "\n".join(f"{i},{i * 2}" for i in range(50)))
    with pytest.raises(Exception, match="no column with text"):
        app.predict("upload", handle_file(str(numbers)), api_name="/topics_load")
    # "Upload a CSV file" without a file after a corpus was loaded: the table is cleared, and Find
    # topics is refused at once (it used to run silently on the previous/default corpus)
    app.predict("sample", None, api_name="/topics_load")
    *_, prompt = app.predict("upload", None, api_name="/topics_load")
    assert "Choose a CSV file" in prompt
    t0 = time.perf_counter()
    with pytest.raises(Exception, match="Upload a CSV file first"):
        _run(app)
    assert time.perf_counter() - t0 < 5  # refused before any embedding (was: a silent 3,824-article run)
    with pytest.raises(Exception, match="Run the topic model first"):
        app.predict("query", api_name="/topics_search")


def test_upload_run_and_everything_after(app: Any, tmp_path: Path) -> None:
    text_col, time_col, class_col, preview = app.predict("upload", handle_file(str(SAMPLE_CSV)), api_name="/topics_load")
    assert [d["value"] for d in (text_col, time_col, class_col)] == ["text", "date", "source"]
    assert ["title", "title"] in text_col["choices"]
    assert "usable documents" in preview and "239" in preview
    assert "A first run takes about" in preview  # the time estimate, before any run
    # too few documents for the settings: a clear message, nothing shown as a result
    with pytest.raises(Exception, match="at least 400 documents"):
        _run(app, min_cluster_size=200)
    summary, doc_map, table, bars, status = _run(app)
    assert "topics" in summary and "outliers" in summary
    rows = table["data"]
    assert len(rows) >= 3 and rows[0][0] in (-1, 0)
    assert sum(r[1] for r in rows) == 239
    assert doc_map is not None and bars is not None
    heat, tree, over_time, per_class = app.predict(api_name="/topics_views")
    assert all(v is not None for v in (heat, tree, over_time, per_class))

    found = app.predict("president trump", api_name="/topics_search")
    assert len(found["data"]) == 5

    # re-cluster with other HDBSCAN settings reuses the embeddings
    summary2, *_ = _run(app, min_cluster_size=10)
    assert "cached embeddings" in summary2

    report, summary3, *_ = app.predict("c-tf-idf", 0.1, True, 2, api_name="/topics_outliers")
    assert "→" in report and "target 2 %" in report

    stab, _ = app.predict(api_name="/topics_stability")
    assert "adjusted Rand index" in stab

    _, _, table2, _ = app.predict(0, "Politics", api_name="/topics_rename")
    assert any(r[3] == "Politics" for r in table2["data"])
    n_before = len(table2["data"])
    _, _, table3, _ = app.predict("0, 1", api_name="/topics_merge")
    assert len(table3["data"]) == n_before - 1

    from tests.fake_openai import FakeOpenAI

    with FakeOpenAI(reply="World news") as server:
        _, _, table4, _, _ = app.predict("OpenAI-compatible server", server.base_url, "fake-model", "sk-test-key", 2,
                                      api_name="/topics_label")
    assert [r[3] for r in table4["data"] if r[0] in (0, 1)] == ["World news", "World news"]
    assert "sk-test-key" not in str(table4)

    files = app.predict(api_name="/topics_export")
    names = sorted(Path(f["path"] if isinstance(f, dict) else f).name for f in files)
    assert names == ["bertopic_model.zip", "documents_topics.csv", "topics.csv"]


def test_cancelled_fit_frees_its_slot_within_two_seconds(app: Any) -> None:
    """A long fit (the 3,824 news articles) cancelled through gradio_client (job.cancel()) leaves the
    shared pool at once: the next participant's queued fit starts within 2 s, the first one's thread ends."""
    import threading

    from gradio_client import Client

    from core import jobs

    old = jobs._POOL
    jobs._POOL = jobs.ModelPool(1)  # one slot: the second fit must wait for the first
    try:
        other = Client(app.src, verbose=False, download_files=False)  # another participant
        app.predict("news", None, api_name="/topics_load")
        other.predict("upload", handle_file(str(SAMPLE_CSV)), api_name="/topics_load")
        first = app.submit("text", "publish_date", "source", *SETTINGS, api_name="/topics_run")
        deadline = time.monotonic() + 60
        while not jobs.pool().snapshot()["running"] and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2.0)  # embedding the articles now
        second = other.submit("text", "date", "source", *SETTINGS, api_name="/topics_run")
        while jobs.pool().snapshot()["waiting"] < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert jobs.pool().snapshot()["waiting"] == 1
        t0 = time.monotonic()
        first.cancel()
        while jobs.pool().snapshot()["waiting"] and time.monotonic() - t0 < 5:
            time.sleep(0.05)
        freed = time.monotonic() - t0
        assert freed < 2.0, f"the next fit started {freed:.1f} s after the cancel"
        summary, *_ = second.result(timeout=300)
        assert "topics" in summary
        t1 = time.monotonic()  # the cancelled fit's thread stops at its next batch
        while any(t.name == "job-topics-fit" for t in threading.enumerate()) and time.monotonic() - t1 < 60:
            time.sleep(0.1)
        assert not any(t.name == "job-topics-fit" for t in threading.enumerate())
        assert jobs.pool().snapshot()["running"] == []
    finally:
        jobs._POOL = old


def test_offline_model_dropdowns_list_what_runs_and_take_every_catalogue_name(app: Any) -> None:
    """Offline every embedder runs all-MiniLM-L6-v2 and every chat model SmolLM2-135M: one choice each,
    under the name the app already used (issue 18); API callers may still pass any catalogue name."""
    from tests.conftest import dropdown_props

    embed = dropdown_props(app, "Embedding model")
    assert embed["choices"] == [["all-MiniLM-L6-v2 (offline; the book's gte-small runs in hub mode)",
                                 "embed-gte-small"]]
    assert embed["value"] == "embed-gte-small" and embed["allow_custom_value"]
    assert all(book in embed["info"] for book in ("gte-small", "all-mpnet-base-v2", "bge-small-en-v1.5", "hub mode"))
    labeller = dropdown_props(app, "Local model")
    assert [name for _, name in labeller["choices"]] == ["chat-qwen2.5-0.5b"] == [labeller["value"]]
    assert "SmolLM2-135M-Instruct" in labeller["choices"][0][0] and "Phi-3-mini-4k-instruct" in labeller["info"]
    app.predict("upload", handle_file(str(SAMPLE_CSV)), api_name="/topics_load")
    with pytest.raises(Exception, match="embedding model must be one of"):
        app.predict("text", "date", "source", "chat-phi3-mini", *SETTINGS[1:], api_name="/topics_run")
    summary, *_ = app.predict("text", "date", "source", "embed-mpnet", *SETTINGS[1:], api_name="/topics_run")
    assert "topics" in summary  # a name no longer listed still runs (the same MiniLM here)


def test_hub_mode_lists_every_model() -> None:
    import gradio as gr

    from apps.topics.app import build
    from core.settings import override_settings

    with override_settings(mode="hub"):
        demo = build()
    dropdowns = {b.label: b for b in demo.blocks.values() if isinstance(b, gr.Dropdown)}
    embed, labeller = dropdowns["Embedding model"], dropdowns["Local model"]
    assert embed.choices == [("all-MiniLM-L6-v2", "embed-minilm"), ("all-mpnet-base-v2", "embed-mpnet"),
                             ("gte-small", "embed-gte-small"), ("bge-small-en-v1.5", "embed-bge-small")]
    assert embed.value == "embed-gte-small" and not embed.allow_custom_value and not embed.info
    assert len(labeller.choices) == 6 and labeller.value == "chat-qwen2.5-0.5b" and not labeller.allow_custom_value
