"""Fault tests for the whole lab: ``python -m apps`` is SIGKILLed mid-work and restarted on the same data.

One crash serves both checks (a lab cold start costs 10-20 s on 2 cores, so the module starts it twice
in all): while a RAG upload is being indexed, six API clients fire a burst of arena votes; once some
votes are acknowledged the lab's process group gets SIGKILL. A helper process then dies (SIGKILL too)
in the middle of writing an index for the same document, leaving a genuine half-written temp folder.
The lab is started again on the same ``LLM_LAB_DATA`` and the tests check that

* every acknowledged vote is in the database (sqlite3 and the app's own export/leaderboard agree), the
  database passes ``PRAGMA integrity_check``, and the restarted arena takes new battles and votes;
* no half-built RAG index survives or is served: the restarted lab removed the dead temp folders, the
  same document indexes again from scratch, and a question about it is answered from it.

Battles use two fake OpenAI-compatible contestants on loopback (``LLM_LAB_ARENA_CONTESTANTS``), and
most are seeded directly into the database before the first start (battles are rate-limited per
session); every vote goes through the running lab's HTTP API.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import free_port
from tests.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
ROOM = "faults"
VOTERS = 6  # API clients = sessions (the arena allows 20 votes per minute per session)
VOTES_PER_VOTER = 15
KILL_AFTER_ACKS = 10
WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
FACT = "The lighthouse keeper's secret password is marmalade."
QUESTION = "What is the lighthouse keeper's secret password?"
CHUNKING = ("sentence", 2, 0)
GEN = ["Local model", "chat-smollm2-135m", "", "", ""]


def _tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


def _wait(cond: Any, timeout_s: float, what: str, poll_s: float = 0.05, log: Path | None = None) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}"
                         + (f"\n--- lab log ---\n{_tail(log)}" if log else ""))


class Lab:
    """``python -m apps`` in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 90) -> "Lab":
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "apps", "--host", "127.0.0.1", "--port",
                                          str(self.port)], cwd=ROOT, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"the lab exited with {self.proc.returncode}:\n{_tail(self.log)}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        _wait(ready, timeout_s, f"the lab on {self.url}", poll_s=0.25, log=self.log)
        return self

    def client(self) -> Any:
        from gradio_client import Client

        return Client(self.url, verbose=False, download_files=False)

    def kill(self) -> None:
        """SIGKILL the lab's whole process group (no cleanup of any kind can run)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)


@dataclass
class Burst:
    acked: dict[str, str] = field(default_factory=dict)  # battle token -> winner, call returned OK
    sent: dict[str, str] = field(default_factory=dict)  # every vote that left the client
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Crash:
    lab: Lab  # the restarted lab
    data: Path
    db: Path
    doc: Path
    index_dir: Path
    index_key: str
    tokens: list[str]  # all battles of the room (seeded + played through the API)
    burst: Burst
    leftover: Path  # the half-written temp folder left by the killed index writer


_HALF_WRITER = """
import sys, time
from pathlib import Path
from unittest import mock
import numpy as np
from core.rag.chunking import Chunk
from core.rag.store import IndexStore

def stall(f, arr, **kw):  # write part of the array file, then hang until killed
    f.write(b"\\x93NUMPY\\x01\\x00 half")
    f.flush()
    time.sleep(600)

with mock.patch("numpy.save", stall):
    IndexStore(Path(sys.argv[1])).save_index(sys.argv[2], [Chunk(0, "half.txt", None, "half", 0, 4)],
                                             np.zeros((1, 4), np.float32), {})
