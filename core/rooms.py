"""Workshop rooms, for any app: a short code for participants and a secret key for the instructor.

An instructor creates a room and gets two links: the participant link carries only the room code
(``/arena?room=CODE``), the instructor link also carries the secret key (``&key=SECRET``). Rooms live
in SQLite through :mod:`core.storage`, so they survive a restart.

* **code** — 8 characters from a 31-letter alphabet without look-alikes (0/o, 1/l/i): about 8.5e11
  codes, drawn with :mod:`secrets`; handed out to participants, not a secret.
* **key** — ``secrets.token_urlsafe(24)`` (192 bits); only its SHA-256 is stored (a key this long
  needs no slow hash), compared in constant time. Losing the instructor link loses the key.
* **refs** — optional references other apps read: a shared RAG collection id, a topic corpus, …
* **closed** rooms keep their data (the instructor can still look and export) but take no new work.

Apps decide what a room holds (the arena: its own battles, votes, board and exports) and must check
access on the server (:meth:`RoomStore.instructor`) for every instructor action, not only hide UI.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from core.errors import LabError
from core.settings import get_settings
from core.storage import Database, database

NAMESPACE = "rooms"
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes
CODE_LENGTH = 8
MAX_TITLE = 80

MIGRATIONS = [
    (1, """
CREATE TABLE IF NOT EXISTS rooms (
    code TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    key_hash TEXT NOT NULL,
    refs TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    closed_at REAL,
    reset_count INTEGER NOT NULL DEFAULT 0
);
"""),
]


@dataclass(frozen=True)
class Room:
    code: str
    app: str
    title: str
    created_at: float
    closed_at: float | None = None
    refs: Mapping[str, Any] = field(default_factory=dict)
    reset_count: int = 0

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def clean_code(code: str | None) -> str:
    """A code as typed or taken from a URL: trimmed, lower case; '' when empty (= no room)."""
    return (code or "").strip().lower()


def links(base: str, code: str, key: str | None = None) -> tuple[str, str]:
    """(participant link, instructor link) for the page at ``base`` (e.g. ``http://host/arena``)."""
    base = (base or "").split("?", 1)[0].split("#", 1)[0]
    participant = f"{base}?room={code}"
    return participant, (f"{participant}&key={key}" if key else "")


#: what a closed room refuses, per app (its shared content stays readable everywhere)
CLOSED_MEANS = {"arena": "it takes no new battles or votes",
                "rag": "its shared collection takes no new documents (participants can still ask about it)",
                "topics": "its shared corpus can no longer be replaced (participants can still explore it)"}


class RoomStore:
    """Rooms in one database file."""

    def __init__(self, db: Database | None = None) -> None:
        self.db = db or database()
        self.db.migrate(NAMESPACE, MIGRATIONS)

    def create(self, app: str, title: str = "", refs: Mapping[str, Any] | None = None) -> tuple[Room, str]:
        """A new open room and its instructor key (shown once; only its hash is stored)."""
        title = " ".join((title or "").split())[:MAX_TITLE]
        key = secrets.token_urlsafe(24)
        for _ in range(10):
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            with self.db.transaction() as conn:
                if conn.execute("SELECT 1 FROM rooms WHERE code = ?", (code,)).fetchone():
                    continue
                now = time.time()
                conn.execute("INSERT INTO rooms(code, app, title, key_hash, refs, created_at) VALUES (?,?,?,?,?,?)",
                             (code, app, title, hash_key(key), json.dumps(dict(refs or {})), now))
            return Room(code, app, title, now, None, dict(refs or {})), key
        raise LabError("Could not draw a free room code; try again.")  # pragma: no cover - 1e-12 odds

    def get(self, code: str | None, app: str | None = None) -> Room | None:
        """The room with this code (for ``app``, when given), or None."""
        code = clean_code(code)
        if not code or len(code) > 64:
            return None
        row = self.db.connect().execute("SELECT * FROM rooms WHERE code = ?", (code,)).fetchone()
        if row is None or (app is not None and row["app"] != app):
            return None
        return _room(row)

    def require(self, code: str | None, app: str | None = None, *, open_only: bool = True) -> Room:
        """The room, or a :class:`LabError` a participant understands (unknown / closed)."""
        room = self.get(code, app)
        if room is None:
            raise LabError(f"There is no room “{clean_code(code)[:64]}” here: check the link your instructor "
                           "gave you (or open the page without ?room= for the public arena).")
        if open_only and room.closed:
            what = CLOSED_MEANS.get(room.app, "it takes nothing new; what it shares stays readable")
            raise LabError(f"Room “{room.code}” has been closed by its instructor: {what}.")
        return room

    def instructor(self, code: str | None, key: str | None, app: str | None = None) -> Room:
        """The room if ``key`` is its instructor key (open or closed); otherwise a :class:`LabError`."""
        room = self.require(code, app, open_only=False)
        row = self.db.connect().execute("SELECT key_hash FROM rooms WHERE code = ?", (room.code,)).fetchone()
        if not key or not hmac.compare_digest(row["key_hash"], hash_key(key)):
            raise LabError("This needs the room's instructor link (with its key): participants cannot open "
                           "the instructor view or the room's exports.")
        return room

    def is_instructor(self, code: str | None, key: str | None, app: str | None = None) -> bool:
        try:
            self.instructor(code, key, app)
        except LabError:
            return False
        return True

    def close(self, code: str, key: str, app: str | None = None) -> Room:
        room = self.instructor(code, key, app)
        with self.db.transaction() as conn:
            conn.execute("UPDATE rooms SET closed_at = COALESCE(closed_at, ?) WHERE code = ?", (time.time(), room.code))
        return self.require(room.code, open_only=False)

    def reopen(self, code: str, key: str, app: str | None = None) -> Room:
        room = self.instructor(code, key, app)
        with self.db.transaction() as conn:
            conn.execute("UPDATE rooms SET closed_at = NULL WHERE code = ?", (room.code,))
        return self.require(room.code)

    def bump_reset(self, code: str, key: str, app: str | None = None) -> int:
        """Count one reset (the app archives the room's data); returns the new count."""
        room = self.instructor(code, key, app)
        with self.db.transaction() as conn:
            conn.execute("UPDATE rooms SET reset_count = reset_count + 1 WHERE code = ?", (room.code,))
        return room.reset_count + 1

    def set_refs(self, code: str, key: str, refs: Mapping[str, Any], app: str | None = None) -> Room:
        """Replace the room's shared references (RAG collection, topic corpus…); instructor only."""
        room = self.instructor(code, key, app)
        with self.db.transaction() as conn:
            conn.execute("UPDATE rooms SET refs = ? WHERE code = ?", (json.dumps(dict(refs)), room.code))
        return self.require(room.code, open_only=False)


def _room(row: Any) -> Room:
    return Room(row["code"], row["app"], row["title"], float(row["created_at"]),
                None if row["closed_at"] is None else float(row["closed_at"]), json.loads(row["refs"] or "{}"),
                int(row["reset_count"]))


_stores: dict[Path, RoomStore] = {}
_lock = threading.Lock()


def get_rooms(path: Path | str | None = None) -> RoomStore:
    """The shared room store for ``path`` (default: the lab database)."""
    resolved = Path(path) if path is not None else get_settings().db_path
    with _lock:
        if resolved not in _stores:
            _stores[resolved] = RoomStore(database(resolved))
        return _stores[resolved]
