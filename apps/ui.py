"""Shared look and launch helpers for every app (theme, CSS, header, safe HTML, errors).

Gradio ignores CSS declared on a Blocks that is rendered into another one, so each app exports its
CSS string and whoever launches (the lab shell, ``python -m apps.<name>``, a Space's ``app.py``)
passes ``BASE_CSS`` plus the apps' CSS to ``launch()``.
"""
from __future__ import annotations

import argparse
import functools
import html
import logging
import os
from typing import Any, Callable, Sequence

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import core.gpu  # noqa: E402,F401  (imports `spaces` before anything can import torch)
import gradio as gr  # noqa: E402

from core.errors import LabError  # noqa: E402
from core.settings import get_settings  # noqa: E402

log = logging.getLogger(__name__)

BOOK = "Hands-On Large Language Models (Alammar & Grootendorst, O'Reilly 2024)"

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
.lab-header .lab-sub { color:var(--body-text-color-subdued); font-size:.92rem; margin-top:.15rem; }
.lab-badge { display:inline-block; border-radius:999px; padding:.22rem .7rem; font-size:.8rem;
  font-weight:600; white-space:nowrap; border:1px solid transparent; }
.lab-badge.offline { background:#ecfdf5; color:#065f46; border-color:#a7f3d0; }
.lab-badge.hub { background:#eef2ff; color:#3730a3; border-color:#c7d2fe; }
.lab-app-title { display:flex; align-items:baseline; gap:.6rem; flex-wrap:wrap; margin:.2rem 0 .1rem; }
.lab-app-title h2 { margin:0; font-size:1.3rem; }
.lab-chapter { color:var(--body-text-color-subdued); font-size:.85rem; }
.lab-note { color:var(--body-text-color-subdued); font-size:.85rem; }
.lab-cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(260px, 1fr)); gap:14px; }
.lab-card { border:1px solid var(--border-color-primary); border-radius:14px; padding:14px 16px;
  background:var(--block-background-fill); min-height:118px; }
.lab-card .emoji { font-size:1.6rem; }
.lab-card h3 { margin:.25rem 0 .2rem; font-size:1.05rem; }
.lab-card p { margin:0; color:var(--body-text-color-subdued); font-size:.9rem; }
.lab-card .chapter { margin-top:.45rem; font-size:.78rem; color:var(--color-accent); font-weight:600; }
.lab-error { border-left:4px solid #dc2626; background:#fef2f2; color:#7f1d1d; padding:.55rem .8rem;
  border-radius:6px; }
.lab-warn { border-left:4px solid #d97706; background:#fffbeb; color:#78350f; padding:.55rem .8rem;
  border-radius:6px; }
