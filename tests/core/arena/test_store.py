"""Votes in SQLite: validation, signed ids, rate limits, concurrency across processes, SIGKILL safety."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.arena.store import ArenaStore, RateLimiter, normalise_room
from core.errors import LabError
from core.storage import Database

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path: Path) -> ArenaStore:
    return ArenaStore(Database(tmp_path / "arena.sqlite3"))


def finished_battle(store: ArenaStore, room: str = "public", a: str = "x", b: str = "y") -> str:
    token = store.create_battle("What is 2+2?", a, b, room=room)
    store.complete_battle(token, "4", "four, because 2+2=4")
    return token


def test_vote_roundtrip_and_rejections(store: ArenaStore):
    token = finished_battle(store)
    vote = store.record_vote(token, "model_b", session="s1")
    assert vote.len_b == len("four, because 2+2=4") and vote.answer_a == "4"
    assert [v.vote_id for v in store.votes()] == [vote.vote_id]
    with pytest.raises(LabError, match="already has a vote"):
        store.record_vote(token, "model_a")
    raw, mac = token.split(".")
    with pytest.raises(LabError, match="not valid"):
        store.record_vote(raw + "." + ("0" * len(mac)), "model_a")
    with pytest.raises(LabError, match="not valid"):
        store.record_vote("f" * 32 + "." + mac, "model_a")
    with pytest.raises(LabError, match="no battle"):
        store.record_vote("", "model_a")
    forged_unknown = store.sign("0" * 32)  # validly signed but never created
    with pytest.raises(LabError, match="Unknown battle"):
        store.record_vote(forged_unknown, "model_a")
    with pytest.raises(LabError, match="Unknown vote"):
        store.record_vote(finished_battle(store), "model_c")
    unfinished = store.create_battle("q", "x", "y")
    with pytest.raises(LabError, match="must finish"):
        store.record_vote(unfinished, "tie")
    assert store.counts()["votes"] == 1
    assert store.db.version("arena") == 3 and store.db.integrity_ok()


def test_rooms_are_separate(store: ArenaStore):
    store.record_vote(finished_battle(store, room="Workshop-1"), "model_a")
    store.record_vote(finished_battle(store), "tie")
    assert len(store.votes("workshop-1")) == 1 and len(store.votes("public")) == 1
    assert len(store.votes(None)) == 2
    with pytest.raises(LabError, match="room code"):
        normalise_room("bad room!")


def test_other_install_cannot_forge(tmp_path: Path, store: ArenaStore):
    token = finished_battle(store)
    other = ArenaStore(Database(tmp_path / "other" / "arena.sqlite3"))
    with pytest.raises(LabError, match="not valid"):
        other.verify(token)


def test_rate_limiter():
    lim = RateLimiter(3, 60, "votes")
    for t in range(3):
        lim.check("s", now=100.0 + t)
    with pytest.raises(LabError, match="Too many votes"):
        lim.check("s", now=103.0)
    lim.check("other", now=103.0)
    lim.check("s", now=161.0)


def test_import_votes_is_idempotent(tmp_path: Path, store: ArenaStore):
    store.record_vote(finished_battle(store), "model_a")
    records = [v.record() for v in store.votes()]
    fresh = ArenaStore(Database(tmp_path / "fresh.sqlite3"))
    assert fresh.import_votes(records) == 1
    assert fresh.import_votes(records) == 0
    assert fresh.votes()[0].vote_id == records[0]["vote_id"]


WORKER = textwrap.dedent("""
    import sys
    from core.arena.store import ArenaStore
    from core.errors import LabError
    from core.storage import Database
    db_path, shared, n_own, tag = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3]), sys.argv[4]
    store = ArenaStore(Database(db_path))
    won = rejected = 0
    for i in range(n_own):
        t = store.create_battle(f"q{tag}{i}", "x", "y", session=tag)
        store.complete_battle(t, "a" * i, "b")
        v = store.record_vote(t, "model_a", session=tag)
        print("ACK", v.vote_id, flush=True)
        if i < len(shared):
            try:
                store.record_vote(shared[i], "model_b", session=tag)
                won += 1
            except LabError:
                rejected += 1
    for t in shared[n_own:]:
        try:
            store.record_vote(t, "model_b", session=tag)
            won += 1
        except LabError:
            rejected += 1
    print("DONE", won, rejected, flush=True)
""")


def _spawn(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", WORKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)


def test_concurrent_voters_from_several_processes(tmp_path: Path):
    path = tmp_path / "arena.sqlite3"
    store = ArenaStore(Database(path))
    shared = [finished_battle(store) for _ in range(15)]
    procs = [_spawn([str(path), ",".join(shared), "25", f"p{i}"]) for i in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    won = sum(int(o[0].strip().splitlines()[-1].split()[1]) for o in outs)
    rejected = sum(int(o[0].strip().splitlines()[-1].split()[2]) for o in outs)
    assert won == 15 and rejected == 4 * 15 - 15  # each shared battle counted exactly once
    acks = {line.split()[1] for o in outs for line in o[0].splitlines() if line.startswith("ACK")}
    votes = store.votes(None)
    assert len(acks) == 100 and acks <= {v.vote_id for v in votes}
    assert len(votes) == 115 and store.db.integrity_ok()


def test_sigkill_mid_burst_loses_no_acknowledged_vote(tmp_path: Path):
    path = tmp_path / "arena.sqlite3"
    ArenaStore(Database(path))  # schema + secret
    proc = _spawn([str(path), "", "100000", "burst"])
    acks: list[str] = []
    deadline = time.time() + 60
    assert proc.stdout is not None
    while len(acks) < 60 and time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("ACK"):
            acks.append(line.split()[1])
    os.kill(proc.pid, signal.SIGKILL)  # mid-burst: the writer is inside its loop
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    acks += [line.split()[1] for line in proc.stdout.read().splitlines() if line.startswith("ACK")]
    reopened = ArenaStore(Database(path))
    stored = {v.vote_id for v in reopened.votes(None)}
    assert len(acks) >= 60
    assert set(acks) <= stored  # every acknowledged vote survived
    assert reopened.db.integrity_ok()
