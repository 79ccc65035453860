"""RAG Chat's dense-embedder choice: the lab's embedder, or the one this browser session trained in
the Classifier Zoo (:mod:`core.training.session_models`; listed by :mod:`apps.common.labsession`).

Choosing re-embeds the loaded documents with it: its indexes have their own keys (the model name,
artifact id included) and stay in memory; questions are embedded with it too.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import gradio as gr

from apps.common import esc, user_errors
from apps.rag import events as ev
from core.errors import LabError

if TYPE_CHECKING:
    from core.catalogue import Offer


def base_offer() -> Offer:
    """The lab's embedder (what every session can choose), labelled with what runs in this mode."""
    from core import catalogue
    from core.rag.models import EMBEDDER

    return catalogue.offer("sentence-embedding", EMBEDDER, names=(EMBEDDER,))


def base_choices() -> list[tuple[str, str]]:
    """The dropdown choices of :func:`base_offer`."""
    return base_offer().choices


@user_errors
def choose(model: str, strategy: str, size: float, overlap: float, state: Any, room: str = "",
           key: str = "") -> tuple:
    """Use ``model`` for dense retrieval in this session (the loaded documents are re-embedded)."""
    from core.rag.models import EMBEDDER, embedder_id
    from core.rag.store import BuildResult

    model = model or EMBEDDER
    if model != EMBEDDER and not model.startswith("session:"):
        raise LabError(f"Unknown embedder {model!r}: choose one of the list.")
    if model != EMBEDDER:
        embedder_id(model)  # another session's, replaced or evicted: a clear ModelUnavailable
    state = replace(state or ev.Session(holder=ev._holder(state)), embedder="" if model == EMBEDDER else model)
    if state.refs:
        state, result = ev._index(state, [], state.config or ev.config(strategy, size, overlap))
        return ev._index_outputs(state, result, [], [], room)
    coll = ev.collection(state, room)
    if coll is not None:  # a room's documents, embedded for this session
        return ev._index_outputs(state, BuildResult(coll), [], [], room)
    note = f"Dense retrieval will use {ev.embedder(state)} once documents are loaded."
    return (state, f'<div class="rag-empty">{esc(note)}</div>', *(gr.skip() for _ in range(4)))
