"""RAG Chat in Chromium: upload a PDF, index it, ask, see a cited answer linked to its source."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def _pdf(path: Path) -> Path:
    from reportlab.pdfgen import canvas

    pages = [
        ["The Okapi Field Guide", "", "The okapi is a mammal that lives in the rainforests of the",
         "Democratic Republic of the Congo. It is related to the giraffe."],
        ["Diet and habits", "", "Okapis eat leaves, grasses, fruit and fungi. They are mostly",
         "active during the day and live alone."],
    ]
    c = canvas.Canvas(str(path))
    for lines in pages:
        y = 760
        for line in lines:
            c.setFont("Helvetica", 12)
            c.drawString(60, y, line)
            y -= 18
        c.showPage()
    c.save()
    return path


def test_upload_ask_cited_answer(launch: Any, page: Any, tmp_path: Path) -> None:
    from apps.rag.app import CSS, SLUG, build
    from apps.launch import standalone

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    page.goto(url)
    page.get_by_text("1 · Documents").first.wait_for()
    pdf = _pdf(tmp_path / "okapi-guide.pdf")
    page.locator("#rag-files input[type=file]").set_input_files(str(pdf))
    page.get_by_text("okapi-guide.pdf").first.wait_for(timeout=30_000)
    page.locator("#rag-status .rag-ok").wait_for(timeout=120_000)  # the upload indexes at once
    assert "Indexed 1 document(s): 2 page(s)" in page.locator("#rag-status").inner_text()
    page.locator("#rag-strategy").get_by_text("by paragraph").click()
    page.locator("#rag-index").click()  # re-chunk with the changed settings
    page.locator("#rag-status").get_by_text("paragraph", exact=False).first.wait_for(timeout=120_000)
    status = page.locator("#rag-status").inner_text()
    assert "Indexed 1 document(s): 2 page(s)" in status and "paragraph" in status
    page.locator("#rag-chunks").get_by_text("Okapis eat leaves").first.wait_for()
    screenshot(page, "rag-documents")

    page.get_by_role("tab", name="2 · Chat").click()
    # the "Try" questions come from the uploaded document, not the built-in corpus
    page.locator("#rag-try").get_by_text("okapi guide", exact=False).first.wait_for(timeout=30_000)
    assert "Interstellar" not in page.locator("#rag-try").inner_text()
    page.locator("#rag-mode").get_by_text("Dense (embeddings)").click()
    box = page.locator("#rag-question textarea")
    box.fill("What do okapis eat?")
    box.press("Enter")
    cite = page.locator("#rag-chatbot a.rag-cite").first
    cite.wait_for(timeout=240_000)
    title = cite.get_attribute("title") or ""
    assert "okapi-guide.pdf, p. 2" in title, title
    sources = page.locator("#rag-sources")
    assert "Okapis eat leaves" in sources.inner_text()
    assert "okapi-guide.pdf, p. 2" in sources.inner_text()
    cite.click()  # the link jumps to its source card
    page.wait_for_timeout(300)
    assert page.evaluate("location.hash").startswith("#rag-src-1-")
    page.locator("#rag-prompt-acc").get_by_text("Exact prompt sent to the model").click()
    page.wait_for_timeout(300)
    screenshot(page, "rag-chat")

    # extractive style: the best passage quoted with its source, no model involved
    page.locator("#rag-style").get_by_text("Extractive").click()
    box.fill("Where does the okapi live?")
    box.press("Enter")
    page.locator("#rag-chatbot a.rag-cite").nth(1).wait_for(timeout=120_000)
    page.locator("#rag-chatbot").get_by_text("— okapi-guide.pdf, p. 1").first.wait_for(timeout=30_000)
    assert "Congo" in page.locator("#rag-chatbot").inner_text()
