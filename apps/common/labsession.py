"""One id per browser across the lab's pages (the owner of trained models, :mod:`core.training.session_models`).

Gradio gives every page load its own ``request.session_hash``: the Classifier Zoo at ``/classifiers``
and RAG Chat at ``/rag`` are different sessions, even in one tab. The lab id is a random token kept
in the browser's ``localStorage`` by a :class:`gr.BrowserState` (same ``storage_key`` and ``secret``
on every page of this server, so every page of the lab reads the same value); each page load binds
its session hash to it (:func:`wire`), and :func:`current` answers "which lab id runs this event".

API clients (``gradio_client``) have no localStorage: without a binding the page's session hash is
the id (one Client = one session); a client may bind its session to a lab id it holds through the
``<slug>_lab_session`` endpoint (ids are 128-bit random tokens, as unguessable as a session cookie).
Standalone apps (``python -m apps.<slug>``) live on their own port, hence their own localStorage.
"""
from __future__ import annotations

import re
import secrets
import threading
import uuid
from collections import OrderedDict
from typing import Any

import gradio as gr

from core.training import session_models

STORAGE_KEY = "llm-lab-id"
#: shared by every page this process serves (BrowserState encrypts in the browser with it; a restart
#: makes old values unreadable, which only means a fresh id: trained models live in memory anyway)
_SECRET = secrets.token_hex(16)
_VALID = re.compile(r"^[0-9a-f]{32}$")
MAX_BINDINGS = 20_000
_bindings: OrderedDict[str, str] = OrderedDict()  # session hash -> lab id (most recent last)
_lock = threading.Lock()


def _session_hash() -> str | None:
    from gradio.context import LocalContext

    return getattr(LocalContext.request.get(None), "session_hash", None)


def bind(session_hash: str | None, lab_id: Any) -> str:
    """Bind a page session to ``lab_id`` (a fresh id when it is missing or malformed); the id."""
    lab_id = lab_id if isinstance(lab_id, str) and _VALID.match(lab_id) else uuid.uuid4().hex
    if session_hash:
        with _lock:
            _bindings[session_hash] = lab_id
            _bindings.move_to_end(session_hash)
            while len(_bindings) > MAX_BINDINGS:
                _bindings.popitem(last=False)
    return lab_id


def current() -> str | None:
    """The lab id of the event being handled: the page's binding, else its session hash."""
    sh = _session_hash()
    if not sh:
        return None
    with _lock:
        return _bindings.get(sh, sh)


def wire(demo: gr.Blocks, slug: str) -> Any:
    """Inside ``demo``'s ``with`` block: the lab id in localStorage, bound on every page load. Returns
    the load event (chain ``.then(...)`` for what needs the binding, e.g. the trained-embedder choice)."""
    state = gr.BrowserState(None, storage_key=STORAGE_KEY, secret=_SECRET)

    def lab_session(lab_id: Any, request: gr.Request) -> str:
        return bind(getattr(request, "session_hash", None), lab_id)

    return demo.load(lab_session, state, state, api_name=f"{slug}_lab_session", queue=False)


session_models.set_provider(current)


def embedder_choices(base: list[tuple[str, str]], value: str | None = None) -> Any:
    """A dropdown update: ``base`` choices plus this lab session's trained embedder (when it has one);
    the value stays when it is still offered (a replaced or evicted trained embedder falls back to
    the first base choice)."""
    choices = list(base) + session_models.choices(current())
    names = [n for _, n in choices]
    keep = value if value in names else (names[0] if names else None)
    return gr.update(choices=choices, value=keep)


def offer_trained_embedder(demo: gr.Blocks, slug: str, dropdown: gr.Dropdown, base: Any) -> None:
    """List the session's trained embedder in ``dropdown`` (on page load, after the lab id is bound,
    and whenever the dropdown gets focus: training may finish in another tab). ``base()`` gives the
    usual choices. API: ``<slug>_embedders(current value)`` returns the refreshed dropdown."""
    def refresh(value: str | None) -> Any:
        return embedder_choices(base(), value)

    wire(demo, slug).then(refresh, dropdown, dropdown, api_visibility="private")
    dropdown.focus(refresh, dropdown, dropdown, api_name=f"{slug}_embedders")  # queued: the session keeps the choices
