"""Battles and votes in SQLite (WAL, ``synchronous=FULL``) through :mod:`core.storage`.

Integrity rules:

* A battle id handed to the browser is ``<uuid>.<hmac>``: the HMAC (SHA-256, per-install secret
  in ``<data dir>/arena-secret.key``) makes forged or edited ids detectable before any lookup.
* A vote is written inside one ``BEGIN IMMEDIATE`` transaction that checks the battle exists, has
  both answers and has no vote yet (``votes.battle_id`` is UNIQUE as a second line of defence).
  :func:`ArenaStore.record_vote` returns only after the commit is durable, and the UI confirms the
  vote only after it returns, so an acknowledged vote survives ``kill -9``.
* What is stored is the server's copy of prompt and answers, never text sent back by the client.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from core.errors import LabError
from core.settings import get_settings
from core.storage import Database, database

NAMESPACE = "arena"
WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
VOTE_LABELS = {"model_a": "A is better", "model_b": "B is better", "tie": "Tie", "tie (bothbad)": "Both are bad"}
DEFAULT_ROOM = "public"

MIGRATIONS = [
    (1, """
CREATE TABLE IF NOT EXISTS arena_battles (
    id TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    session TEXT NOT NULL DEFAULT '',
    mode TEXT NOT NULL DEFAULT 'anonymous',
    prompt TEXT NOT NULL,
    model_a TEXT NOT NULL,
    model_b TEXT NOT NULL,
    answer_a TEXT,
    answer_b TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL,
    completed_at REAL
);
CREATE INDEX IF NOT EXISTS arena_battles_room ON arena_battles(room, created_at);
CREATE TABLE IF NOT EXISTS arena_votes (
    vote_id TEXT PRIMARY KEY,
    battle_id TEXT NOT NULL UNIQUE REFERENCES arena_battles(id),
    room TEXT NOT NULL,
    session TEXT NOT NULL DEFAULT '',
    winner TEXT NOT NULL CHECK (winner IN ('model_a', 'model_b', 'tie', 'tie (bothbad)')),
    model_a TEXT NOT NULL,
    model_b TEXT NOT NULL,
    prompt TEXT NOT NULL,
    answer_a TEXT NOT NULL,
    answer_b TEXT NOT NULL,
    len_a INTEGER NOT NULL,
    len_b INTEGER NOT NULL,
    flagged INTEGER NOT NULL DEFAULT 0,
    flag_reason TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS arena_votes_room ON arena_votes(room, created_at);
"""),
    (2, """
CREATE TABLE IF NOT EXISTS arena_judgements (
    battle_id TEXT NOT NULL REFERENCES arena_battles(id),
    judge TEXT NOT NULL,
    order_ab TEXT NOT NULL,
    verdict_ab TEXT NOT NULL,
    verdict_ba TEXT NOT NULL,
    final TEXT NOT NULL,
    rationale TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    PRIMARY KEY (battle_id, judge)
);
"""),
    (3, """
ALTER TABLE arena_votes ADD COLUMN mode TEXT NOT NULL DEFAULT 'anonymous';
"""),
]


@dataclass(frozen=True)
class Vote:
    vote_id: str
    battle_id: str
    room: str
    session: str
    winner: str
    model_a: str
    model_b: str
    prompt: str
    answer_a: str
    answer_b: str
    len_a: int
    len_b: int
    flagged: bool
    flag_reason: str
    created_at: float
    mode: str = "anonymous"

    def record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Battle:
    id: str
    room: str
    session: str
    mode: str
    prompt: str
    model_a: str
    model_b: str
    answer_a: str | None
    answer_b: str | None
    meta: dict[str, Any]
    created_at: float
    completed_at: float | None
    voted: bool = False


def normalise_room(room: str | None) -> str:
    """Room codes: letters, digits, '-' and '_', at most 32 characters; empty = the public room."""
    code = (room or "").strip().lower()
    if not code:
        return DEFAULT_ROOM
    if len(code) > 32 or not all(c.isalnum() or c in "-_" for c in code):
        raise LabError("A room code may only contain letters, digits, '-' and '_' (at most 32 characters).")
    return code


class RateLimiter:
    """Sliding-window limit of ``limit`` actions per ``window_s`` per key (in memory, per process)."""

    def __init__(self, limit: int, window_s: float, what: str) -> None:
        self.limit, self.window_s, self.what = limit, window_s, what
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._events[key or "anonymous"]
            while q and now - q[0] > self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                wait = int(self.window_s - (now - q[0])) + 1
                raise LabError(f"Too many {self.what} from this session: at most {self.limit} per "
                               f"{int(self.window_s)} s. Try again in {wait} s.")
            q.append(now)


def _load_secret(path: Path) -> bytes:
    """The per-install HMAC key (created once with mode 0600; concurrent creators agree)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            data = path.read_bytes().strip()
            if data:
                return data
            time.sleep(0.02)
        raise LabError("The arena's signing key file is empty; delete it and restart.") from None
    key = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key


class ArenaStore:
    """Battles, votes and judgements for one database file."""

    def __init__(self, db: Database | None = None, secret: bytes | None = None) -> None:
        self.db = db or database()
        self.db.migrate(NAMESPACE, MIGRATIONS)
        self._secret = secret or _load_secret(self.db.path.parent / "arena-secret.key")

    # -- signed ids ---------------------------------------------------------------------------
    def sign(self, raw_id: str) -> str:
        mac = hmac.new(self._secret, raw_id.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{raw_id}.{mac}"

    def verify(self, token: str | None) -> str:
        """The raw battle id inside a signed token, or a clear :class:`LabError`."""
        token = (token or "").strip()
        if not token:
            raise LabError("There is no battle to vote on yet: ask a question first.")
        raw, _, mac = token.rpartition(".")
        if not raw or not hmac.compare_digest(self.sign(raw), token):
            raise LabError("This battle id is not valid (it was changed or comes from another server). "
                           "Start a new round.")
        return raw

    # -- battles -------------------------------------------------------------------------------
    def create_battle(self, prompt: str, model_a: str, model_b: str, room: str = DEFAULT_ROOM,
                      session: str = "", mode: str = "anonymous", meta: dict[str, Any] | None = None) -> str:
        raw = uuid.uuid4().hex
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO arena_battles(id, room, session, mode, prompt, model_a, model_b, meta, "
                         "created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                         (raw, normalise_room(room), session, mode, prompt, model_a, model_b,
                          json.dumps(meta or {}), time.time()))
        return self.sign(raw)

    def complete_battle(self, token: str, answer_a: str, answer_b: str, meta: dict[str, Any] | None = None) -> None:
        raw = self.verify(token)
        with self.db.transaction() as conn:
            row = conn.execute("SELECT meta FROM arena_battles WHERE id = ?", (raw,)).fetchone()
            if row is None:
                raise LabError("Unknown battle: start a new round.")
            merged = {**json.loads(row["meta"]), **(meta or {})}
            conn.execute("UPDATE arena_battles SET answer_a = ?, answer_b = ?, meta = ?, completed_at = ? "
                         "WHERE id = ?", (answer_a, answer_b, json.dumps(merged), time.time(), raw))

    def battle(self, token: str) -> Battle:
        raw = self.verify(token)
        row = self.db.connect().execute(
            "SELECT b.*, (SELECT COUNT(*) FROM arena_votes v WHERE v.battle_id = b.id) AS voted "
            "FROM arena_battles b WHERE b.id = ?", (raw,)).fetchone()
        if row is None:
            raise LabError("Unknown battle (it is not in this server's database). Start a new round.")
        return _battle(row)

    # -- votes ---------------------------------------------------------------------------------
    def record_vote(self, token: str, winner: str, session: str = "",
                    flag: tuple[bool, str] | None = None) -> Vote:
        """Validate and durably store one vote; raises :class:`LabError` with a clear reason."""
        if winner not in WINNERS:
            raise LabError(f"Unknown vote {winner!r}: choose one of A, B, tie or both bad.")
        raw = self.verify(token)
        with self.db.transaction() as conn:
            row = conn.execute("SELECT * FROM arena_battles WHERE id = ?", (raw,)).fetchone()
            if row is None:
                raise LabError("Unknown battle (it is not in this server's database). Start a new round.")
            if row["answer_a"] is None or row["answer_b"] is None:
                raise LabError("Both answers must finish before you vote.")
            if conn.execute("SELECT 1 FROM arena_votes WHERE battle_id = ?", (raw,)).fetchone():
                raise LabError("This battle already has a vote: each battle counts once. Start a new round.")
            flagged, reason = flag if flag is not None else (False, "")
            vote = Vote(uuid.uuid4().hex, raw, row["room"], session, winner, row["model_a"], row["model_b"],
                        row["prompt"], row["answer_a"], row["answer_b"], len(row["answer_a"]),
                        len(row["answer_b"]), bool(flagged), reason, time.time(),
                        "named" if row["mode"] == "named" else "anonymous")
            conn.execute("INSERT INTO arena_votes(vote_id, battle_id, room, session, winner, model_a, model_b, "
                         "prompt, answer_a, answer_b, len_a, len_b, flagged, flag_reason, created_at, mode) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         (vote.vote_id, raw, vote.room, session, winner, vote.model_a, vote.model_b, vote.prompt,
                          vote.answer_a, vote.answer_b, vote.len_a, vote.len_b, int(vote.flagged), reason,
                          vote.created_at, vote.mode))
        return vote

    def import_votes(self, records: Iterable[dict[str, Any]]) -> int:
        """Restore votes (e.g. from a durable sink after a Space restart); idempotent by vote_id."""
        added = 0
        with self.db.transaction() as conn:
            for r in records:
                if conn.execute("SELECT 1 FROM arena_votes WHERE vote_id = ? OR battle_id = ?",
                                (r["vote_id"], r["battle_id"])).fetchone():
                    continue
                conn.execute("INSERT OR IGNORE INTO arena_battles(id, room, session, mode, prompt, model_a, "
                             "model_b, answer_a, answer_b, meta, created_at, completed_at) "
                             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                             (r["battle_id"], r["room"], r.get("session", ""), "restored", r["prompt"],
                              r["model_a"], r["model_b"], r["answer_a"], r["answer_b"], "{}", r["created_at"],
                              r["created_at"]))
                conn.execute("INSERT INTO arena_votes(vote_id, battle_id, room, session, winner, model_a, model_b, "
                             "prompt, answer_a, answer_b, len_a, len_b, flagged, flag_reason, created_at, mode) "
                             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             (r["vote_id"], r["battle_id"], r["room"], r.get("session", ""), r["winner"],
                              r["model_a"], r["model_b"], r["prompt"], r["answer_a"], r["answer_b"],
                              int(r["len_a"]), int(r["len_b"]), int(bool(r["flagged"])), r.get("flag_reason", ""),
                              float(r["created_at"]), r.get("mode", "anonymous")))
                added += 1
        return added

    def votes(self, room: str | None = DEFAULT_ROOM, include_flagged: bool = True,
              mode: str | None = None) -> list[Vote]:
        """Votes in time order (``room=None``: all rooms; ``mode``: 'anonymous' or 'named')."""
        sql, args = "SELECT * FROM arena_votes", []
        where = []
        if mode is not None:
            where.append("mode = ?")
            args.append(mode)
        if room is not None:
            where.append("room = ?")
            args.append(normalise_room(room))
        if not include_flagged:
            where.append("flagged = 0")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at, vote_id"
        return [_vote(r) for r in self.db.connect().execute(sql, args)]

    def counts(self, room: str | None = DEFAULT_ROOM) -> dict[str, int]:
        conn = self.db.connect()
        cond, args = ("WHERE room = ?", [normalise_room(room)]) if room is not None else ("", [])
        battles = conn.execute(f"SELECT COUNT(*) FROM arena_battles {cond}", args).fetchone()[0]
        row = conn.execute(f"SELECT COUNT(*), COALESCE(SUM(flagged), 0), COUNT(DISTINCT NULLIF(session, '')) "
                           f"FROM arena_votes {cond}", args).fetchone()
        last = conn.execute(f"SELECT MAX(created_at) FROM arena_votes {cond}", args).fetchone()[0]
        return {"battles": int(battles), "votes": int(row[0]), "flagged": int(row[1]),
                "voters": int(row[2]), "last_vote_at": float(last or 0)}

    def voters(self, room: str | None = DEFAULT_ROOM) -> list[tuple[str, int]]:
        """(participant, votes) in a room, most votes first; participants are shown by a short
        pseudonym of their session, never the session id itself."""
        rows = self.db.connect().execute(
            "SELECT session, COUNT(*) FROM arena_votes WHERE room = ? GROUP BY session ORDER BY COUNT(*) DESC",
            (normalise_room(room),))
        return [(hashlib.sha256(f"{r[0]}".encode()).hexdigest()[:6] if r[0] else "api", int(r[1])) for r in rows]

    def archive_room(self, room: str, suffix: str) -> int:
        """Reset a room: its battles, votes and judgements move to ``<room>~<suffix>`` (kept, never
        shown in the room again). Returns the number of votes moved."""
        code = normalise_room(room)
        target = f"{code}~{suffix}"
        with self.db.transaction() as conn:
            n = conn.execute("UPDATE arena_votes SET room = ? WHERE room = ?", (target, code)).rowcount
            conn.execute("UPDATE arena_battles SET room = ? WHERE room = ?", (target, code))
        return int(n)

    def rooms(self) -> list[tuple[str, int]]:
        return [(r[0], int(r[1])) for r in self.db.connect().execute(
            "SELECT room, COUNT(*) FROM arena_votes GROUP BY room ORDER BY COUNT(*) DESC")]

    # -- judgements ----------------------------------------------------------------------------
    def save_judgement(self, battle_raw_id: str, judge: str, verdict_ab: str, verdict_ba: str, final: str,
                       rationale: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO arena_judgements(battle_id, judge, order_ab, verdict_ab, "
                         "verdict_ba, final, rationale, created_at) VALUES (?,?,?,?,?,?,?,?)",
                         (battle_raw_id, judge, "both", verdict_ab, verdict_ba, final, rationale, time.time()))

    def judgements(self, room: str | None = DEFAULT_ROOM) -> list[dict[str, Any]]:
        sql = ("SELECT j.*, v.winner AS human FROM arena_judgements j "
               "LEFT JOIN arena_votes v ON v.battle_id = j.battle_id "
               "JOIN arena_battles b ON b.id = j.battle_id")
        args: list[Any] = []
        if room is not None:
            sql += " WHERE b.room = ?"
            args.append(normalise_room(room))
        return [dict(r) for r in self.db.connect().execute(sql + " ORDER BY j.created_at", args)]


def _vote(row: Any) -> Vote:
    return Vote(row["vote_id"], row["battle_id"], row["room"], row["session"], row["winner"], row["model_a"],
                row["model_b"], row["prompt"], row["answer_a"], row["answer_b"], int(row["len_a"]),
                int(row["len_b"]), bool(row["flagged"]), row["flag_reason"], float(row["created_at"]), row["mode"])


def _battle(row: Any) -> Battle:
    return Battle(row["id"], row["room"], row["session"], row["mode"], row["prompt"], row["model_a"],
                  row["model_b"], row["answer_a"], row["answer_b"], json.loads(row["meta"] or "{}"),
                  float(row["created_at"]), row["completed_at"], bool(row["voted"]))


_stores: dict[Path, ArenaStore] = {}
_lock = threading.Lock()


def get_store(path: Path | str | None = None) -> ArenaStore:
    """The shared store for ``path`` (default: the lab database)."""
    resolved = Path(path) if path is not None else get_settings().db_path
    with _lock:
        if resolved not in _stores:
            _stores[resolved] = ArenaStore(database(resolved))
        return _stores[resolved]


def outcome_of(winner: str) -> float:
    """Vote → BT outcome for model a: 1, 0 or 0.5 (tie and both-bad count as ties)."""
    return {"model_a": 1.0, "model_b": 0.0}.get(winner, 0.5)


def sequence_of(votes: Sequence[Vote]) -> list[str]:
    return [v.winner for v in votes]
