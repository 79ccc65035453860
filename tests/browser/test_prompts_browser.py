"""Prompt Lab in real chromium: stream an answer, see the rendered prompt and the next-token view."""
from __future__ import annotations

import pytest

from apps.prompts import app as prompt_lab
from apps.launch import standalone
from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def _set_number(page, label: str, value: str) -> None:
    box = page.locator(f'input[type="number"][aria-label*="{label}"]').first
    box.fill(value)
    box.press("Enter")


def test_stream_an_answer_and_inspect_the_prompt(launch, page) -> None:
    blocks = standalone(prompt_lab.build, "prompts", prompt_lab.CSS)
    _, url = launch(blocks, prompt_lab.CSS)
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    page.get_by_role("heading", name="🧪 Prompt Lab").first.wait_for(timeout=120_000)
    # the prompt box and Generate come first, within the first screen, before the Sampling panel
    prompt_box = page.locator("#prompts-prompt textarea").bounding_box()
    generate_btn = page.locator("#prompts-generate-btn").bounding_box()
    sampling = page.get_by_text("Sampling (used by every tab)").first.bounding_box()
    assert generate_btn["y"] + generate_btn["height"] < 1000 and prompt_box["y"] < sampling["y"]
    assert "Step 1" not in page.locator("#prompts-next").inner_text()
    _set_number(page, "max_new_tokens", "12")
    temperature = page.locator('input[type="number"][aria-label*="temperature"]').first
    assert temperature.is_enabled()
    page.get_by_label("Greedy (do_sample=False)").check()
    # greedy: temperature/top_p/top_k no longer apply, and the page says why
    page.get_by_text("Greedy decoding always takes the most likely token").wait_for(timeout=10_000)
    assert temperature.is_disabled()
    page.locator("#prompts-prompt textarea").fill("Create a funny joke about chickens.")
    page.locator("#prompts-generate-btn").click()
    # streaming: the chatbot shows the assistant's partial answer before the run is done
    page.locator("#prompts-chat .bot, #prompts-chat [data-testid='bot']").first.wait_for(timeout=120_000)
    page.get_by_text("✓ done").first.wait_for(timeout=180_000)
    answer = page.locator("#prompts-output textarea").input_value()
    assert answer.strip()
    rendered = page.locator("#prompts-rendered")
    assert rendered.locator(".prompts-tok.special").count() >= 5
    assert "Create a funny joke about chickens." in rendered.inner_text()
    assert page.get_by_text("context window").first.is_visible()
    # click the second output token: the next-token view shows the candidates at that step
    page.locator("#prompts-out-tokens .token-container").nth(1).click()
    page.locator("#prompts-next-table").wait_for(timeout=60_000)
    assert page.locator("#prompts-next-table tbody tr").count() == 10
    assert page.get_by_text("◀ chosen").first.is_visible()
    # the step box and the table's heading use the same numbering
    step = page.locator('input[type="number"][aria-label*="Output step"]').first.input_value()
    assert step == "1" and "Candidates for output step 1 after" in page.locator("#prompts-next").inner_text()
    screenshot(page, "prompts-generate")
    page.locator("#prompts-view").scroll_into_view_if_needed()
    screenshot(page, "prompts-prompt-view", full_page=False)