"""


def _document(path: Path, sentences: int = 240) -> Path:
    rng = random.Random(7)
    colours, animals = ["red", "blue", "green", "amber", "grey"], ["fox", "owl", "heron", "otter", "lynx"]
    lines = []
    for i in range(sentences):
        if i == sentences // 2:
            lines.append(FACT)
        lines.append(f"Ledger entry {i}: the {rng.choice(colours)} {rng.choice(animals)} of hamlet {i} weighed "
                     f"{rng.randint(2, 90)} kilograms at the autumn fair.")
    path.write_text("\n".join(" ".join(lines[j:j + 6]) for j in range(0, len(lines), 6)) + "\n", encoding="utf-8")
    return path


def _seed_battles(db: Path, n: int) -> list[str]:
    from core.arena.store import ArenaStore
    from core.storage import Database

    database = Database(db)
    store = ArenaStore(database)
    tokens = []
    for i in range(n):
        a, b = ("alpha", "beta") if i % 2 else ("beta", "alpha")
        token = store.create_battle(f"Seeded question {i}?", a, b, room=ROOM, session="seed")
        store.complete_battle(token, f"answer {i} from {a}", f"answer {i} from {b}")
        tokens.append(token)
    database.close()
    return tokens


def _vote_burst(clients: list[Any], tokens: list[str], burst: Burst) -> list[threading.Thread]:
    """Each client votes its share of the battles in turn until it is done or the server is gone."""

    def voter(client: Any, mine: list[str]) -> None:
        for j, token in enumerate(mine):
            winner = WINNERS[j % len(WINNERS)]
            with burst.lock:
                burst.sent[token] = winner
            try:
                reveal = client.submit(token, winner, api_name="/arena_vote").result(timeout=20)
            except Exception as exc:  # noqa: BLE001 - the server was killed (or refused): stop this voter
                with burst.lock:
                    burst.errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
                return
            if "Vote recorded" not in str(reveal):
                with burst.lock:
                    burst.errors.append(f"unexpected reply: {str(reveal)[:200]}")
                return
            with burst.lock:
                burst.acked[token] = winner

    threads = []
    for i, client in enumerate(clients):
        mine = tokens[i * VOTES_PER_VOTER:(i + 1) * VOTES_PER_VOTER]
        threads.append(threading.Thread(target=voter, args=(client, mine), daemon=True, name=f"voter-{i}"))
    for t in threads:
        t.start()
    return threads


@pytest.fixture(scope="module")
def crash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crash]:
    from gradio_client import handle_file

    from core.rag.chunking import ChunkConfig
    from core.rag.models import embedder_id
    from core.rag.store import IndexStore
    from core.settings import load_settings

    tmp = tmp_path_factory.mktemp("lab-faults")
    data = tmp / "data"
    with ExitStack() as stack:
        alpha = stack.enter_context(FakeOpenAI(reply="Alpha thinks the answer is four."))
        beta = stack.enter_context(FakeOpenAI(reply="Beta: 4"))
        config = tmp / "contestants.json"
        config.write_text(json.dumps({"contestants": [
            {"id": "alpha", "label": "Alpha bot", "backend": "openai", "base_url": alpha.base_url, "model": "a",
             "offline": True},
            {"id": "beta", "label": "Beta bot", "backend": "openai", "base_url": beta.base_url, "model": "b",
             "offline": True}]}), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SPACE"))}
        env.update(LLM_LAB_MODE="offline", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1",
                   GRADIO_ANALYTICS_ENABLED="False", TOKENIZERS_PARALLELISM="false", LLM_LAB_DATA=str(data),
                   LLM_LAB_ARENA_CONTESTANTS=str(config), LLM_LAB_MAX_NEW_TOKENS="16",
                   GRADIO_TEMP_DIR=str(tmp / "gradio"), PYTHONUNBUFFERED="1",
                   LLM_LAB_TOPICS_WARMUP="0")  # no background numba compile competing for the 2 cores
        settings = load_settings(env)
        db = settings.db_path
        index_dir = data / "rag" / "indexes"
        tokens = _seed_battles(db, VOTERS * VOTES_PER_VOTER - 1)
        doc = _document(tmp / "ledger.txt")

        first = Lab(env, tmp / "lab-1.log")
        stack.callback(first.kill)
        first.start()
        with ThreadPoolExecutor(4) as pool:  # one client = one session; connecting costs ~1 s each
            clients = list(pool.map(lambda _: first.client(), range(VOTERS + 1)))
        for c in clients:
            stack.callback(c.close)
        indexer, voters = clients[0], clients[1:]
        out = indexer.submit("What is 2+2?", ROOM, api_name="/arena_battle").result(timeout=60)  # a real battle
        assert "vote" in out[3].lower(), out[3]
        tokens.append(out[0])
        random.Random(1).shuffle(tokens)

        # 1. a RAG upload starts indexing (its document is stored first, then chunked and embedded)
        indexer.submit([handle_file(str(doc))], *CHUNKING, api_name="/rag_index")
        docs_dir = data / "rag" / "docs"
        stored = _wait(lambda: list(docs_dir.glob("*.json")), 60, "the upload to reach indexing", log=first.log)
        sha = stored[0].stem
        key = IndexStore.key(sha, ChunkConfig(*CHUNKING), embedder_id(settings=settings))
        # 2. a vote burst from six sessions; 3. SIGKILL once some votes are acknowledged
        burst = Burst()
        threads = _vote_burst(voters, tokens, burst)
        _wait(lambda: len(burst.acked) >= KILL_AFTER_ACKS, 60, f"{KILL_AFTER_ACKS} acknowledged votes",
              poll_s=0.01, log=first.log)
        first.kill()
        assert first.proc is not None and first.proc.returncode == -signal.SIGKILL
        join_by = time.monotonic() + 30
        for t in threads:
            t.join(timeout=max(0.1, join_by - time.monotonic()))
        assert not any(t.is_alive() for t in threads), "a voter thread hung after the kill"
        assert not (index_dir / key).exists(), "indexing finished before the kill: use a bigger document"

        # 4. an index writer dies half-way through writing the same index (a genuine crash leftover)
        with open(tmp / "writer.log", "wb") as out:
            writer = subprocess.Popen([sys.executable, "-c", _HALF_WRITER, str(data / "rag"), key], cwd=ROOT,
                                      env=env, stdout=out, stderr=subprocess.STDOUT)
        stack.callback(lambda: writer.poll() is None and writer.kill())
        half = _wait(lambda: [p.parent for p in index_dir.glob(f".tmp-{key}-*/embeddings.npy")], 30,
                     "the index writer to start writing", log=tmp / "writer.log")[0]
        assert IndexStore(data / "rag").clean_stale_tmp() == 0 and half.exists(), "a live build was removed"
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        assert half.exists() and (half / "chunks.json").exists() and not (half / "meta.json").exists()
        assert (half / ".building").exists()  # its lock is now free: the builder is dead

        # 5. restart on the same data
        lab = Lab(env, tmp / "lab-2.log")
        stack.callback(lab.kill)
        lab.start()
        yield Crash(lab, data, db, doc, index_dir, key, tokens=tokens, burst=burst, leftover=half)


def _raw(token: str) -> str:
    return token.rpartition(".")[0]


def _db_votes(db: Path) -> tuple[str, dict[str, str], int]:
    conn = sqlite3.connect(db)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        votes = dict(conn.execute("SELECT battle_id, winner FROM arena_votes WHERE room = ?", (ROOM,)))
        dupes = conn.execute("SELECT COUNT(*) - COUNT(DISTINCT battle_id) FROM arena_votes").fetchone()[0]
    finally:
        conn.close()
    return check, votes, int(dupes)


def test_acknowledged_votes_survive_sigkill(crash: Crash) -> None:
    from gradio_client.exceptions import AppError

    burst = crash.burst
    acked = {_raw(t): w for t, w in burst.acked.items()}
    sent = {_raw(t): w for t, w in burst.sent.items()}
    assert len(acked) >= KILL_AFTER_ACKS
    assert len(sent) < len(crash.tokens), "the burst was not interrupted by the kill"
    assert burst.errors, "no voter noticed the kill"

    check, stored, dupes = _db_votes(crash.db)
    assert check == "ok"
    assert dupes == 0
    missing = {b: w for b, w in acked.items() if stored.get(b) != w}
    assert not missing, f"{len(missing)} acknowledged vote(s) lost or changed by the kill: {missing}"
    assert set(stored) <= set(sent), "a vote nobody sent is in the database"
    assert len(stored) - len(acked) <= VOTERS, "more unacknowledged votes stored than were in flight"

    client = crash.lab.client()
    try:
        # the restarted app sees exactly the stored votes
        out = client.predict(ROOM, api_name="/arena_export_votes")
        exported = [json.loads(line) for line in Path(out["path"] if isinstance(out, dict) else out)
                    .read_text(encoding="utf-8").splitlines()]
        assert {r["battle_id"]: r["winner"] for r in exported} == stored
        note = client.predict(ROOM, False, False, 4, False, api_name="/arena_leaderboard")[0]
        assert f"{len(stored)} votes counted" in note
        # an acknowledged vote is still final …
        token = next(t for t in crash.tokens if _raw(t) in acked)
        with pytest.raises(AppError, match="already has a vote"):
            client.predict(token, "model_a", api_name="/arena_vote")
        # … and the arena takes new votes: on a battle from before the crash and on a new battle
        fresh = next(t for t in crash.tokens if _raw(t) not in stored)
        assert "Vote recorded" in client.predict(fresh, "model_b", api_name="/arena_vote")
        new = client.submit("Which is larger, 7 or 9?", ROOM, api_name="/arena_battle").result(timeout=60)[0]
        assert "Vote recorded" in client.predict(new, "tie", api_name="/arena_vote")
    finally:
        client.close()
    check, after, _ = _db_votes(crash.db)
    assert check == "ok" and len(after) == len(stored) + 2
    assert after[_raw(fresh)] == "model_b" and after[_raw(new)] == "tie"


def test_killed_index_build_is_not_served(crash: Crash) -> None:
    from gradio_client import handle_file

    # the restarted lab removed the dead writers' temp folders before serving anything
    assert not crash.leftover.exists(), "the half-written index folder survived the restart"
    assert not list(crash.index_dir.glob(".tmp-*"))
    assert not (crash.index_dir / crash.index_key).exists()

    client = crash.lab.client()
    try:
        status, stats, _, chunks = client.predict([handle_file(str(crash.doc))], *CHUNKING,
                                                  api_name="/rag_index")[:4]  # then Try questions, job status
        assert "Indexed 1 document(s)" in status, status
        row = stats["data"][0]
        assert row[0] == "ledger.txt" and row[5] == "no", row  # built from scratch, nothing half-built reused
        assert row[4] == len(chunks["data"]) >= 100  # 241 sentences, two per chunk
        final = crash.index_dir / crash.index_key
        meta = json.loads((final / "meta.json").read_text(encoding="utf-8"))
        assert meta["complete"] is True and meta["chunks"] == row[4]
        assert not (final / ".building").exists() and not list(crash.index_dir.glob(".tmp-*"))
        assert any("marmalade" in r[4] for r in chunks["data"])

        history, sources, prompt = client.submit(QUESTION, [], "hybrid", False, 3, 0.0, *GEN, 16,
                                                 api_name="/rag_ask").result(timeout=180)[:3]
        answer = history[-1]["content"]
        answer = answer[0]["text"] if isinstance(answer, list) else answer
        assert answer.strip() and "went wrong" not in answer
        assert "marmalade" in sources and "marmalade" in prompt  # retrieved from the re-built index
    finally:
        client.close()
