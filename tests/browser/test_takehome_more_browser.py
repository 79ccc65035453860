"""Browser tests of the take-home links of Prompt Lab, RAG Chat and the Multimodal Captioner: a link made
with the app's own "Copy link" button, opened in a fresh browser context, finds the same state; a
malformed link gets a clear message next to the row, not a traceback."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import screenshot


def _copy_link(page: Any, url: str) -> str:
    page.get_by_role("button", name="🔗 Copy link").click()
    page.wait_for_function("() => [...document.querySelectorAll('textarea, input')].some("
                           "e => e.value && e.value.startsWith('http') && e.value.includes('?'))", timeout=60_000)
    link = page.evaluate("() => [...document.querySelectorAll('textarea, input')].map(e => e.value)"
                         ".find(v => v && v.startsWith('http') && v.includes('?'))")
    assert link.split("?")[0].rstrip("/") == url.rstrip("/")
    return link


def _fresh(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1400, "height": 1000})


@pytest.mark.browser
def test_prompts_link_reopens_prompt_and_sampling(launch, page, browser) -> None:
    from apps.prompts.app import CSS, build

    _, url = launch(build(), CSS)
    page.goto(url)
    page.locator("#prompts-prompt textarea").fill("Name three owls.")
    page.get_by_label("max_new_tokens").first.fill("33")
    page.get_by_label("max_new_tokens").first.press("Enter")
    page.get_by_label("Greedy (do_sample=False)").check()
    link = _copy_link(page, url)
    assert "Name+three+owls" in link or "Name%20three%20owls" in link
    ctx = _fresh(browser)
    other = ctx.new_page()
    other.goto(link)
    other.get_by_text("Restored from the link").wait_for(timeout=30_000)
    assert other.locator("#prompts-prompt textarea").input_value() == "Name three owls."
    assert other.get_by_label("Greedy (do_sample=False)").is_checked()
    assert other.get_by_label("max_new_tokens").first.input_value() == "33"
    screenshot(other, "takehome-prompts-restored", full_page=False)
    other.goto(url.rstrip("/") + "/?s=%3Cscript%3E")
    other.get_by_text("This link is malformed").wait_for(timeout=30_000)
    ctx.close()


@pytest.mark.browser
def test_rag_link_reopens_corpus_question_and_retrieval(launch, page, browser) -> None:
    from apps.rag.app import CSS, build

    _, url = launch(build(), CSS)
    page.goto(url)
    page.locator("#rag-builtin").click()
    page.locator("#rag-status .rag-ok").wait_for(timeout=180_000)
    assert "Indexed 4 document(s)" in page.locator("#rag-status").inner_text()
    page.get_by_role("tab", name="2 · Chat").click()
    page.locator("#rag-mode").get_by_label("BM25 (keywords)").check()
    page.locator("#rag-question textarea").fill("What went wrong with Hubble's mirror?")
    link = _copy_link(page, url)
    ctx = _fresh(browser)
    other = ctx.new_page()
    other.goto(link)
    other.get_by_text("Restored from the link").wait_for(timeout=180_000)
    assert "Indexed 4 document(s)" in other.locator("#rag-status").inner_text()
    other.get_by_role("tab", name="2 · Chat").click()
    assert other.locator("#rag-question textarea").input_value() == "What went wrong with Hubble's mirror?"
    assert other.locator("#rag-mode").get_by_label("BM25 (keywords)").is_checked()
    other.locator("#rag-sources .rag-src").first.wait_for(timeout=30_000)
    assert "hubble.md" in other.locator("#rag-sources").inner_text()
    screenshot(other, "takehome-rag-restored", full_page=False)
    ctx.close()


@pytest.mark.browser
def test_vision_link_carries_an_uploaded_image(launch, page, browser) -> None:
    from apps.vision.app import CSS, build
    from core.vision.images import builtin_path

    _, url = launch(build(), CSS)
    page.goto(url)
    page.locator("#vision-builtins").get_by_label("Chelsea the cat").uncheck()
    page.locator("#vision-files input[type=file]").set_input_files(str(builtin_path("rocket")))
    page.locator("#vision-gallery").get_by_text("rocket.png").wait_for(timeout=30_000)
    page.locator("#vision-labels textarea").fill("rocket, teapot, owl")
    link = _copy_link(page, url)
    assert "s=" in link  # an uploaded image makes the link a stored one
    ctx = _fresh(browser)
    other = ctx.new_page()
    other.goto(link)
    other.get_by_text("Restored from the link").wait_for(timeout=30_000)
    assert other.locator("#vision-labels textarea").input_value() == "rocket, teapot, owl"
    other.locator("#vision-gallery").get_by_text("rocket.png").wait_for(timeout=30_000)
    assert other.locator("#vision-builtins").get_by_label("Coffee cup").is_checked()
    assert not other.locator("#vision-builtins").get_by_label("Chelsea the cat").is_checked()
    screenshot(other, "takehome-vision-restored", full_page=False)
    ctx.close()
