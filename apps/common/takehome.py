"""The three take-home actions every app shows, built once: a link that reopens the app as it is,
a download of the results (CSV/JSON with a provenance header), and "Open as notebook".

    home = takehome(MANIFEST.slug, inputs=[...], link_state=fn, results=fn, notebook=fn)

``link_state(*inputs) -> dict`` returns the state to put in the link; ``results(*inputs) -> (name,
bytes)`` and ``notebook(*inputs) -> core.notebooks.Notebook`` build the files. Restoring a link is the
app's own ``demo.load`` (``restore(request)`` gives the state from the query string or the store).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import gradio as gr

from apps.common.errors import error_html
from core.errors import LabError
from core.links import make_link, open_link
from core.tempfiles import scratch_dir

_OUT = Path(tempfile.gettempdir()) / "llm-lab-takehome"


@dataclass
class TakeHome:
    """The components of the take-home row (tests and apps may wire more to them)."""

    link: gr.Textbox
    file: gr.File
    message: gr.HTML


def _write(name: str, content: bytes) -> str:
    """The file Gradio serves (it copies it into its cache; older take-home folders are removed here)."""
    path = scratch_dir(_OUT, "th-") / name
    path.write_bytes(content)
    return str(path)


def base_url(request: gr.Request | None) -> str:
    """The lab's root URL as the browser sees it (for absolute links); '' when unknown."""
    if request is None:
        return ""
    headers = getattr(request, "headers", {}) or {}
    host = headers.get("x-forwarded-host") or headers.get("host") or ""
    proto = headers.get("x-forwarded-proto") or "http"
    root = (getattr(request, "request", None) and request.request.scope.get("root_path", "")) or ""
    return f"{proto}://{host}{root}" if host else ""


def restore(slug: str, request: gr.Request | None) -> dict[str, Any]:
    """The state a link carries (``{}`` without one); an expired/malformed link raises LabError."""
    params = dict(getattr(request, "query_params", {}) or {}) if request is not None else {}
    return open_link(slug, params)


def takehome(slug: str, inputs: Sequence[Any], *, link_state: Callable[..., dict] | None = None,
             results: Callable[..., tuple[str, bytes]] | None = None,
             notebook: Callable[..., Any] | None = None, label: str = "Take it home") -> TakeHome:
    """Lay out the row and wire the three actions (API names ``<slug>_link``, ``<slug>_download``,
    ``<slug>_notebook``)."""
    with gr.Group(elem_classes="lab-takehome"):
        with gr.Row(equal_height=True):
            gr.HTML(f'<div class="lab-takehome-title">{label}</div>')
            link_btn = gr.Button("🔗 Copy link", size="sm", visible=link_state is not None)
            data_btn = gr.Button("⬇ Download results", size="sm", visible=results is not None)
            nb_btn = gr.Button("📓 Open as notebook", size="sm", visible=notebook is not None)
        link = gr.Textbox(label="Link to this state", buttons=["copy"], interactive=False, visible=False)
        message = gr.HTML()
        file = gr.File(label="Download", visible=False, interactive=False)

    def do_link(request: gr.Request, *values: Any) -> tuple[Any, str]:  # gradio injects only leading positional Requests
        try:
            made = make_link(slug, link_state(*values))  # type: ignore[misc]
        except LabError as exc:
            return gr.update(visible=False), error_html(str(exc))
        page = str((getattr(request, "headers", {}) or {}).get("referer") or "").split("?")[0].split("#")[0]
        if page:  # the page the browser shows: /<slug> in the lab, / in a Space or a standalone app
            value = f"{page}?{made.query}" if made.query else page
        else:
            value = made.url(base_url(request)) if base_url(request) else made.path_and_query
        return gr.update(value=value, visible=True), f'<div class="lab-note">{made.note}</div>'

    def do_file(builder: Callable[..., Any]) -> Callable[..., Any]:
        def run(*values: Any) -> tuple[Any, str]:
            try:
                built = builder(*values)
                name, content = built.bundle() if hasattr(built, "bundle") else built
            except LabError as exc:
                return gr.update(visible=False), error_html(str(exc))
            return gr.update(value=_write(name, content), visible=True), ""
        return run

    if link_state is not None:
        link_btn.click(do_link, list(inputs), [link, message], api_name=f"{slug}_link")
    if results is not None:
        data_btn.click(do_file(results), list(inputs), [file, message], api_name=f"{slug}_download")
    if notebook is not None:
        nb_btn.click(do_file(notebook), list(inputs), [file, message], api_name=f"{slug}_notebook")
    return TakeHome(link, file, message)

