"""Open the lab in real chromium, visit every app, and keep screenshots."""
import pytest

from apps import available_apps
from apps.lab import build_lab
from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def test_home_page_and_every_app_tab(launch, page):
    lab, css = build_lab()
    _, url = launch(lab, css)
    page.goto(url, wait_until="domcontentloaded")  # the arena's live view polls: never idle
    page.get_by_text("LLM Lab", exact=True).first.wait_for(timeout=30_000)
    assert page.get_by_text("offline models").first.is_visible()
    present = available_apps()
    for app, _ in present:
        assert page.get_by_text(app.tagline).first.is_visible()
    screenshot(page, "lab-home")
    for app, _ in present:
        page.locator(f"#open-{app.slug}").click()
        page.get_by_role("heading", name=app.title).first.wait_for(timeout=30_000)
        screenshot(page, f"lab-tab-{app.slug}", full_page=False)
        page.get_by_role("tab", name="🏠 Home").click()
