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

    # the shared take-home row's link keeps the selection (same ?tok= names as the older share links)
    page.get_by_role("button", name="🔗 Copy link").click()
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
    page.locator("#tokenizers-cost-plot .js-plotly-plot").wait_for(timeout=60_000)
    assert page.get_by_text("Hindi").count() >= 1
    page.get_by_role("tab", name="Language cost").scroll_into_view_if_needed()
    screenshot(page, "tokenizers-language-cost")


#: chips drawn on more than one line box (a chip split at the end of a line reads as two tokens)
SPLIT_CHIPS_JS = """() => [...document.querySelectorAll('.tokenizers-body .tk')]
  .filter(c => c.getClientRects().length !== 1).map(c => c.textContent)"""

#: header words drawn on more than one line (a header broken mid-word: "accura | cy")
BROKEN_HEADER_WORDS_JS = """() => {
  const broken = [];
  document.querySelectorAll('#tokenizers-summary th').forEach(th => {
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const re = /\\S+/g; let m;
      while ((m = re.exec(n.data))) {
        const r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  });
  return broken;
}"""


@pytest.mark.parametrize("width", [1400, 390])
def test_no_chip_split_and_headers_whole(launch: Any, page: Any, width: int) -> None:
    """Every chip stays on one line (lines break between chips), at desktop and phone widths; the
    summary headers wrap between words only; the counts chart sits beside the table; specials fold."""
    import urllib.parse

    from apps.launch import standalone
    from apps.tokenizers.app import CSS, SLUG, build
    from core.tokenizers.compare import examples

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    page.set_viewport_size({"width": width, "height": 900})
    text = "The owners pay 12,400 dollars; " * 6 + next(iter(examples().values()))
    query = urllib.parse.urlencode({"text": text, "tok": "bert-base-uncased,gpt2,gpt-4,llama-3,phi-3,qwen2"})
    page.goto(f"{url}?{query}", wait_until="domcontentloaded")
    page.wait_for_function("document.querySelectorAll('.tokenizers-arena .tokenizers-col').length === 6",
                           timeout=90_000)
    chips = page.locator(".tokenizers-body .tk").count()
    assert chips > 300
    assert page.evaluate(SPLIT_CHIPS_JS) == []
    # the chips really wrap onto several lines (so the check above tested line ends)
    assert page.evaluate("Math.max(...[...document.querySelectorAll('.tokenizers-body')].map(b => "
                         "new Set([...b.querySelectorAll('.tk')].map(c => Math.round(c.getBoundingClientRect().top)))"
                         ".size))") > 5
    assert page.evaluate(BROKEN_HEADER_WORDS_JS) == []
    page.locator("#tokenizers-counts .js-plotly-plot").wait_for(timeout=60_000)
    assert page.locator("#tokenizers-counts .bartext").count() == 6
    # Llama 3's 256 special tokens: named ones shown, the reserved ones folded away
    llama = page.locator('.tokenizers-col[data-tokenizer="llama-3"] .tokenizers-specials')
    assert "special tokens (256)" in llama.inner_text()
    assert llama.locator("details:not([open])").count() == 1
    assert not llama.locator("details code").first.is_visible()
    tabs_top = page.get_by_role("tab", name="Chat template").bounding_box()["y"]
    print("sub-tabs start at y =", tabs_top)
    assert tabs_top < (1600 if width < 600 else 900), tabs_top  # sub-tabs start near the top (was ~3,000)
    if width < 600:
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot(page, f"tokenizers-chips-{width}")


def test_errors_stay_inline_until_the_next_action(launch: Any, page: Any) -> None:
    from apps.launch import standalone
    from apps.tokenizers.app import CSS, SLUG, build

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    page.goto(url + "?tok=gpt2&text=hi", wait_until="domcontentloaded")
    page.locator(".tokenizers-col").first.wait_for(timeout=90_000)
    page.get_by_role("tab", name="Decode ids").click()
    page.get_by_label("Token ids (spaces or commas)").fill("1 two")
    page.get_by_role("button", name="Decode with each selected tokenizer").click()
    error = page.locator(".lab-error", has_text="not a token id")
    error.wait_for(timeout=30_000)
    page.wait_for_timeout(11_000)  # the toast has gone; the message next to the button has not
    assert error.is_visible()
    assert page.locator(".wrap span.error:visible").count() == 0  # no red pill over the table
    page.get_by_label("Token ids (spaces or commas)").fill("8582 236 113")
    page.get_by_role("button", name="Decode with each selected tokenizer").click()
    page.wait_for_function("(document.querySelector('#tokenizers-decoded') || {}).innerText.includes('🎵')",
                           timeout=30_000)
    page.wait_for_function("!document.querySelector('.lab-error')", timeout=10_000)  # cleared by the success
