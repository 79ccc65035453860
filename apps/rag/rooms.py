"""RAG Chat in a workshop room: the room's shared collection, and who may change it.

``/rag?room=CODE`` opens the room's collection for a participant: they ask (chat, compare, evaluate)
over the room's documents, and may upload private documents of their own, added for their session
only (their "Clear my documents" releases only those). ``/rag?room=CODE&key=SECRET`` is the
instructor: the Documents tab's upload, built-in corpus, re-chunk and clear then act on the room's
collection (:mod:`core.rag.room`), each checking the key on the server.
"""
from __future__ import annotations

from typing import Any

from core.errors import LabError


def shared(room: str) -> Any:
    """The room's shared documents (:class:`core.rag.room.RoomDocs`), or None outside rooms."""
    if not (room or "").strip():
        return None
    from core.rag.room import APP, room_docs
    from core.rooms import get_rooms

    return room_docs(get_rooms().require(room, APP, open_only=False))


def staff(room: str, key: str) -> bool:
    """True for the room's instructor; False for a participant (no key) or outside rooms; a key that
    is not the room's is refused (never silently treated as a participant's upload)."""
    if not (room or "").strip() or not key:
        return False
    from core.rag.room import APP
    from core.rooms import get_rooms

    get_rooms().instructor(room, key, APP)
    return True


def need_open(room: str) -> None:
    """A closed room takes no new uploads (its collection stays readable)."""
    if (room or "").strip():
        from core.rag.room import APP
        from core.rooms import get_rooms

        get_rooms().require(room, APP)


def index_room(room: str, key: str, docs: list, cfg: Any, *, builtin: bool = False) -> Any:
    """Instructor: index into the room's collection (the built-in corpus replaces it)."""
    from core.rag.room import index_room as index

    from core.rooms import get_rooms

    if not docs and not builtin:
        current = shared(room)
        if current is None or not current.refs:
            raise LabError("The room has no documents yet: upload files or use the built-in corpus.")
    return index(get_rooms(), room, key, docs, cfg, replace=builtin, builtin=builtin)


def clear_room(room: str, key: str) -> tuple[int, int]:
    from core.rag.room import clear_room as clear
    from core.rooms import get_rooms

    return clear(get_rooms(), room, key)


def what(pr: Any) -> str:
    """The banner's "what this room shares" part."""
    if pr.room is None:
        return ""
    from core.rag.room import room_docs

    docs = room_docs(pr.room)
    names = ", ".join(r.name for r in docs.refs[:4]) + (" …" if len(docs.refs) > 4 else "")
    if pr.instructor:
        return (f"shared documents: {names}. Uploads, the built-in corpus, re-chunk and clear change the room's "
                "collection for everyone." if docs.refs else
                "the room has no documents yet: upload them (or use the built-in corpus) once, for everyone.")
    if not docs.refs:
        return "your instructor has not shared documents yet; reload the page once they have."
    return f"shared documents: {names}. Ask away; files you upload stay in your session only."


def stats(refs: list, coll: Any, fresh: list) -> list:
    """Indexing rows for every document of the collection (those not indexed just now come from disk)."""
    from collections import Counter

    from core.rag.store import DocStats

    done = {s.name for s in fresh}
    per_doc = Counter(c.doc for c in coll.chunks)
    return list(fresh) + [DocStats(r.name, r.kind, r.pages, r.chars, per_doc.get(r.name, 0), True, 0.0)
                          for r in refs if r.name not in done]


def room_documents(state: Any, room: str, key: str) -> tuple:
    """On page load in a room: the Documents tab shows the room's shared collection."""
    import gradio as gr

    from apps.rag import events as ev
    from core.rag.store import BuildResult

    if not (room or "").strip():
        return tuple(gr.skip() for _ in range(6))
    coll = ev.collection(state, room)
    if coll is None:
        return (gr.skip(), '<div class="rag-empty">This room has no shared documents yet.</div>', gr.skip(),
                gr.skip(), gr.skip(), gr.skip())
    return ev._index_outputs(state or ev.Session(holder=ev._holder(state)), BuildResult(coll), [], [], room,
                               shared(room).config)
