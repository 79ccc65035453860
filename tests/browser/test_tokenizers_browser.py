"""Tokenizer Arena in a real browser: a shared link restores three tokenizers on the book's sample."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def test_three_tokenizers_side_by_side(launch: Any, page: Any) -> None:
    from apps.tokenizers.app import CSS, SLUG, build
    from apps.launch import standalone

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    page.goto(url + "?tok=bert-base-uncased,gpt2,gpt-4", wait_until="domcontentloaded")
    cols = page.locator(".tokenizers-col")
    cols.first.wait_for(timeout=90_000)
    page.wait_for_function("document.querySelectorAll('.tokenizers-arena .tokenizers-col').length === 3",
                           timeout=90_000)
    heads = page.locator(".tokenizers-head").all_inner_texts()
    assert any("BERT base uncased" in h and "41 tokens" in h for h in heads), heads
    assert any("GPT-2" in h and "55 tokens" in h for h in heads), heads
    assert any("GPT-4" in h and "41 tokens" in h for h in heads), heads
    arena = page.locator("#tokenizers-arena")
    assert "[UNK]" in arena.inner_text()
    assert "�" not in arena.inner_text()
    # the 🎵 chip of GPT-2 carries all three ids
    assert page.locator('.tk[data-i="8582 236 113"]').count() == 1
    assert page.locator(".tokenizers-diff .bd-no").count() > 3
    screenshot(page, "tokenizers-compare")

    # id view toggles without a server round trip
    page.locator("#tokenizers-ids input").check()
    page.wait_for_selector(".tokenizers-arena.tokenizers-ids")
    page.locator("#tokenizers-arena").scroll_into_view_if_needed()
    screenshot(page, "tokenizers-ids", full_page=False)

    # share link keeps the selection
    page.get_by_role("button", name="Share link").click()
    page.wait_for_function("[...document.querySelectorAll('textarea')].some(t => t.value.includes('tok=bert-base-uncased%2Cgpt2%2Cgpt-4'))",
                           timeout=20_000)


def test_language_cost_tab(launch: Any, page: Any) -> None:
    from apps.tokenizers.app import CSS, SLUG, build
    from apps.launch import standalone

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    page.goto(url + "?tok=gpt2,gpt-4,gpt-4o,qwen2&text=hi", wait_until="domcontentloaded")
    page.wait_for_function("document.querySelectorAll('.tokenizers-arena .tokenizers-col').length === 4",
                           timeout=90_000)
    page.get_by_role("tab", name="Language cost").click()
    page.get_by_role("button", name="Compute language cost").click()
    page.get_by_text("costliest language", exact=False).first.wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert page.get_by_text("Hindi").count() >= 1
    page.get_by_role("tab", name="Language cost").scroll_into_view_if_needed()
    screenshot(page, "tokenizers-language-cost")
