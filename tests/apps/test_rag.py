"""RAG Chat through its API (gradio_client): index, browse, ask with citations, refusals, compare,
evaluate, clear. One launched app per module; each Client is its own browser session."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fake_openai import FakeOpenAI

GEN = ["Local model", "chat-smollm2-135m", "", "", ""]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from gradio_client import Client

    from apps.rag.app import CSS, build
    from apps.common import configure_queue
    from apps.launch import launch_kwargs
    from tests.conftest import free_port

    blocks = build()
    configure_queue(blocks)
    blocks.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                  **launch_kwargs(CSS))
    yield lambda: Client(blocks.local_url, verbose=False, download_files=False)
    blocks.close()


def _pdf(path: Path, pages: list[str]) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    for p in pages:
        c.drawString(60, 760, p)
        c.showPage()
    c.save()
    return path


def test_api_names(app: Any) -> None:
    names = set(app().view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/rag_load_builtin", "/rag_index", "/rag_clear", "/rag_chunks", "/rag_ask", "/rag_compare",
            "/rag_evaluate"} <= names


def test_offline_model_dropdowns_say_what_runs_and_which_book_model_runs_in_hub_mode(app: Any) -> None:
    """Issue 18: one local chat model (SmolLM2-135M runs for all six offline), and the dense embedder says
    the book's bge-small runs in hub mode; its list stays closed (other sessions' embedders are refused)."""
    from tests.conftest import dropdown_props

    client = app()
    local = dropdown_props(client, "Local model")
    assert local["choices"] == [["SmolLM2-135M-Instruct (offline)", "chat-smollm2-135m"]]
    assert local["value"] == "chat-smollm2-135m" and "Phi-3-mini-4k-instruct" in local["info"]
    dense = dropdown_props(client, "Dense embedder")
    assert dense["choices"] == [["all-MiniLM-L6-v2 (offline; the book's bge-small-en-v1.5 runs in hub mode)",
                                 "embed-bge-small"]]
    assert dense["value"] == "embed-bge-small" and not dense["allow_custom_value"]
    assert "bge-small-en-v1.5 runs in hub mode" in dense["info"]


def test_builtin_ask_cite_evaluate_clear(app: Any) -> None:
    client = app()
    status, stats, _, chunks = client.predict("sentence", 2, 0, api_name="/rag_load_builtin")[:4]
    assert "Indexed 4 document(s)" in status and "30 chunks" in status
    assert [r[0] for r in stats["data"]] == ["interstellar.md", "hubble.md", "gettysburg.txt", "rag_glossary.md"]
    assert len(chunks["data"]) == 30
    found = client.predict("interstellar.md", "Kip Thorne", api_name="/rag_chunks")
    assert len(found["data"]) == 1 and "Kip Thorne" in found["data"][0][4]

    job = client.submit("how precise was the science", [], "dense", False, 3, 0.3, *GEN, 32,
                        api_name="/rag_ask")
    history, sources, prompt = job.result(timeout=300)[:3]
    answer = history[-1]["content"]
    assert (answer[0]["text"] if isinstance(answer, list) else answer).strip()  # what it says depends on the CPU
    assert "praise from many astronomers" in sources and 'id="rag-src-1-1"' in sources
    assert "<|im_start|>system" in prompt and "[1] source: interstellar.md" in prompt

    job = client.submit("What is the mass of the moon?", history, "dense", False, 3, 0.3, *GEN, 32,
                        api_name="/rag_ask")
    history, sources, prompt = job.result(timeout=120)[:3]
    last = history[-1]["content"]
    last = last[0]["text"] if isinstance(last, list) else last
    assert "I could not find this in your documents." in last and prompt == ""
    assert "under threshold" in sources and len(history) == 4
    with FakeOpenAI(reply="Astronomers praised its precision [1], see also [2].") as server:  # a model that cites
        cited = client.submit("how precise was the science", [], "dense", False, 3, 0.3, "OpenAI-compatible server",
                              "chat-smollm2-135m", server.base_url, "", "fake-model", 32, api_name="/rag_ask")
        reply = cited.result(timeout=120)[0][-1]["content"]
    reply = reply[0]["text"] if isinstance(reply, list) else reply
    assert 'class="rag-cite' in reply and reply.count('class="rag-cite"') == 2
    assert 'href="#rag-src-' in reply

    rows = {"headers": ["question", "relevant passage"],
            "data": [["Where was the film shot?", "Alberta, Iceland and Los Angeles"],
                     ["When was Hubble launched?", "launched on April 24, 1990"],
                     ["A question about nothing", "no such passage anywhere"]]}
    table, detail, note = client.predict(rows, 3, False, api_name="/rag_evaluate")[:3]
    assert [r[0] for r in table["data"]] == ["bm25", "dense", "hybrid"]
    assert table["headers"] == ["retriever", "hit@1", "hit@3", "MRR", "nDCG@10", "MAP"]
    assert "Scored 2 question(s)" in note and "skipped" in note
    assert all(0 <= v <= 1 for row in table["data"] for v in row[1:])

    cleared = client.predict(api_name="/rag_clear")
    assert "Cleared your documents" in cleared[0]
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="No documents are loaded"):
        client.submit("Anything?", [], "hybrid", False, 3, 0.3, *GEN, 16, api_name="/rag_ask").result(timeout=60)


def test_upload_pdf_and_bad_files(app: Any, tmp_path: Path) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError
    from pypdf import PdfWriter

    client = app()  # a fresh session: no documents
    good = _pdf(tmp_path / "zebra.pdf", ["Zebras have black and white stripes.", "Okapis live in the Congo."])
    (tmp_path / "empty.txt").write_bytes(b"")
    w = PdfWriter(clone_from=str(good))
    w.encrypt(user_password="pw", owner_password="o", algorithm="AES-256")
    w.write(str(tmp_path / "locked.pdf"))
    status, stats, _, chunks = client.predict(
        [handle_file(str(good)), handle_file(str(tmp_path / "empty.txt"))], "sentence", 1, 0,
        api_name="/rag_index")[:4]
    assert "Indexed 1 document(s): 2 page(s)" in status and "empty (0 bytes)" in status
    assert stats["data"][0][:5] == ["zebra.pdf", "pdf", 2, stats["data"][0][3], 2]
    assert [r[2] for r in chunks["data"]] == [1, 2]  # page numbers
    with pytest.raises(AppError, match="password-protected"):
        client.predict([handle_file(str(tmp_path / "locked.pdf"))], "sentence", 1, 0, api_name="/rag_index")
    with pytest.raises(AppError, match="smaller than the chunk size"):
        client.predict([handle_file(str(good))], "sentence", 1, 1, api_name="/rag_index")
    # re-chunk with no new files keeps the PDF and reuses nothing (new config)
    status, stats, _, chunks = client.predict([], "paragraph", 1, 0, api_name="/rag_index")[:4]
    assert "Indexed 1 document(s)" in status and len(chunks["data"]) == 2

    cells = client.submit("Where do okapis live?", False, 2, 0.2, *GEN, 16, api_name="/rag_compare").result(timeout=300)[:4]
    assert len(cells) == 4
    assert "No retrieval" in cells[0] and "BM25" in cells[1] and "Dense" in cells[2] and "Hybrid" in cells[3]
    assert all("Congo" in c for c in cells[1:]) and "Congo" not in cells[0].split("rag-answer")[0]
    assert client.predict(api_name="/rag_clear")[0].startswith('<div class="rag-ok">Cleared')


def test_rerank_offline_is_refused_with_a_reason(app: Any) -> None:
    from gradio_client.exceptions import AppError

    client = app()
    client.predict("paragraph", 1, 0, api_name="/rag_load_builtin")
    with pytest.raises(AppError, match="not available offline"):
        client.submit("Who advised?", [], "hybrid", True, 3, 0.3, *GEN, 16, api_name="/rag_ask").result(timeout=60)


def test_two_sessions_clear_only_their_own_documents(app: Any, tmp_path: Path) -> None:
    """Issue 17: one session clearing a file (and the built-in corpus) leaves the other's intact."""
    from gradio_client import handle_file

    alice, bob = app(), app()
    note = tmp_path / "okapi-notes.txt"
    note.write_text("Okapis live in the Ituri rainforest. Their tongue is long enough to clean their ears.")
    for client in (alice, bob):
        client.predict("sentence", 2, 0, api_name="/rag_load_builtin")
    assert "Cleared your documents" in alice.predict(api_name="/rag_clear")[0]
    for client in (alice, bob):
        client.predict([handle_file(str(note))], "sentence", 2, 0, api_name="/rag_index")
    cleared = alice.predict(api_name="/rag_clear")[0]
    assert "Cleared your documents" in cleared and "other sessions" in cleared
    history, sources, _, _ = bob.submit("Where do okapis live?", [], "hybrid", False, 3, 0.2, *GEN, 16,
                                        "extractive", api_name="/rag_ask").result(timeout=120)[:4]
    assert "Ituri rainforest" in sources and "no longer" not in str(history)
    # Bob's built-in corpus documents were kept too (added before the note): still answerable
    history, sources, _, _ = bob.submit("When was Hubble launched?", [], "bm25", False, 3, 0.0, *GEN, 16,
                                        "extractive", api_name="/rag_ask").result(timeout=120)[:4]
    assert "1990" in sources
    alice.predict("sentence", 2, 0, api_name="/rag_load_builtin")  # the built-in corpus is still stored
