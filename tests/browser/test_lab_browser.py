"""The lab in real chromium: home cards are links, every app opens at its own URL (and only its own
components are on that page), a Tokenizer Arena share link and an arena room link open their state."""
import urllib.parse

import pytest

from apps import manifests
from apps.lab import build_lab
from tests.conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab_url(browser):
    from tests.conftest import serve_blocks

    lab, css = build_lab()
    server = serve_blocks(lab, css)
    next(server)
    yield lab.local_url
    server.close()


def test_home_cards_link_to_each_app_page(lab_url, page):
    page.goto(lab_url, wait_until="domcontentloaded")
    page.get_by_text("LLM Lab", exact=True).first.wait_for(timeout=30_000)
    assert page.get_by_text("offline models").first.is_visible()
    screenshot(page, "lab-home")
    for app in manifests():
        card = page.locator(f"#open-{app.slug}")
        assert card.get_attribute("href") == app.slug
    page.locator("#open-arena").click()
    page.wait_for_url("**/arena", timeout=30_000)
    page.get_by_role("heading", name="Pairwise Eval Arena").first.wait_for(timeout=30_000)
    assert page.evaluate("window.scrollY") == 0  # a new page, not the home page's scroll


def test_every_app_opens_at_its_own_url(lab_url, page):
    for app in manifests():
        page.goto(f"{lab_url}{app.slug}", wait_until="domcontentloaded")
        page.get_by_role("heading", name=app.title).first.wait_for(timeout=60_000)
        others = [a.title for a in manifests() if a.slug != app.slug]
        headings = page.locator(".lab-app-title h2").all_inner_texts()
        assert not any(t in h for h in headings for t in others), headings
        screenshot(page, f"lab-page-{app.slug}", full_page=False)


def test_tokenizer_share_link_opens_the_arena_with_its_text(lab_url, page):
    text = "Share links keep this sentence"
    page.goto(f"{lab_url}tokenizers?text={urllib.parse.quote(text)}", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Tokenizer Arena").first.wait_for(timeout=60_000)
    page.wait_for_function("t => [...document.querySelectorAll('textarea')].some(a => a.value === t)",
                           arg=text, timeout=60_000)


def test_arena_room_link_opens_that_room(lab_url, page):
    page.goto(f"{lab_url}arena?room=NOSUCHROOM", wait_until="domcontentloaded")
    page.get_by_role("heading", name="Pairwise Eval Arena").first.wait_for(timeout=60_000)
    page.get_by_text("NOSUCHROOM").first.wait_for(timeout=60_000)  # named: opened, or refused clearly
