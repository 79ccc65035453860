"""Classifier Zoo in chromium: upload a CSV, pick fast methods, evaluate, see the comparison table."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import get_settings, override_settings
from tests.conftest import screenshot

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "classifiers" / "reviews_sample.csv"


@pytest.mark.browser
def test_upload_csv_and_compare(launch, page, tmp_path):
    from apps.classifiers.app import CSS, build
    from apps.launch import standalone

    (tmp_path / "assets").symlink_to(get_settings().assets_dir)
    with override_settings(cache_dir=tmp_path):
        _, url = launch(standalone(build, "classifiers", CSS), CSS)
        page.goto(url)
        page.locator("#classifiers-counts").get_by_text("rotten").first.wait_for(timeout=60_000)
        page.get_by_text("Upload a CSV").click()
        page.locator("#classifiers-upload").wait_for(state="visible", timeout=30_000)
        page.locator("#classifiers-upload input[type=file]").set_input_files(str(SAMPLE))
        page.locator("#classifiers-counts").get_by_text("positive").first.wait_for(timeout=60_000)
        methods = page.locator("#classifiers-methods")
        for title in ("Task-specific model", "Generative prompt", "SetFit few-shot"):
            methods.get_by_label(title).uncheck()
        page.get_by_role("tab", name="Evaluate").click()
        page.locator("#classifiers-evaluate").click()
        table = page.locator("#classifiers-comparison")
        try:
            page.locator("#classifiers-summary").get_by_text("methods ran").wait_for(timeout=150_000)
        finally:
            screenshot(page, "classifiers-evaluate")
        shown = table.inner_text()
        assert "Zero-shot: similarity to label descriptions" in shown
        assert "Embeddings + logistic regression" in shown
        assert "book F1" not in shown  # the book's figures are for Rotten Tomatoes, not an uploaded file
        assert "3/3 methods ran" in page.locator("#classifiers-summary").inner_text()
        assert page.locator("#classifiers-f1-chart .js-plotly-plot").count() == 1  # the grouped F1 chart
        assert "Done in" in page.locator("#classifiers-evaluate-status").inner_text()  # one status line
        # the sliders fit the 120-row file (not 200/1,000), and no header breaks mid-word
        assert page.locator("#classifiers-test-size input[type=number]").input_value() == "30"
        headers = table.locator("th")
        for i in range(headers.count()):
            box = headers.nth(i).bounding_box()
            assert box is None or box["height"] < 60, headers.nth(i).inner_text()
