"""A room's shared collection (core.rag.room): instructor-only changes, pinned against clears and the
TTL sweep, recorded in the room so it survives a restart."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import LabError
from core.rag.chunking import ChunkConfig, Document
from core.rag.room import clear_room, holder, index_room, merged_refs, room_docs
from core.rag.sessions import holders, index_for, release, session_holder, sweep
from core.rag.store import IndexStore
from core.rooms import RoomStore
from core.storage import Database
from tests.core.rag.test_sessions import store  # noqa: F401 - the fixture (fake encoder, temp store)

CFG = ChunkConfig("sentence", 1, 0)


def _doc(name: str, text: str) -> Document:
    return Document(name=name, pages=(text,), kind="text")


def test_room_collection(store: IndexStore, tmp_path: Path) -> None:  # noqa: F811
    rooms = RoomStore(Database(tmp_path / "rooms.sqlite3"))
    room, key = rooms.create("rag", "Workshop")
    with pytest.raises(LabError, match="instructor link"):
        index_room(rooms, room.code, "wrong", [_doc("a.txt", "Alpha one. Alpha two.")], CFG, store=store)
    result = index_room(rooms, room.code, key, [_doc("a.txt", "Alpha one. Alpha two.")], CFG, store=store)
    index_room(rooms, room.code, key, [_doc("b.txt", "Beta one.")], CFG, store=store)
    shared = room_docs(RoomStore(rooms.db).get(room.code))  # read back as after a restart
    assert [r.name for r in shared.refs] == ["a.txt", "b.txt"] and shared.config == CFG
    sha = result.refs[0].sha
    assert holder(room.code) in holders(sha, store)
    # a participant who also holds the document and clears it: the room's copy stays
    me = session_holder("alice")
    mine = index_for(me, [], [_doc("a.txt", "Alpha one. Alpha two.")], CFG, store=store).refs
    assert release(me, mine, store) == (1, 0)
    assert sweep(store, ttl_s=0) == 0 and (store.docs_dir / f"{sha}.json").exists()  # pinned: no TTL
    assert [r.name for r in merged_refs(shared, mine)] == ["a.txt", "b.txt"]  # the same content once
    with pytest.raises(LabError, match="instructor link"):
        clear_room(rooms, room.code, "", store=store)
    assert clear_room(rooms, room.code, key, store=store) == (2, 2)
    assert room_docs(rooms.get(room.code)).refs == [] and not (store.docs_dir / f"{sha}.json").exists()
