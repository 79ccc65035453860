"""A workshop room's shared document collection (issue 17).

The instructor of a RAG room (:mod:`core.rooms`, app ``rag``) uploads documents once; they are held
by the pinned holder ``room:<code>`` (:mod:`core.rag.sessions`), so no participant's "Clear my
documents" and no TTL sweep removes them, and the room's references (documents + chunking) are
kept in the room's ``refs`` in SQLite, so the collection survives a restart. Every change checks the
instructor key on the server; participants only read the collection (and may add private documents
to their own session, kept in their session's references).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from core.rag.chunking import ChunkConfig, Document
from core.rag.sessions import BUILTIN, ROOM_PREFIX, index_for, release
from core.rag.store import BuildResult, DocRef, IndexStore
from core.rooms import Room, RoomStore

APP = "rag"
REF_KEY = "rag"


@dataclass(frozen=True)
class RoomDocs:
    """What a room shares: its documents, how they are chunked, and whether it is the built-in corpus."""

    refs: list[DocRef] = field(default_factory=list)
    config: ChunkConfig | None = None
    builtin: bool = False

    @property
    def shas(self) -> set[str]:
        return {r.sha for r in self.refs}


def holder(code: str) -> str:
    """The pinned holder name of room ``code``'s documents."""
    return f"{ROOM_PREFIX}{code}"


def room_docs(room: Room | None) -> RoomDocs:
    """The shared collection recorded in ``room`` (empty for None or a room without documents)."""
    data = dict((room.refs if room else {}).get(REF_KEY) or {})
    refs = [DocRef(d["sha"], d["name"], d["kind"], int(d["pages"]), int(d["chars"]), tuple(d.get("notes", ())))
            for d in data.get("docs", [])]
    cfg = data.get("config")
    config = ChunkConfig(*cfg).validate() if cfg else None
    return RoomDocs(refs, config, bool(data.get("builtin")))


def _record(rooms: RoomStore, room: Room, key: str, docs: RoomDocs) -> Room:
    value = {"docs": [{**asdict(r), "notes": list(r.notes)} for r in docs.refs],
             "config": [docs.config.strategy, docs.config.size, docs.config.overlap] if docs.config else None,
             "builtin": docs.builtin}
    return rooms.set_refs(room.code, key, {**dict(room.refs), REF_KEY: value}, APP)


def index_room(rooms: RoomStore, code: str, key: str, docs: Sequence[Document], config: ChunkConfig, *,
               replace: bool = False, builtin: bool = False, store: IndexStore | None = None) -> BuildResult:
    """Instructor: add ``docs`` to the room's collection (or replace it), re-chunked with ``config``.
    Raises :class:`~core.errors.LabError` without the room's instructor key."""
    room = rooms.instructor(code, key, APP)
    rooms.require(room.code, APP)  # a closed room's collection takes no new documents
    current = room_docs(room)
    result = index_for(holder(room.code), [] if replace else current.refs, docs, config, replace=replace,
                       pin=BUILTIN if builtin else None, store=store)
    keeps_builtin = current.builtin and not replace
    _record(rooms, room, key, RoomDocs(result.refs, config, builtin or keeps_builtin))
    return result


def clear_room(rooms: RoomStore, code: str, key: str, store: IndexStore | None = None) -> tuple[int, int]:
    """Instructor: empty the room's collection; (references released, documents deleted because nobody
    else uses them)."""
    room = rooms.instructor(code, key, APP)
    current = room_docs(room)
    counts = release(holder(room.code), current.refs, store) if current.refs else (0, 0)
    _record(rooms, room, key, RoomDocs())
    return counts


def merged_refs(shared: RoomDocs, own: Sequence[DocRef]) -> list[DocRef]:
    """The room's documents followed by a participant's private ones (each content once)."""
    seen = shared.shas
    return list(shared.refs) + [r for r in own if r.sha not in seen]


def describe(room: Room, shared: RoomDocs) -> dict[str, Any]:
    """A small summary for banners and the API."""
    return {"code": room.code, "title": room.title, "closed": room.closed, "documents": [r.name for r in shared.refs],
            "builtin": shared.builtin}
