"""Hostile text (HTML/JS, Markdown injection, very long unbroken strings) is shown as text, never run."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import screenshot

pytestmark = pytest.mark.browser

PAYLOAD = ('<script>window.__pwned="script"</script><img src=x onerror="window.__pwned=\'img\'">'
           '[click](javascript:window.__pwned="md") **bold?** ' + "A" * 3000)


def _assert_not_executed(page: Any) -> None:
    assert page.evaluate("window.__pwned === undefined"), page.evaluate("window.__pwned")


def test_tokenizer_chips_show_html_as_text(launch: Any, page: Any) -> None:
    from apps.tokenizers.app import CSS, SLUG, build
    from apps.launch import standalone

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url + "?tok=gpt2,gpt-4&text=" + quote(PAYLOAD), wait_until="domcontentloaded")
    page.wait_for_function("document.querySelectorAll('.tokenizers-arena .tokenizers-col').length === 2",
                           timeout=90_000)
    arena = page.locator("#tokenizers-arena").inner_text()
    assert "script" in arena and "onerror" in arena  # the markup is visible as tokens
    assert page.locator("#tokenizers-arena script, #tokenizers-arena img").count() == 0
    # a 3,000-character unbroken run must not stretch the page sideways
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1400 + 20, width
    _assert_not_executed(page)
    assert not dialogs
    screenshot(page, "hostile-tokenizers", full_page=False)


def test_prompt_view_shows_html_as_text(launch: Any, page: Any) -> None:
    from apps.prompts import app as prompt_lab
    from apps.launch import standalone

    _, url = launch(standalone(prompt_lab.build, "prompts", prompt_lab.CSS), prompt_lab.CSS)
    page.goto(url, wait_until="domcontentloaded")
    box = page.locator("#prompts-prompt textarea")
    box.wait_for(timeout=60_000)
    box.fill(PAYLOAD)
    page.get_by_role("button", name="Show rendered prompt").click()
    page.locator("#prompts-view").get_by_text("onerror", exact=False).first.wait_for(timeout=90_000)
    assert page.locator("#prompts-view script, #prompts-view img").count() == 0
    _assert_not_executed(page)
