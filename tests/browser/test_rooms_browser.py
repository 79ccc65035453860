"""Workshop rooms in Chromium for RAG Chat and Topic Explorer (issue 17): the instructor creates a room
from the app's panel, opens the instructor link and shares documents / a corpus once; a participant
opens the participant link and sees the room's documents / corpus, not the instructor's controls."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def _create(page: Any, slug: str, url: str) -> tuple[str, str]:
    page.goto(url)
    page.locator(f"#{slug}-room-panel").get_by_text("Workshop room").first.click()
    page.locator(f"#{slug}-room-title input").fill("Friday workshop")
    page.locator(f"#{slug}-room-create").click()
    links = page.locator(f"#{slug}-room-links")
    links.locator(".lab-room-instructor").wait_for(timeout=30_000)
    participant = links.locator(".lab-room-participant").inner_text().strip()
    instructor = links.locator(".lab-room-instructor").inner_text().strip()
    assert "?room=" in participant and instructor.startswith(participant + "&key=")  # the page's own path (/{slug} in the lab)
    return participant, instructor


def test_rag_room_flow(launch: Any, page: Any, browser: Any) -> None:
    from apps.launch import standalone
    from apps.rag.app import CSS, SLUG, build

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    participant, instructor = _create(page, "rag", url)
    page.goto(instructor)
    page.locator("#rag-room-banner").get_by_text("instructor").first.wait_for(timeout=30_000)
    page.locator("#rag-builtin").click()
    page.locator("#rag-status .rag-ok").wait_for(timeout=180_000)
    screenshot(page, "rag-room-instructor")
    other = browser.new_page()
    try:
        other.goto(participant)
        other.locator("#rag-room-banner").get_by_text("participant").first.wait_for(timeout=30_000)
        assert "interstellar.md" in other.locator("#rag-room-banner").inner_text()
        other.locator("#rag-status .rag-ok").wait_for(timeout=120_000)  # the room's documents, already indexed
        assert "Indexed 4 document(s)" in other.locator("#rag-status").inner_text()
        assert not other.locator("#rag-room-panel").is_visible()  # no room creation inside a room
        other.locator("#rag-clear").click()  # clears only the participant's own (none): the room keeps its documents
        other.locator("#rag-status").get_by_text("No documents were loaded").wait_for(timeout=30_000)
        other.reload()
        other.locator("#rag-status .rag-ok").wait_for(timeout=120_000)
        screenshot(other, "rag-room-participant")
    finally:
        other.close()


def test_topics_room_flow(launch: Any, page: Any, browser: Any) -> None:
    from apps.launch import standalone
    from apps.topics.app import CSS, SLUG, build

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    participant, instructor = _create(page, "topics", url)
    page.goto(instructor)
    page.locator("#topics-room-banner").get_by_text("no corpus shared yet").first.wait_for(timeout=30_000)
    page.locator("#topics-room-share").click()  # the preselected small sample
    page.locator("#topics-room-note").get_by_text("Shared with room").wait_for(timeout=30_000)
    other = browser.new_page()
    try:
        other.goto(participant)
        other.locator("#topics-room-banner").get_by_text("participant").first.wait_for(timeout=30_000)
        source = other.locator("#topics-source")
        source.get_by_text("Room corpus").first.wait_for(timeout=30_000)
        assert "Upload a CSV file" not in source.inner_text()  # participants see only the room's corpus
        assert not other.locator("#topics-room-share").is_visible()
        other.get_by_text("239", exact=False).first.wait_for(timeout=60_000)  # the preview of the shared sample
        screenshot(other, "topics-room-participant")
    finally:
        other.close()
