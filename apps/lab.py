"""The lab shell: a home page listing the apps, each app in its own tab, one queue, one launch."""
from __future__ import annotations

import gradio as gr

from apps import AppInfo, available_apps
from apps.ui import BOOK, UPLOAD_CACHE, esc, header, place


def _card(app: AppInfo) -> str:
    return (f'<div class="lab-card"><div class="emoji">{esc(app.emoji)}</div><h3>{esc(app.title)}</h3>'
            f'<p>{esc(app.tagline)}</p><div class="chapter">Book {esc(app.chapters)}</div></div>')


def build_lab() -> tuple[gr.Blocks, str]:
    """The whole lab as one Blocks, plus the CSS to pass to ``launch()``."""
    apps = available_apps()
    css = "".join(getattr(module, "CSS", "") for _, module in apps)
    with gr.Blocks(title="LLM Lab", delete_cache=UPLOAD_CACHE) as lab:
        header("LLM Lab", f"Hands-on apps for understanding and using language models · {BOOK}")
        with gr.Tabs(elem_id="lab-tabs") as tabs:
            with gr.Tab("🏠 Home", id="home"):
                gr.Markdown(
                    "Pick an app. Each one makes chapters of the book interactive with today's models; "
                    "everything runs in your browser, nothing to install."
                    if apps else "No apps are installed yet.")
                with gr.Row(equal_height=True, elem_classes="lab-cards"):
                    for app, _ in apps:
                        with gr.Column(min_width=240):
                            gr.HTML(_card(app))
                            open_btn = gr.Button(f"Open {app.title}", size="sm", variant="secondary",
                                                 elem_id=f"open-{app.slug}")
                            open_btn.click(lambda slug=app.slug: gr.Tabs(selected=slug), None, tabs,
                                           api_visibility="private", queue=False)
            for app, module in apps:
                with gr.Tab(f"{app.emoji} {app.title}", id=app.slug, elem_id=f"tab-{app.slug}"):
                    place(module.build())
        with gr.Row(visible=False):
            info_btn = gr.Button("info")
            info_out = gr.JSON()
        info_btn.click(lab_info, None, info_out, api_name="lab_info")
        gr.HTML(f'<div class="lab-footer">LLM Lab · {esc(BOOK)} · offline-first, deployable to Spaces</div>')
    return lab, css


def lab_info() -> dict:
    """What this lab serves: mode, apps, loaded models (for instructors and health checks)."""
    from core.loader import cache
    from core.settings import get_settings

    settings = get_settings()
    return {"mode": settings.mode,
            "apps": [{"slug": a.slug, "title": a.title, "chapters": a.chapters} for a, _ in available_apps()],
            "loaded_models": [name for name, _ in cache().loaded()]}