.lab-footer { color:var(--body-text-color-subdued); font-size:.8rem; text-align:center; padding:.6rem; }
"""


def esc(text: Any) -> str:
    """HTML-escape any user-provided value (always use this before putting text into HTML)."""
    return html.escape(str(text), quote=True)


def esc_md(text: Any) -> str:
    """Escape user/model text for a component that renders Markdown (gr.Markdown, gr.Chatbot): HTML is
    escaped like :func:`esc` and ``[``/``]`` become entities, so no link or image can be formed
    (``[x](javascript:…)``, a tracking ``![x](http://…)``); emphasis, lists and code still render."""
    return esc(text).replace("[", "&#91;").replace("]", "&#93;")


def mode_badge() -> str:
    settings = get_settings()
    if settings.offline:
        return '<span class="lab-badge offline" title="Small packaged models; no network needed">● offline models</span>'
    return '<span class="lab-badge hub" title="The book\'s models from the Hugging Face Hub">● Hub models</span>'


def header(title: str, subtitle: str) -> gr.HTML:
    """The lab's top bar: title, one line, and the offline/hub mode."""
    return gr.HTML(
        f'<div class="lab-header"><div><h1>{esc(title)}</h1><div class="lab-sub">{esc(subtitle)}</div></div>'
        f"<div>{mode_badge()}</div></div>"
    )


def app_title(emoji: str, title: str, chapters: str, tagline: str) -> gr.HTML:
    """The heading at the top of each app (shown standalone and inside the lab)."""
    return gr.HTML(
        f'<div class="lab-app-title"><h2>{esc(emoji)} {esc(title)}</h2>'
        f'<span class="lab-chapter">{esc(BOOK.split(" (")[0])}, {esc(chapters)}</span></div>'
        f'<div class="lab-note">{esc(tagline)}</div>'
    )


def error_html(message: str) -> str:
    return f'<div class="lab-error">{esc(message)}</div>'


def warn_html(message: str) -> str:
    return f'<div class="lab-warn">{esc(message)}</div>'


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn :class:`LabError` into a visible ``gr.Error`` and anything unexpected into a short
    message (logged with its traceback server-side), so users never see a stack trace."""

    def _convert(exc: BaseException) -> gr.Error:
        if core.gpu.is_zero_gpu_error(exc):  # ZeroGPU quota / no GPU: say what it means, not its jargon
            return gr.Error(core.gpu.friendly_gpu_message(exc), title="GPU unavailable", print_exception=False)
        if isinstance(exc, gr.Error):
            return exc
        if isinstance(exc, LabError):  # toasts render HTML, and messages may quote user text (a file name…)
            return gr.Error(html.escape(str(exc), quote=False), print_exception=False)
        log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
        return gr.Error(f"Something went wrong ({type(exc).__name__}). The details are in the server log.",
                        print_exception=False)

    import inspect

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                raise _convert(exc) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise _convert(exc) from None
    return wrapper


def configure_queue(blocks: gr.Blocks) -> gr.Blocks:
    """Explicit queue settings (ZeroGPU would otherwise cap the queue at 1), and the per-session
    limit on heavy jobs applied to every event in the shared :data:`HEAVY` pool."""
    settings = get_settings()
    for block_fn in blocks.fns.values():
        if block_fn.concurrency_id == HEAVY and block_fn.fn is not None:
            block_fn.fn = limit_jobs_per_session(block_fn.fn)
    return blocks.queue(max_size=settings.queue_max_size, default_concurrency_limit=settings.concurrency)


def _session_hash() -> str | None:
    from gradio.context import LocalContext

    request = LocalContext.request.get(None)
    return getattr(request, "session_hash", None)


def limit_jobs_per_session(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a call when its browser session already runs ``Limits.jobs_per_session`` heavy jobs
    (the refusal is a normal user message). Idempotent; keeps ``fn``'s signature and generator-ness,
    which Gradio inspects to inject ``gr.Request``/``gr.Progress`` and to stream."""
    if getattr(fn, "_lab_session_limited", False):
        return fn
    import inspect

    from core.jobs import SESSION_JOBS

    def _acquire() -> tuple[str | None, int]:
        key = (_session_hash(), get_settings().limits.jobs_per_session)
        try:
            SESSION_JOBS.acquire(*key)
        except LabError as exc:
            raise gr.Error(str(exc), title="Please wait", print_exception=False) from None
        return key

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def limited_gen(*args: Any, **kwargs: Any) -> Any:
            key = _acquire()
            try:
                yield from fn(*args, **kwargs)
            finally:
                SESSION_JOBS.release(*key)
        wrapped: Callable[..., Any] = limited_gen
    else:
        @functools.wraps(fn)
        def limited(*args: Any, **kwargs: Any) -> Any:
            key = _acquire()
            try:
                return fn(*args, **kwargs)
            finally:
                SESSION_JOBS.release(*key)
        wrapped = limited
    wrapped._lab_session_limited = True  # type: ignore[attr-defined]
    return wrapped


#: Gradio keeps every upload in its temp folder; the launched Blocks sweeps files older than a
#: workshop day every hour (``delete_cache=(frequency_s, age_s)``) so a room's uploads cannot fill
#: the disk. Data the apps keep (RAG documents, votes) lives in ``LLM_LAB_DATA``, not there.
UPLOAD_CACHE = (3600, 8 * 3600)

#: Pass as ``concurrency_id=HEAVY`` (with ``concurrency_limit=heavy_limit()``) on events that run
#: models, so heavy calls share one bounded pool and cannot starve light ones.
HEAVY = "lab-heavy"


def heavy_limit() -> int:
    return get_settings().heavy_concurrency


def launch_kwargs(css: str = "") -> dict[str, Any]:
    return {"theme": THEME, "css": BASE_CSS + css, "footer_links": ["api", "gradio", "settings"]}


def parse_args(argv: Sequence[str] | None = None, description: str = "") -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="create a temporary public gradio.live link")
    return parser.parse_args(argv)


def serve(blocks: gr.Blocks, css: str = "", argv: Sequence[str] | None = None, description: str = "") -> None:
    """Start an app from the command line (``--host``, ``--port``)."""
    args = parse_args(argv, description)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    configure_queue(blocks).launch(server_name=args.host, server_port=args.port, share=args.share,
                                   **launch_kwargs(css))


def place(blocks: gr.Blocks) -> gr.Blocks:
    """Put an app's Blocks into the current layout exactly once.

    A Blocks created inside another's ``with`` is already placed there when its own ``with`` closes;
    calling ``.render()`` on it again would duplicate every component (same ids twice in the page).
    """
    if getattr(blocks, "parent", None) is None:
        blocks.render()
    return blocks


def standalone(build: Callable[[], gr.Blocks], slug: str, css: str = "") -> gr.Blocks:
    """Wrap one app in the lab's chrome so it can run alone (``python -m apps.<name>``, a Space)."""
    from apps import info

    app = info(slug)
    with gr.Blocks(title=f"{app.title} · LLM Lab", delete_cache=UPLOAD_CACHE) as demo:
        header("LLM Lab", f"Hands-on apps for understanding and using language models · {BOOK}")
        place(build())
        gr.HTML(f'<div class="lab-footer">LLM Lab — {esc(BOOK)}</div>')
    demo.lab_css = BASE_CSS + css  # type: ignore[attr-defined]
    return demo
