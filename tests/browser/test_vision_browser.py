"""Browser test: upload a photo, score labels, look at the chart (offline mode)."""
from __future__ import annotations

import pytest

from apps.vision.app import CSS, build
from core.vision.images import builtin_path
from tests.conftest import screenshot


@pytest.mark.browser
def test_upload_and_chart(launch, page) -> None:
    _, url = launch(build(), CSS)
    page.goto(url)
    page.get_by_text("labelled stand-ins run here, not CLIP or BLIP").wait_for(timeout=30_000)
    # keep only the uploaded photo: untick the default built-ins
    for name in ("Chelsea the cat", "Coffee cup"):
        page.locator("#vision-builtins").get_by_label(name).uncheck()
    page.locator("#vision-files input[type=file]").set_input_files(str(builtin_path("cat")))
    page.locator("#vision-gallery").get_by_text("cat.png · 451×300").wait_for(timeout=30_000)
    page.locator("#vision-label-btn").click()
    page.locator("#vision-label-plot .js-plotly-plot").wait_for(timeout=120_000)
    page.locator("#vision-label-info").get_by_text("offline proxy — not CLIP").wait_for(timeout=10_000)
    bars = page.locator("#vision-label-plot text.bartext").all_text_contents()
    assert bars and any(t.endswith("%") for t in bars)
    assert page.locator("#vision-label-plot").get_by_text("a photo of a {}").count() >= 1
    screenshot(page, "vision-labels")
    page.get_by_role("tab", name="What the model sees").click()
    page.locator("#vision-view-btn").click()
    page.locator("#vision-view-gallery img").nth(2).wait_for(timeout=60_000)
    screenshot(page, "vision-view", full_page=False)
    page.locator("#vision-builtins").get_by_label("Coffee cup").check()
    page.get_by_role("tab", name="Similarity matrix").click()
    page.locator("#vision-sim-btn").click()
    page.locator("#vision-sim-plot .js-plotly-plot").wait_for(timeout=60_000)
    page.locator("#vision-sim-plot").get_by_text("cosine", exact=True).first.wait_for(timeout=10_000)
    page.get_by_text("coffee → “a cup of espresso on a saucer”").wait_for(timeout=10_000)
    page.wait_for_timeout(1500)  # let the pending fade of the outputs finish before the screenshot
    screenshot(page, "vision-similarity", full_page=False)


@pytest.mark.browser
def test_offline_controls_and_inline_errors(launch, page) -> None:
    """Offline: one caption model (the one that runs), questions off with the reason; an error stays
    next to its button after the toast is gone, with no red pill over the outputs, until the next run."""
    _, url = launch(build(), CSS)
    page.goto(url)
    page.locator("#vision-gallery img").first.wait_for(timeout=60_000)
    page.get_by_role("tab", name="Ask about the image").click()
    assert page.locator("#vision-ask-btn").is_disabled()
    assert "needs BLIP-2" in page.locator("#vision-ask-off").inner_text()
    page.get_by_role("tab", name="Captions").click()
    assert "hub mode" in page.locator("#vision-cap-model").inner_text()
    page.get_by_role("tab", name="Zero-shot labels").click()
    page.locator("#vision-labels textarea").fill(" , ")
    page.locator("#vision-label-btn").click()
    status = page.locator("#vision-label-status")
    status.get_by_text("label list is empty").wait_for(timeout=60_000)
    page.wait_for_timeout(11_000)  # Gradio's toast is gone by now; the inline message is not
    assert "label list is empty" in status.inner_text()
    assert page.locator(".wrap span.error:visible").count() == 0
    screenshot(page, "vision-inline-error", full_page=False)
    page.locator("#vision-labels textarea").fill("cat, car")
    page.locator("#vision-label-btn").click()
    status.get_by_text("Done in").wait_for(timeout=120_000)
    assert "label list is empty" not in status.inner_text()
