"""Take it home (issue 19) in a real browser: a link made with an app's own "🔗 Copy link" button,
opened in a fresh browser context, finds the same state (Tokenizer Arena, Classifier Zoo, Topic
Explorer, arena); expired and malformed links get a clear message in the take-home row, never a
traceback. (Prompt Lab, RAG Chat and the Multimodal Captioner: test_takehome_more_browser.py.)"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import screenshot

pytestmark = pytest.mark.browser

LINK_JS = ("() => [...document.querySelectorAll('.lab-takehome textarea, .lab-takehome input')].map(e => e.value)"
           ".find(v => v && v.includes('?'))")


def copy_link(page: Any, url: str) -> str:
    page.get_by_role("button", name="🔗 Copy link").click()
    page.wait_for_function(f"() => !!({LINK_JS})()", timeout=60_000)
    link = page.evaluate(LINK_JS)
    assert link.split("?")[0].rstrip("/") == url.rstrip("/"), link
    return link


def fresh(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()


def row_message(page: Any) -> str:
    return page.locator(".lab-takehome").first.inner_text()


def test_tokenizers_link_restores_text_tokenizers_ids_and_tab(launch, page, browser) -> None:
    from apps.launch import standalone
    from apps.tokenizers.app import CSS, SLUG, build

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    page.goto(url + "?tok=gpt2,gpt-4&text=take+it+home", wait_until="domcontentloaded")
    page.wait_for_function("document.querySelectorAll('.tokenizers-arena .tokenizers-col').length === 2",
                           timeout=90_000)
    page.locator("#tokenizers-ids input").check()
    page.get_by_role("tab", name="Decode ids").click()
    link = copy_link(page, url)
    assert "tok=gpt2%2Cgpt-4" in link and "ids=1" in link and "tab=decode" in link

    other = fresh(browser)
    other.goto(link, wait_until="domcontentloaded")
    other.wait_for_function("document.querySelectorAll('.tokenizers-arena .tokenizers-col').length === 2",
                            timeout=90_000)
    assert other.locator("#tokenizers-text textarea").input_value() == "take it home"
    assert other.locator("#tokenizers-ids input").is_checked()
    assert other.get_by_role("tab", name="Decode ids").get_attribute("aria-selected") == "true"
    screenshot(other, "takehome-tokenizers-restored")
    other.context.close()

    # a long text makes a stored link that says when it expires; it opens with the whole text
    long_text = "A long text to take home. " * 80
    page.locator("#tokenizers-text textarea").fill(long_text)
    page.get_by_role("button", name="🔗 Copy link").click()
    page.get_by_text("expires on").wait_for(timeout=30_000)
    link = page.evaluate(LINK_JS)
    assert "?s=" in link
    other = fresh(browser)
    other.goto(link, wait_until="domcontentloaded")
    other.wait_for_function(f"document.querySelector('#tokenizers-text textarea')?.value.length === {len(long_text)}",
                            timeout=90_000)
    other.context.close()


@pytest.mark.parametrize("query, words", [("?s=../../etc", "malformed"), ("?s=Zz9Unknown", "unknown")])
def test_broken_links_get_a_clear_message(launch, page, query: str, words: str) -> None:
    from apps.launch import standalone
    from apps.tokenizers.app import CSS, SLUG, build

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    page.goto(url + query, wait_until="domcontentloaded")
    page.locator(".lab-takehome .lab-error").first.wait_for(timeout=60_000)
    text = row_message(page)
    assert words in text and "Traceback" not in page.content()
    page.wait_for_function("document.querySelectorAll('.tokenizers-arena .tokenizers-col').length >= 2",
                           timeout=90_000)  # the defaults still open


def test_expired_link_says_when_it_expired(launch, page) -> None:
    from apps.launch import standalone
    from apps.topics.app import CSS, SLUG, build
    from core.links import make_link
    from core.storage import database

    made = make_link("topics", {"corpus": "news", "mcs": 30}, force_stored=True)
    with database().transaction() as conn:
        conn.execute("UPDATE state_links SET expires = ? WHERE id = ?", (time.time() - 86400, made.query[2:]))
    _, url = launch(standalone(build, SLUG, CSS), CSS)
    page.goto(url + "?" + made.query, wait_until="domcontentloaded")
    page.locator(".lab-takehome .lab-error").first.wait_for(timeout=60_000)
    assert "expired on" in row_message(page) and "Traceback" not in page.content()


def test_classifiers_link_restores_methods_sizes_and_upload(launch, page, browser, tmp_path: Path) -> None:
    from apps.classifiers.app import CSS, build
    from apps.launch import standalone

    _, url = launch(standalone(build, "classifiers", CSS), CSS)
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#classifiers-counts").get_by_text("fresh").first.wait_for(timeout=60_000)
    csv = tmp_path / "reviews.csv"
    rows = ["review,stars"] + [f"{'great lovely film' if i % 2 else 'dull awful film'} {i},{'pos' if i % 2 else 'neg'}"
                               for i in range(80)]
    csv.write_text("\n".join(rows), encoding="utf-8")
    page.get_by_label("Upload a CSV").check()
    page.locator("#classifiers-upload input[type=file]").set_input_files(str(csv))
    page.locator("#classifiers-counts").get_by_text("neg").first.wait_for(timeout=60_000)
    boxes = page.locator("#classifiers-methods label")
    for i in range(boxes.count()):
        box = boxes.nth(i)
        want = box.inner_text().strip().startswith("Baseline: TF-IDF")
        if box.locator("input").is_checked() != want:
            box.click()
    link = copy_link(page, url)
    assert "?s=" in link  # the CSV travels in a stored link
    assert "expires on" in row_message(page)

    other = fresh(browser)
    other.goto(link, wait_until="domcontentloaded")
    other.wait_for_function("() => document.querySelector('#classifiers-upload')?.innerText.includes('reviews')",
                            timeout=60_000)
    checked = other.locator("#classifiers-methods input:checked")
    other.wait_for_function("document.querySelectorAll('#classifiers-methods input:checked').length === 1",
                            timeout=30_000)
    assert "TF-IDF" in checked.first.locator("xpath=..").inner_text()
    # the evaluation runs by itself and shows the comparison of the link's method
    other.wait_for_function("() => document.querySelector('#classifiers-comparison')?.innerText.includes('TF-IDF')",
                            timeout=180_000)
    assert "neg" in other.locator("#classifiers-counts").inner_text()
    screenshot(other, "takehome-classifiers-restored")
    other.context.close()


def test_topics_link_restores_knobs_and_finds_topics(launch, page, browser) -> None:
    from apps.launch import standalone
    from apps.topics.app import CSS, SLUG, build

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_text("239", exact=False).first.wait_for(timeout=60_000)
    mcs = page.get_by_label("min_cluster_size").first
    mcs.fill("9")
    mcs.press("Enter")
    link = copy_link(page, url)
    assert "mcs=9" in link and "corpus=sample" in link

    other = fresh(browser)
    other.goto(link, wait_until="domcontentloaded")
    other.wait_for_function("() => [...document.querySelectorAll('input')].some(e => e.getAttribute('aria-label')"
                            " === 'number input for min_cluster_size' && e.value === '9')", timeout=60_000)
    other.wait_for_function("() => (document.querySelector('#topics-status')?.innerText || '').includes('Done in')",
                            timeout=240_000)  # Find topics ran by itself
    assert "Opened from a link" in row_message(other)
    assert "outlier" in other.locator("#topics-summary").inner_text().lower()
    screenshot(other, "takehome-topics-restored")
    other.context.close()


def board_tab(page: Any) -> None:
    """Open the Leaderboard tab (on a narrow tab bar it sits in the overflow menu)."""
    page.wait_for_selector('[data-tab-id="arena-board"]', state="attached", timeout=60_000)
    page.evaluate("document.querySelector('[data-tab-id=\"arena-board\"]').click()")
    page.get_by_label("Length control (style covariate)").wait_for(timeout=30_000)


def test_arena_link_keeps_room_and_board_settings_not_the_key(launch, page, browser, tmp_path: Path) -> None:
    from apps.arena.app import CSS, build
    from apps.launch import standalone
    from core.arena.battles import Arena
    from core.arena.contestants import parse_config
    from core.arena.store import ArenaStore
    from core.storage import Database
    from tests.browser.test_arena_browser import DEMO_KEY, demo_room, seed_votes

    cfg = {"contestants": [{"id": cid, "label": cid, "backend": "openai", "base_url": "http://127.0.0.1:9/v1",
                            "model": cid, "offline": True} for cid in ("a", "b", "c")]}
    store = ArenaStore(Database(tmp_path / "arena.sqlite3"))
    seed_votes(store, ["a", "b", "c"])
    demo_room(store)
    arena = Arena(parse_config(cfg, offline=True), store=store, max_new_tokens=8, seed=5)
    _, url = launch(standalone(lambda: build(arena), "arena", CSS), CSS)
    page.goto(url + "?room=demo&key=" + DEMO_KEY, wait_until="domcontentloaded")
    board_tab(page)
    page.get_by_label("Length control (style covariate)").check()
    link = copy_link(page, url)
    assert "room=demo" in link and "length=1" in link and DEMO_KEY not in link

    other = fresh(browser)
    other.goto(link, wait_until="domcontentloaded")
    board_tab(other)
    other.wait_for_function("() => [...document.querySelectorAll('label')].some(l => "
                            "l.innerText.includes('Length control') && l.querySelector('input')?.checked)",
                            timeout=30_000)
    assert "demo" in other.locator("#arena-banner").inner_text().lower()
    other.context.close()
