"""Topic Explorer in a real browser: upload the sample CSV, find topics, look at the map."""
from __future__ import annotations

from typing import Any

import pytest

from core.topics.data import SAMPLE_CSV
from tests.conftest import screenshot


@pytest.mark.browser
def test_upload_run_and_map(page: Any, launch: Any) -> None:
    from apps.launch import standalone
    from apps.topics.app import CSS, SLUG, build

    _, url = launch(standalone(build, SLUG, CSS), CSS)
    page.goto(url)
    page.get_by_text("Topic Explorer").first.wait_for()
    page.wait_for_selector(".topics-preview", timeout=60_000)  # the default corpus is previewed on load
    assert "239" in page.locator(".topics-preview").inner_text()  # the small sample is preselected
    assert "A first run takes about" in page.locator(".topics-preview").inner_text()
    page.get_by_label("Upload a CSV file").check()
    page.locator("#topics-upload input[type=file]").set_input_files(str(SAMPLE_CSV))
    page.wait_for_selector(".topics-preview:has-text('sample_news.csv')", timeout=60_000)
    assert "239" in page.locator(".topics-preview").inner_text()
    page.locator("#topics-run").click()
    page.wait_for_selector("#topics-summary .topics-kpi", timeout=240_000)
    summary = page.locator("#topics-summary").inner_text()
    assert "topics" in summary and "outliers" in summary
    page.wait_for_selector("#topics-map .js-plotly-plot", timeout=60_000)
    page.wait_for_timeout(1500)
    assert page.locator("#topics-map .legendtext").count() >= 3
    screenshot(page, "topics-map")
    page.get_by_role("tab", name="Topics").click()
    page.wait_for_selector("#topics-table table", timeout=30_000)
    screenshot(page, "topics-table", full_page=False)
    page.get_by_role("tab", name="Charts").click()
    page.wait_for_timeout(1500)
    screenshot(page, "topics-charts", full_page=False)
    # the tools are not hidden behind an overflow menu: each is a visible section below the results
    for name in ("Search topics", "Outliers", "Stability", "Edit & label", "Export"):
        assert page.get_by_text(name, exact=True).first.is_visible(), name
    # Find topics is near the top of the page (it used to sit ~1,950 px down)
    assert page.locator("#topics-run").bounding_box()["y"] < 1000
