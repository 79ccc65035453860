"""Hostile text for browser tests, and the checks that it was shown as text and never run.

``watch(page)`` before ``page.goto``; after rendering, ``assert_inert(page, "#some-output", watcher,
expect=[...])`` checks: nothing set ``window.__pwned``, no element or attribute the payload could have
injected exists inside the output (``img[src=x]``, a remote Markdown image, ``<script>``, any ``on*``
handler attribute, a ``javascript:`` link), injected-looking links do nothing when clicked, the expected
strings are visible literally, the very long unbroken string stays inside its own box and the page does
not scroll sideways.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"
SVG = '"><svg onload=window.__pwned=1>'
MD_LINK = "[click](javascript:window.__pwned=1)"
MD_IMG = "![x](http://127.0.0.1:1/x.png)"
PAYLOADS = (IMG, SCRIPT, SVG, MD_LINK, MD_IMG)
HOSTILE = " ".join(PAYLOADS)
LONG = "W" * 3000  # one unbroken 3,000-character word
LONG_MARK = "W" * 40  # enough to find the long word in rendered text


@dataclass
class Watcher:
    """Dialogs opened and requests made by the page that only an executed/injected payload would make."""

    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def watch(page: Any) -> Watcher:
    w = Watcher()
    page.on("dialog", lambda d: (w.dialogs.append(d.message), d.dismiss()))

    def _request(req: Any) -> None:
        url = req.url
        if "127.0.0.1:1/" in url or url.rstrip("/").endswith("/x"):
            w.requests.append(url)

    page.on("request", _request)
    return w


_INJECTED_JS = """(sel) => {
  const out = [];
  for (const root of document.querySelectorAll(sel)) {
    for (const e of root.querySelectorAll('*')) {
      const tag = e.tagName.toLowerCase();
      if (tag === 'script') out.push('script: ' + e.textContent.slice(0, 60));
      if (tag === 'img' || tag === 'image') {
        const src = e.getAttribute('src') || e.getAttribute('href') || e.getAttribute('xlink:href') || '';
        if (src === 'x' || src.includes('127.0.0.1:1')) out.push(tag + ' src=' + src);
      }
      for (const a of e.attributes) {
        if (/^on/i.test(a.name)) out.push(tag + ' @' + a.name + '=' + a.value.slice(0, 40));
        if (/href$|src$|action$/i.test(a.name) && /^\\s*javascript:/i.test(a.value)) out.push(tag + ' ' + a.name + '=' + a.value);
      }
    }
  }
  return out;
}"""

_LONG_JS = """([sel, mark]) => {
  // Every text node holding the long word must wrap, sit in a box that scrolls sideways, or be cut
  // with an ellipsis: never spill out of the output's own box (or be clipped silently by an outer box).
  const bad = [];
  let found = 0;
  for (const root of document.querySelectorAll(sel)) {
    const rootRect = root.getBoundingClientRect();
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      if (!node.textContent.includes(mark)) continue;
      const parent = node.parentElement;
      if (!parent || parent.closest('svg')) continue;  // plotly draws (and truncates) text itself
      const range = document.createRange();
      range.selectNodeContents(node);
      const r = range.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;  // not displayed (closed accordion, hidden tab)
      found += 1;
      let scroller = false;
      for (let e = parent; e && e !== document.body; e = e.parentElement) {
        const st = getComputedStyle(e);
        const ox = st.overflowX;
        if ((ox === 'auto' || ox === 'scroll') && e.scrollWidth > e.clientWidth + 1) { scroller = true; break; }
        if (ox === 'hidden' && st.textOverflow === 'ellipsis') { scroller = true; break; }  // cut with a "…"
      }
      if (!scroller && r.right > rootRect.right + 2) {
        bad.push(parent.tagName + '.' + parent.className + ' right=' + Math.round(r.right) +
                 ' > box ' + Math.round(rootRect.right));
      }
    }
  }
  return {found, bad};
}"""


def injected(page: Any, scope: str) -> list[str]:
    """Elements/attributes inside ``scope`` that only the payloads could have put there."""
    return page.evaluate(_INJECTED_JS, scope)


def click_injected_links(page: Any, scope: str) -> int:
    """Click every link in ``scope`` whose text is the injected ``click`` (if Markdown made one)."""
    links = page.locator(scope).locator("a", has_text="click")
    n = 0
    for i in range(links.count()):
        link = links.nth(i)
        if link.inner_text().strip() == "click" and link.is_visible():
            link.click(force=True, no_wait_after=True)
            n += 1
    if n:
        page.wait_for_timeout(300)
    return n


def sideways_overflow(page: Any) -> int:
    """How many pixels the page scrolls sideways (0 = none)."""
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def assert_inert(page: Any, scope: str, watcher: Watcher, expect: Sequence[str] = (),
                 long_text: bool = False) -> None:
    """The hostile text in ``scope`` was rendered as text: see the module docstring."""
    assert page.evaluate("window.__pwned === undefined"), page.evaluate("window.__pwned")
    found = injected(page, scope)
    assert not found, f"injected into {scope}: {found}"
    click_injected_links(page, scope)
    assert page.evaluate("window.__pwned === undefined"), "an injected link ran script"
    shown = page.locator(scope).first.inner_text()
    for text in expect:
        assert text in shown, f"{text[:60]!r} is not shown literally in {scope}: {shown[:300]!r}"
    if long_text:
        res = page.evaluate(_LONG_JS, [scope, LONG_MARK])
        assert res["found"], f"the long word is not displayed in {scope}"
        assert not res["bad"], f"the long word spills out of its box in {scope}: {res['bad']}"
    over = sideways_overflow(page)
    assert over <= 4, f"the page scrolls sideways by {over} px"
    assert not watcher.dialogs, watcher.dialogs
    assert not watcher.requests, f"payload requests: {watcher.requests}"
