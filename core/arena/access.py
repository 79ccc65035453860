"""Who may do what in an arena room (checked on the server for every call, not only hidden in the UI).

* No room (``""`` / ``public``): the public arena, as before rooms existed — anyone plays, sees the
  board, judges and exports.
* A **managed room** (created with :mod:`core.rooms`, app ``arena``): participants battle and vote
  while it is open; the board, live view, judge, exports, reset and close need the instructor key.
* A code no instructor created (the free-text rooms of earlier versions, still used by API scripts)
  is an **open room**: it behaves like the public arena under its own name. The page never offers
  one: a ``?room=`` the server does not know is refused there with a clear message.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.arena.store import DEFAULT_ROOM, normalise_room
from core.errors import LabError
from core.rooms import Room, RoomStore

APP = "arena"


@dataclass(frozen=True)
class Access:
    room: str  # normalised room code ("public" for none)
    managed: Room | None  # the instructor-created room, if this is one
    instructor: bool  # the caller holds its key (always True outside managed rooms)

    @property
    def public(self) -> bool:
        return self.room == DEFAULT_ROOM


def access(rooms: RoomStore, code: str | None, key: str | None = None) -> Access:
    """What the caller may do in room ``code`` with instructor ``key`` (may be empty)."""
    room = normalise_room(code)
    managed = None if room == DEFAULT_ROOM else rooms.get(room, APP)
    instructor = managed is None or rooms.is_instructor(room, key, APP)
    return Access(room, managed, instructor)


def for_play(rooms: RoomStore, code: str | None) -> str:
    """The room to battle / vote in; refuses a closed managed room."""
    acc = access(rooms, code)
    if acc.managed is not None and acc.managed.closed:
        rooms.require(acc.room, APP)  # raises the "closed" message
    return acc.room


def for_instructor(rooms: RoomStore, code: str | None, key: str | None) -> Access:
    """Board, live view, judge, exports: refused to participants of a managed room."""
    acc = access(rooms, code, key)
    if not acc.instructor:
        rooms.instructor(acc.room, key, APP)  # raises the "needs the instructor link" message
    return acc


def for_page(rooms: RoomStore, code: str | None, key: str | None) -> Access:
    """The room a page opened with ``?room=CODE[&key=…]`` shows; unknown codes are refused."""
    if not (code or "").strip():
        return access(rooms, "")
    try:
        room = normalise_room(code)
    except LabError:
        room = ""
    if not room or rooms.get(room, APP) is None:
        raise LabError(f"There is no arena room “{(code or '').strip()[:40]}” on this server: check the link "
                       "your instructor gave you. You are in the public arena.")
    return access(rooms, room, key)


def reset(rooms: RoomStore, store: object, code: str, key: str) -> int:
    """Instructor: start the room's board afresh; its votes are archived (kept), not deleted."""
    acc = access(rooms, code, key)
    if acc.managed is None:
        raise LabError("Only an instructor's room can be reset (the public arena cannot).")
    n = rooms.bump_reset(acc.room, key, APP)
    return store.archive_room(acc.room, f"reset{n}")  # type: ignore[attr-defined]
