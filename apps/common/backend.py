"""The ONE backend picker of the lab: a local chat model or an OpenAI-compatible server.

Every app that generates lays it out with :func:`backend_picker` and builds the backend from the
picker's values with :func:`make` (which calls :func:`core.generation.make_backend`, the lab's one
factory). When the lab has a server (``python -m apps --openai-base-url URL [--openai-model M]``,
or settings ``openai``), the picker starts on that server and its model (the configured one, else
the first the server lists at ``/v1/models``); otherwise on the local model. A session may still
switch to the local model or another server: the API key stays in the browser session.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from core import catalogue
from core.generation import LOCAL, REMOTE, make_backend
from core.generation.servers import configured_server, default_server_model, server_models

KEY_LABEL = "API key (kept only in this browser session)"
URL_HINT = "http://localhost:11434/v1 (Ollama), http://localhost:8000/v1 (vLLM), https://api.openai.com/v1 …"


def default_chat_model() -> str:
    """The lab's default local chat model: the book's Phi-3-mini on the Hub, SmolLM2-135M offline."""
    from core.settings import get_settings

    return "chat-smollm2-135m" if get_settings().offline else "chat-phi3-mini"


@dataclass
class BackendPicker:
    """The picker's components. ``kind`` and ``local_model`` are None in a server-only picker."""

    kind: gr.Radio | None
    local_model: gr.Dropdown | None
    base_url: gr.Textbox
    server_model: gr.Dropdown
    api_key: gr.Textbox
    server_row: gr.Row

    def inputs(self) -> list[Any]:
        """kind, local model, base URL, server model, API key: the order :func:`make` takes
        (a server-only picker: base URL, server model, API key)."""
        server = [self.base_url, self.server_model, self.api_key]
        return server if self.kind is None else [self.kind, self.local_model, *server]

    @staticmethod
    def make(kind: str, local_model: str, base_url: str, server_model: str, api_key: str, **kw: Any) -> Any:
        """The backend for these values (see :func:`make`)."""
        return make(kind, local_model, base_url, server_model, api_key, **kw)


def make(kind: str, local_model: str, base_url: str = "", server_model: str = "", api_key: str = "",
         **kw: Any) -> Any:
    """A backend from a picker's values through :func:`core.generation.make_backend` (``kw``:
    ``need_logits``, ``system_prompt``, ``timeout_s``, ``engine``)."""
    return make_backend(kind, local_model or default_chat_model(), base_url or "", server_model or "",
                        api_key or "", **kw)


def model_dropdown(offer: catalogue.Offer, **kw: Any) -> gr.Dropdown:
    """A model dropdown from :func:`core.catalogue.offer`: its choices, value and info. Offline, where
    the list is shorter than the catalogue, it also takes the names it no longer lists (API callers
    that pass them keep working; the handler checks the name)."""
    return gr.Dropdown(offer.choices, value=offer.value, info=offer.info or None,
                       allow_custom_value=offer.collapsed, **kw)


def _model_choices(models: list[str], value: str) -> list[str]:
    return models if not value or value in models else [value, *models]


def relist_models(base_url: str, api_key: str, current: str) -> Any:
    """The server model dropdown after the base URL changed: that server's models (the current
    choice kept when the server lists it, else its first). Unreachable: free text as before."""
    from core.errors import LabError

    try:
        models = server_models(base_url, api_key or "", timeout_s=3.0, fresh=True)
    except LabError:
        return gr.skip()
    value = current if (current in models or not models) else models[0]
    return gr.update(choices=_model_choices(models, value), value=value)


def backend_picker(slug: str, *, local_default: str | None = None, label: str = "Backend",
                   server_only: bool = False, local_label: str = "Local model") -> BackendPicker:
    """Lay out the picker in the current block and wire its own events (show the fields of the
    chosen backend; list a new base URL's models). ``local_default``: the local model preselected
    (default :func:`default_chat_model`); ``server_only``: only the server fields (apps whose method
    choice already says local or server, like the Classifier Zoo's OpenAI method)."""
    server = configured_server()
    model, listed = default_server_model(server)
    kind = local_model = None
    if not server_only:
        offer = catalogue.offer("chat", local_default or default_chat_model())  # offline: what runs, once
        start = REMOTE if server.configured else LOCAL
        with gr.Row():
            kind = gr.Radio([LOCAL, REMOTE], value=start, label=label, scale=1, elem_id=f"{slug}-backend")
            local_model = model_dropdown(offer, label=local_label, scale=2, visible=start == LOCAL,
                                         elem_id=f"{slug}-local-model")
    with gr.Row(visible=server_only or server.configured) as server_row:
        base_url = gr.Textbox(server.base_url, label="Base URL", placeholder=URL_HINT, elem_id=f"{slug}-base-url")
        server_model = gr.Dropdown(_model_choices(listed, model), value=model, label="Server model",
                                   allow_custom_value=True, elem_id=f"{slug}-server-model",
                                   info="listed by the server (/v1/models); any name may be typed")
        api_key = gr.Textbox("", label=KEY_LABEL, type="password", placeholder="never stored or logged",
                             elem_id=f"{slug}-api-key")
    picker = BackendPicker(kind, local_model, base_url, server_model, api_key, server_row)
    if kind is not None:
        kind.change(lambda k: (gr.update(visible=k == REMOTE), gr.update(visible=k == LOCAL)), kind,
                    [server_row, local_model], api_name=f"{slug}_backend", show_progress="hidden", queue=False)
    gr.on([base_url.submit, base_url.blur], relist_models, [base_url, api_key, server_model], server_model,
          api_visibility="private", show_progress="hidden")
    return picker
