"""A workshop room's shared corpus for Topic Explorer (issue 17).

The instructor of a topics room (:mod:`core.rooms`, app ``topics``) picks a built-in corpus or uploads
a CSV once; the choice is kept in the room's ``refs`` in SQLite and an uploaded file is copied under
``<data_dir>/rooms/topics/<code>.csv``, so the corpus survives a restart. Participants load it
(read only) and run their own topic fits on it. Every change checks the instructor key.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from core.errors import LabError
from core.rooms import Room, RoomStore
from core.settings import get_settings

APP = "topics"
REF_KEY = "topics"


def _folder() -> Path:
    return get_settings().data_dir / "rooms" / APP


def corpus_ref(room: Room | None) -> dict[str, str]:
    """The room's corpus reference: ``{"kind": "builtin", "name": …}`` / ``{"kind": "upload", …}`` / ``{}``."""
    return dict((room.refs if room else {}).get(REF_KEY) or {})


def corpus_label(room: Room | None) -> str:
    """The corpus as a participant sees it named ('' when the room has none yet)."""
    from core.topics.data import BUILTINS

    ref = corpus_ref(room)
    if ref.get("kind") == "builtin":
        return BUILTINS.get(ref.get("name", ""), ref.get("name", ""))
    return ref.get("name", "") if ref.get("kind") == "upload" else ""


def share_builtin(rooms: RoomStore, code: str, key: str, name: str) -> Room:
    """Instructor: the room's corpus is the built-in corpus ``name``."""
    from core.topics.data import BUILTINS

    room = rooms.instructor(code, key, APP)
    rooms.require(room.code, APP)  # a closed room keeps its corpus
    if name not in BUILTINS:
        raise LabError(f"Unknown built-in corpus {name!r}; choose one of {', '.join(BUILTINS)}.")
    return rooms.set_refs(room.code, key, {**dict(room.refs), REF_KEY: {"kind": "builtin", "name": name}}, APP)


def share_upload(rooms: RoomStore, code: str, key: str, file: Any) -> Room:
    """Instructor: the room's corpus is this CSV (read and checked first, then kept under the data folder)."""
    from core.topics.data import load_upload

    room = rooms.instructor(code, key, APP)
    rooms.require(room.code, APP)  # a closed room keeps its corpus
    if not file:
        raise LabError("Upload a CSV file first (or share a built-in corpus).")
    table = load_upload(file)  # refuses what a participant could not use, before anything is kept
    source = Path(str(getattr(file, "name", None) or (file.get("path") if isinstance(file, dict) else file)))
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{room.code}.csv"
    shutil.copyfile(source, tmp)
    tmp.replace(folder / f"{room.code}.csv")
    ref = {"kind": "upload", "name": table.name[:200], "file": f"{room.code}.csv"}
    return rooms.set_refs(room.code, key, {**dict(room.refs), REF_KEY: ref}, APP)


def room_table(room: Room) -> Any:
    """The room's corpus as a :class:`core.topics.data.SourceTable` (read only for participants)."""
    from core.topics.data import load_builtin, load_upload

    ref = corpus_ref(room)
    if ref.get("kind") == "builtin":
        return load_builtin(ref["name"])
    if ref.get("kind") == "upload":
        path = _folder() / Path(ref.get("file", "")).name
        if not path.is_file():
            raise LabError("The room's corpus file is no longer on this server: ask your instructor to upload it again.")
        table = load_upload(str(path))
        return dataclasses.replace(table, name=ref.get("name") or table.name)
    raise LabError("Your instructor has not shared a corpus in this room yet: reload the page once they have.")
