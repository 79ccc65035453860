"""The lab's look: theme, base CSS, header with navigation, app headings with chapter links."""
from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from apps.common.plots import PLOT_CSS  # noqa: E402
from apps.manifest import Manifest  # noqa: E402
from core.escape import esc  # noqa: E402
from core.settings import get_settings  # noqa: E402

BOOK = "Hands-On Large Language Models (Alammar & Grootendorst, O'Reilly 2024)"
BOOK_SHORT = "Hands-On Large Language Models"

THEME = gr.themes.Soft(
    primary_hue="indigo",
    secondary_hue="teal",
    neutral_hue="slate",
    font=["Inter", "ui-sans-serif", "system-ui", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)

BASE_CSS = """
.lab-header { display:flex; align-items:center; justify-content:space-between; gap:1rem;
  padding:.6rem .2rem .2rem; }
.lab-header h1 { margin:0; font-size:1.55rem; font-weight:700; letter-spacing:-.01em; }
.lab-header h1 a { color:inherit; text-decoration:none; }
.lab-header .lab-sub { color:var(--body-text-color-subdued); font-size:.92rem; margin-top:.15rem; }
.lab-badge { display:inline-block; border-radius:999px; padding:.22rem .7rem; font-size:.8rem;
  font-weight:600; white-space:nowrap; border:1px solid transparent; }
.lab-badge.offline { background:#ecfdf5; color:#065f46; border-color:#a7f3d0; }
.lab-badge.hub { background:#eef2ff; color:#3730a3; border-color:#c7d2fe; }
.dark .lab-badge.offline { background:#064e3b; color:#d1fae5; border-color:#047857; }
.dark .lab-badge.hub { background:#312e81; color:#e0e7ff; border-color:#4338ca; }
.lab-app-title { display:flex; align-items:baseline; gap:.6rem; flex-wrap:wrap; margin:.2rem 0 .1rem; }
.lab-app-title h2 { margin:0; font-size:1.3rem; }
.lab-chapter { color:var(--body-text-color-subdued); font-size:.85rem; }
.lab-chapter a { color:var(--color-accent); }
.lab-note { color:var(--body-text-color-subdued); font-size:.85rem; }
.lab-cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(260px, 1fr)); gap:14px; }
a.lab-card { display:block; border:1px solid var(--border-color-primary); border-radius:14px; padding:14px 16px;
  background:var(--block-background-fill); min-height:118px; color:inherit; text-decoration:none;
  transition:border-color .15s, box-shadow .15s; }
a.lab-card:hover, a.lab-card:focus-visible { border-color:var(--color-accent); box-shadow:0 2px 10px rgba(79,70,229,.15); }
.lab-card .emoji { font-size:1.6rem; }
.lab-card h3 { margin:.25rem 0 .2rem; font-size:1.05rem; }
.lab-card p { margin:0; color:var(--body-text-color-subdued); font-size:.9rem; }
.lab-card .chapter { margin-top:.45rem; font-size:.78rem; color:var(--color-accent); font-weight:600; }
.lab-card .open { margin-top:.5rem; font-size:.85rem; font-weight:600; color:var(--color-accent); }
.lab-error { border-left:4px solid #dc2626; background:#fef2f2; color:#7f1d1d; padding:.55rem .8rem;
  border-radius:6px; }
.lab-warn { border-left:4px solid #d97706; background:#fffbeb; color:#78350f; padding:.55rem .8rem;
  border-radius:6px; }
.dark .lab-error { background:#450a0a; color:#fecaca; }
.dark .lab-warn { background:#451a03; color:#fde68a; }
.lab-job { font-size:.88rem; padding:.45rem .7rem; border-radius:8px; border:1px solid var(--border-color-primary);
  background:var(--block-background-fill); }
.lab-job-waiting { border-left:4px solid #d97706; }
.lab-job-running { border-left:4px solid var(--color-accent); }
.lab-job-done { border-left:4px solid #059669; color:var(--body-text-color-subdued); }
.lab-job-stopped { border-left:4px solid #64748b; }
.lab-job-error { border-left:4px solid #dc2626; background:#fef2f2; color:#7f1d1d; }
.dark .lab-job-error { background:#450a0a; color:#fecaca; }
.lab-job-bar { height:4px; background:var(--border-color-primary); border-radius:2px; margin-top:.35rem; }
.lab-job-bar > div { height:4px; background:var(--color-accent); border-radius:2px; transition:width .2s; }
.lab-takehome { padding:.35rem .6rem; border-radius:10px; }
.lab-takehome-title { font-weight:600; font-size:.9rem; padding-top:.35rem; white-space:nowrap; }
.lab-footer { color:var(--body-text-color-subdued); font-size:.8rem; text-align:center; padding:.6rem; }
@media (max-width: 640px) {
  .lab-header .lab-sub { display:none; }
  .lab-header h1 { font-size:1.25rem; }
  .lab-cards { grid-template-columns:1fr; }
  /* "Take it home": the title on its own line, the three actions stacked under it (not 1 + 2) */
  .lab-takehome .row > .block:has(.lab-takehome-title) { flex:1 1 100%; }
  .lab-takehome .row > button { flex:1 1 100%; }
}
/* the page navigation: one line that scrolls by itself (a phone got five lines over its first screen).
   Outside @media: Gradio scopes custom rules to .contain, and only top-level rules also reach the nav. */
.nav-holder nav { flex-wrap:nowrap !important; overflow-x:auto; justify-content:flex-start !important;
  scrollbar-width:thin; }
.nav-holder nav a { white-space:nowrap; flex:0 0 auto; }
/* errors live inline next to the action (errors_inline, job status lines): no red "Error"
   pill laid over the event's output components, hiding them */
.wrap:has(> span.error), .wrap:has(> .clear-status + span.error) { display:none !important; }
.lab-section { font-size:.8rem; color:var(--body-text-color-subdued); margin:.1rem 0 .35rem; }
.lab-section a { color:var(--color-accent); }
/* a long dropdown value ends in "…" before the arrow, never under it */
.wrap-inner .secondary-wrap input { padding-right:1.3rem; text-overflow:ellipsis; }
""" + PLOT_CSS


def mode_badge() -> str:
    """The offline/hub badge, with the generation engine in its tooltip."""
    settings = get_settings()
    engine = _engine_label()
    if settings.offline:
        return (f'<span class="lab-badge offline" title="Small packaged models; no network needed{esc(engine)}">'
                "● offline models</span>")
    return f'<span class="lab-badge hub" title="The book\'s models from the Hugging Face Hub{esc(engine)}">● Hub models</span>'


def _engine_label() -> str:
    """Which engine generates (in the badge's tooltip). ``core.generation`` is imported by name so
    that a Space of an app that does not generate does not bundle the generation engines."""
    import importlib

    try:
        return f" · generation: {importlib.import_module('core.generation').engine_info()['engine']}"
    except Exception:  # noqa: BLE001 - a badge must never break a page (and the package may be absent)
        return ""


def header(title: str = "LLM Lab", subtitle: str = "Hands-on apps for understanding and using language models",
           home: str | None = None) -> gr.HTML:
    """The lab's top bar: title (a link home when ``home`` is given), one line, and the mode."""
    name = f'<a href="{esc(home)}">{esc(title)}</a>' if home else esc(title)
    return gr.HTML(
        f'<div class="lab-header"><div><h1>{name}</h1><div class="lab-sub">{esc(subtitle)}</div></div>'
        f"<div>{mode_badge()}</div></div>"
    )


def chapter_links(manifest: Manifest) -> str:
    """Links to the book's companion notebooks for each chapter an app covers, sections named."""
    return " · ".join(f'<a href="{esc(c.url)}" target="_blank" rel="noopener">{esc(c.label)}</a>'
                      for c in manifest.chapters)


def app_title(manifest: Manifest) -> gr.HTML:
    """The heading at the top of each app (shown standalone and inside the lab)."""
    return gr.HTML(
        f'<div class="lab-app-title"><h2>{esc(manifest.emoji)} {esc(manifest.title)}</h2>'
        f'<span class="lab-chapter">{esc(BOOK_SHORT)}: {chapter_links(manifest)}</span></div>'
        f'<div class="lab-note">{esc(manifest.tagline)}</div>'
    )


def section_link(manifest: Manifest, section: str, chapter: int | None = None) -> gr.HTML:
    """A panel's link to the book's companion notebook, naming the section it makes interactive."""
    chap = next((c for c in manifest.chapters if chapter in (None, c.number)), manifest.chapters[0])
    return gr.HTML(f'<div class="lab-section">📖 {esc(section)} — <a href="{esc(chap.url)}" target="_blank" '
                   f'rel="noopener">Ch. {chap.number} notebook</a></div>')


def footer() -> gr.HTML:
    return gr.HTML(f'<div class="lab-footer">LLM Lab · {esc(BOOK)} · offline-first, deployable to Spaces</div>')
