"""The lab shell: the home page at ``/``, each app on its own page at ``/<slug>``, one queue.

Gradio's multipage ``Blocks.route`` serves each page with only its own components, so opening one
app downloads one app; query parameters reach the page (``/arena?room=CODE``, a share link).
"""
from __future__ import annotations


import gradio as gr

from apps import manifests
from apps.common import esc, footer, header
from apps.common.jobs import stop_session
from apps.launch import UPLOAD_CACHE, WARMUP, one_app_at_the_end, place
from apps.manifest import Manifest

HOME_INTRO = ("Pick an app. Each one makes chapters of the book interactive with today's models. "
              "The models run on this lab's server; all you need is this browser tab.")


def card(app: Manifest) -> str:
    """A home-page card: the whole card is a link to the app's page."""
    return (f'<a class="lab-card" href="{esc(app.slug)}" id="open-{esc(app.slug)}">'
            f'<div class="emoji">{esc(app.emoji)}</div><h3>{esc(app.title)}</h3>'
            f'<p>{esc(app.tagline)}</p><div class="chapter">Book {esc(app.chapter_tags)}</div>'
            f'<div class="open">Open {esc(app.title)} →</div></a>')


def build_lab() -> tuple[gr.Blocks, str]:
    """The whole lab as one multipage Blocks, plus the CSS to pass to ``launch()`` (which builds the
    FastAPI app: ``queue()`` and ``launch()`` each make one, so none is made here)."""
    with one_app_at_the_end():
        lab, css = _assemble()
    lab.config = lab.get_config_file()
    return lab, css


def _assemble() -> tuple[gr.Blocks, str]:
    apps = manifests()
    css = "".join(app.css for app in apps)
    with gr.Blocks(title="LLM Lab", delete_cache=UPLOAD_CACHE) as lab:
        header()
        gr.Markdown(HOME_INTRO, elem_classes="lab-note")
        gr.HTML('<nav class="lab-cards" aria-label="Apps">' + "".join(card(a) for a in apps) + "</nav>")
        gr.api(lab_info, api_name="lab_info")
        footer()
        lab.unload(stop_session)
    for app in apps:
        with lab.route(f"{app.emoji} {app.title}", app.path):
            header(home="./")
            place(app.build_fn()())
            footer()
    return lab, css


def lab_info() -> dict:
    """What this lab serves: mode, engine, apps, loaded models and memory (instructors, health checks)."""
    from core.jobs import pool
    from core.loader import cache
    from core.settings import get_settings

    settings = get_settings()
    info = {"mode": settings.mode,
            "apps": [{"slug": a.slug, "title": a.title, "path": a.path, "chapters": a.chapter_tags}
                     for a in manifests()],
            "loaded_models": [name for name, _ in cache().loaded()],
            "model_pool": pool().snapshot(), "warmup": dict(WARMUP)}
    try:
        from core.generation import engine_info

        info["engine"] = engine_info()
    except ImportError:
        pass
    try:
        from core.cache import memory_report

        info["memory"] = memory_report()
    except ImportError:
        pass
    return info
