"""Lab-wide UI in real chromium (issue 18): phones don't scroll sideways and see each app's main
input and action on the first screen, every app links to its chapter, and dark mode keeps text
readable (contrast computed from the rendered colours) for the figures and chips named in the issue.
Screenshots of home, tokenizers and vision at 1400×1000, 390×844 and dark go to /tmp/shots/<page>/."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apps import manifests
from apps.lab import build_lab

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")

#: (main input, main action) per app page; None = the page's first text/file input and primary button
MAIN: dict[str, tuple[str, str]] = {
    "tokenizers": ("#tokenizers-text textarea", "#tokenizers-compare"),
    "vision": ("#vision-labels textarea", "#vision-label-btn"),
    "classifiers": ("#classifiers-text textarea", "#classifiers-classify"),
    "topics": ("#topics-source", "#topics-run"),  # the corpus choice (a radio) and Find topics
    "rag": ("#rag-files", "#rag-builtin"),  # the Documents tab: upload, or the built-in corpus
}
GENERIC = ("textarea:visible, input[type=text]:visible, input[type=file]", "button.primary:visible")

#: WCAG contrast of every piece of own text (titles, ticks, legends, annotations, outside bar labels)
#: of the plots under ``sel`` against the colour really behind it (the first opaque ancestor).
CONTRAST_JS = """(sel) => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = c => { c /= 255; return c <= .03928 ? c / 12.92 : ((c + .055) / 1.055) ** 2.4; };
    return .2126 * f(r) + .7152 * f(g) + .0722 * f(b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + .05) / (y + .05); };
  const behind = el => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length >= 3 && (c.length < 4 || c[3] > .5)) return c; } return [255, 255, 255]; };
  const own = '.gtitle, .xtitle, .ytitle, .xtick text, .ytick text, .legendtext, .annotation-text, .bartext-outside, .cbaxis text';
  const out = [];
  document.querySelectorAll(sel).forEach(plot => plot.querySelectorAll(own).forEach(t => {
    if (!t.textContent.trim()) return;
    const fill = rgb(getComputedStyle(t).fill); const bg = behind(plot);
    out.push([t.textContent.slice(0, 30), Math.round(ratio(fill, bg) * 100) / 100]);
  }));
  return out;
}"""

#: contrast of an element's own text against its own (or first opaque ancestor's) background
ELEMENT_CONTRAST_JS = CONTRAST_JS.split("const own")[0].replace("(sel) => {", "(el) => {") + """
  return Math.round(ratio(rgb(getComputedStyle(el).color), behind(el)) * 100) / 100;
}"""


#: contrast of the plots' grid and zero lines (their stroke blended at its opacity) against the colour behind
#: them: the lab's soft grid stays well under 3:1 in both themes, where a light template's is ~15:1 on dark
GRID_JS = CONTRAST_JS.split("const own")[0] + """
  const out = [];
  document.querySelectorAll(sel).forEach(plot => plot.querySelectorAll('.gridlayer path, .zerolinelayer path').forEach(p => {
    const s = getComputedStyle(p); const c = rgb(s.stroke); if (c.length < 3) return;
    const a = (c.length > 3 ? c[3] : 1) * Number(s.strokeOpacity); const bg = behind(plot);
    out.push(Math.round(ratio(c.slice(0, 3).map((v, i) => a * v + (1 - a) * bg[i]), bg) * 100) / 100);
  }));
  return out;
}"""


@pytest.fixture(scope="module")
def lab_url(browser: Any) -> Any:
    from tests.conftest import serve_blocks

    lab, css = build_lab()
    server = serve_blocks(lab, css)
    next(server)
    yield lab.local_url
    server.close()


def _open(browser: Any, url: str, width: int, height: int, dark: bool = False) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height},
                                  color_scheme="dark" if dark else "light")
    page = context.new_page()
    page.goto(url + ("?__theme=dark" if dark else ""), wait_until="domcontentloaded")
    page.locator(".lab-header").first.wait_for(timeout=60_000)
    return page


@pytest.mark.parametrize("slug", ["", *[a.slug for a in manifests()]])
def test_phone_no_sideways_scroll_and_main_action_on_first_screen(lab_url: str, browser: Any, slug: str) -> None:
    page = _open(browser, f"{lab_url}{slug}", 390, 844)
    try:
        if not slug:
            page.locator(".lab-card").first.wait_for(timeout=30_000)
            assert not page.locator(".lab-sub").first.is_visible()  # the subtitle is hidden on phones
            widths = page.evaluate("[...document.querySelectorAll('.lab-card')].map(c => c.offsetWidth)")
            assert min(widths) > 300, widths  # cards full width
        else:
            page.locator(".lab-app-title").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            inp, action = MAIN.get(slug, GENERIC)
            for sel in (inp, action):
                box = page.locator(sel).first.bounding_box()
                assert box is not None and box["y"] + min(box["height"], 40) <= 844, (slug, sel, box)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), slug
    finally:
        page.context.close()


def test_every_app_links_to_its_chapter(lab_url: str, page: Any) -> None:
    for app in manifests():
        page.goto(f"{lab_url}{app.slug}", wait_until="domcontentloaded")
        links = page.locator(".lab-app-title .lab-chapter a")
        links.first.wait_for(timeout=60_000)
        hrefs = links.evaluate_all("els => els.map(a => a.href)")
        assert hrefs == [c.url for c in app.chapters], (app.slug, hrefs)
        assert all(c.section in links.all_inner_texts()[i] for i, c in enumerate(app.chapters) if c.section)
    for slug in ("tokenizers", "vision"):  # and each of their panels names its section
        page.goto(f"{lab_url}{slug}", wait_until="domcontentloaded")
        page.locator(".lab-section a").first.wait_for(timeout=60_000)
        assert page.locator(".lab-section").first.inner_text().startswith("📖 §")


def test_dark_mode_figures_and_chips_readable(lab_url: str, browser: Any) -> None:
    page = _open(browser, f"{lab_url}tokenizers", 1400, 1000, dark=True)
    try:
        assert page.evaluate("document.body.classList.contains('dark') || "
                             "!!document.querySelector('.dark')")
        page.locator("#tokenizers-counts .js-plotly-plot").wait_for(timeout=90_000)
        legend = page.locator(".tokenizers-legend .tk-legend-multi").first
        assert page.evaluate(ELEMENT_CONTRAST_JS, legend.element_handle()) >= 4.5
        page.get_by_role("tab", name="Language cost").click()
        page.get_by_role("button", name="Compute language cost").click()
        page.locator("#tokenizers-cost-plot .js-plotly-plot").wait_for(timeout=90_000)
        page.wait_for_timeout(1000)
        texts = page.evaluate(CONTRAST_JS, "#tokenizers-counts, #tokenizers-cost-plot")
        assert len(texts) > 10 and min(r for _, r in texts) >= 4.5, sorted(texts, key=lambda t: t[1])[:5]
    finally:
        page.context.close()
    page = _open(browser, f"{lab_url}vision", 1400, 1000, dark=True)
    try:
        banner = page.locator(".vision-offline").first
        assert page.evaluate(ELEMENT_CONTRAST_JS, banner.element_handle()) >= 4.5
        assert page.evaluate("getComputedStyle(document.querySelector('.vision-offline')).backgroundColor") \
            != "rgb(255, 251, 235)"  # the offline banner turns dark too
        page.locator("#vision-gallery img").first.wait_for(timeout=60_000)
        page.locator("#vision-label-btn").click()
        page.locator("#vision-label-plot .js-plotly-plot").wait_for(timeout=120_000)
        page.get_by_role("tab", name="Similarity matrix").click()
        page.locator("#vision-sim-btn").click()
        page.locator("#vision-sim-plot .js-plotly-plot").wait_for(timeout=120_000)
        page.wait_for_timeout(1000)
        texts = page.evaluate(CONTRAST_JS, "#vision-label-plot, #vision-sim-plot")
        assert len(texts) > 10 and min(r for _, r in texts) >= 4.5, sorted(texts, key=lambda t: t[1])[:5]
    finally:
        page.context.close()


def test_dark_mode_arena_leaderboard_readable(lab_url: str, browser: Any) -> None:
    """The leaderboard's four figures (no votes yet: their axes, titles and grids): own text readable,
    and the grid as soft on the dark page as on the light one (the lab's theming, not a light template's)."""
    page = _open(browser, f"{lab_url}arena", 1400, 1000, dark=True)
    try:
        page.get_by_role("tab", name="Leaderboard").click()
        page.locator(".js-plotly-plot .gtitle").nth(3).wait_for(timeout=60_000)  # all four drawn
        page.wait_for_timeout(1000)
        texts = page.evaluate(CONTRAST_JS, ".js-plotly-plot")
        assert len(texts) > 10 and min(r for _, r in texts) >= 4.5, sorted(texts, key=lambda t: t[1])[:5]
        grid = page.evaluate(GRID_JS, ".js-plotly-plot")
        assert len(grid) > 5 and max(grid) < 3, grid
    finally:
        page.context.close()


def test_dark_mode_topic_outliers_and_map_readable(lab_url: str, browser: Any) -> None:
    """The outlier share (once white on pale yellow) and the document map's own text, in dark mode."""
    page = _open(browser, f"{lab_url}topics", 1400, 1000, dark=True)
    try:
        page.wait_for_selector(".topics-preview", timeout=90_000)  # the sample corpus is loaded
        page.locator("#topics-run").click()
        page.locator("#topics-summary .topics-outliers").wait_for(timeout=240_000)
        page.locator("#topics-map .js-plotly-plot").wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        tile = page.locator("#topics-summary .topics-outliers")
        assert page.evaluate("el => getComputedStyle(el).backgroundColor", tile.element_handle()) \
            not in ("rgb(254, 243, 199)", "rgb(255, 251, 235)")  # not a pale yellow panel
        for part in ("b", "span"):  # the share and its caption
            assert page.evaluate(ELEMENT_CONTRAST_JS, tile.locator(part).element_handle()) >= 4.5, part
        texts = page.evaluate(CONTRAST_JS, "#topics-map")
        assert len(texts) > 5 and min(r for _, r in texts) >= 4.5, sorted(texts, key=lambda t: t[1])[:5]
    finally:
        page.context.close()

@pytest.mark.parametrize("name,path,ready", [("home", "", ".lab-card"), ("tokenizers", "tokenizers", ".tokenizers-col"),
                                             ("vision", "vision", "#vision-gallery img")])
def test_screenshots(lab_url: str, browser: Any, name: str, path: str, ready: str) -> None:
    """1400×1000, 390×844 and dark screenshots for a person to look at."""
    (SHOTS / name).mkdir(parents=True, exist_ok=True)
    for tag, (w, h), dark in (("desktop", (1400, 1000), False), ("phone", (390, 844), False),
                              ("dark", (1400, 1000), True)):
        page = _open(browser, f"{lab_url}{path}", w, h, dark)
        try:
            page.locator(ready).first.wait_for(timeout=90_000)
            if name == "tokenizers":
                page.locator("#tokenizers-counts .js-plotly-plot").wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(SHOTS / name / f"{tag}.png"), full_page=tag != "phone")
        finally:
            page.context.close()
