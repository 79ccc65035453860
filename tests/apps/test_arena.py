"""The arena app through its public API (gradio_client): a full battle, a vote, rejections, leaderboard."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.arena.battles import Arena
from core.arena.contestants import parse_config
from core.arena.store import ArenaStore
from core.storage import Database
from tests.fake_openai import FakeOpenAI


@pytest.fixture(scope="module")
def servers():
    with FakeOpenAI(reply="The answer is four. " * 6) as s1, FakeOpenAI(reply="4") as s2, \
            FakeOpenAI(reply="Both fine, but [[A]]") as s3:
        yield s1, s2, s3


@pytest.fixture
def arena(tmp_path: Path, servers) -> Arena:
    s1, s2, s3 = servers
    cfg = {"contestants": [
        {"id": "verbose", "label": "Verbose bot", "backend": "openai", "base_url": s1.base_url, "model": "v",
         "offline": True},
        {"id": "terse", "label": "Terse bot", "backend": "openai", "base_url": s2.base_url, "model": "t",
         "offline": True},
        {"id": "judge", "label": "Judge bot", "backend": "openai", "base_url": s3.base_url, "model": "j",
         "offline": True, "battles": False}]}
    return Arena(parse_config(cfg, offline=True), store=ArenaStore(Database(tmp_path / "arena.sqlite3")),
                 max_new_tokens=32, seed=3)


def test_battle_vote_leaderboard_export(launch, arena: Arena):
    from gradio_client.exceptions import AppError

    from apps.arena.app import CSS, build
    from apps.common.plots import GRID, TRANSPARENT

    client, _ = launch(build(arena), CSS)
    job = client.submit("What is 2+2?", "room-1", api_name="/arena_battle")
    outputs = job.result(timeout=60)
    token, left, right, status = outputs[:4]
    assert "vote" in status.lower()
    assert ("four" in left) != ("four" in right)  # one column each, both filled
    assert "Verbose" not in left + right and "Terse" not in left + right  # anonymous until the vote
    reveal = client.predict(token, "model_a", api_name="/arena_vote")
    assert "Vote recorded" in reveal and "Verbose bot" in reveal and "Terse bot" in reveal
    with pytest.raises(AppError, match="already has a vote"):
        client.predict(token, "model_b", api_name="/arena_vote")
    with pytest.raises(AppError, match="not valid"):
        client.predict(token[:-4] + "abcd", "model_b", api_name="/arena_vote")
    assert arena.store.counts("room-1")["votes"] == 1 and arena.store.counts("public")["votes"] == 0

    for winner in ("model_b", "tie", "model_a", "tie (bothbad)"):
        token = client.submit("Another question?", "room-1", api_name="/arena_battle").result(timeout=60)[0]
        client.predict(token, winner, api_name="/arena_vote")
    note, table, *plots = client.predict("room-1", False, True, 8, False, api_name="/arena_leaderboard")
    assert "5 votes counted" in note and "Length control on" in note
    layouts = [json.loads(p["plot"])["layout"] for p in plots]  # themed for light/dark like every app's plots
    assert len(layouts) == 4 and all(lay["paper_bgcolor"] == lay["plot_bgcolor"] == TRANSPARENT for lay in layouts)
    assert all(lay["xaxis"]["gridcolor"] == GRID for lay in layouts)
    assert [row[1] for row in table["data"]] in (["Verbose bot", "Terse bot"], ["Terse bot", "Verbose bot"])
    live_html, live_table, _voters = client.predict("room-1", api_name="/arena_live")
    assert ">5<" in live_html  # five votes in the room
    judged_html, judged, _job = client.predict("judge", "room-1", 2, api_name="/arena_judge")  # + job status line
    assert "battles judged" in judged_html and len(judged["data"]) == 2
    assert all(row[4] == "inconsistent" for row in judged["data"])  # the fake judge always picks [[A]]
    out = client.predict("room-1", api_name="/arena_export_dpo")
    path = out["path"] if isinstance(out, dict) else out
    rows = [json.loads(line) for line in Path(path).read_text().splitlines()]
    assert 1 <= len(rows) <= 3 and set(rows[0]) >= {"prompt", "chosen", "rejected"}
    n_token, n_left, n_right = client.submit("Compare please", "verbose", "terse", "room-1",
                                             api_name="/arena_compare").result(timeout=60)[:3]
    assert "Verbose bot" in n_left and "Terse bot" in n_right  # named mode shows names up front
    client.predict(n_token, "model_b", api_name="/arena_vote")
    note = client.predict("room-1", False, False, 4, False, api_name="/arena_leaderboard")[0]
    assert "5 votes counted" in note  # named votes are not ranked by default …
    note = client.predict("room-1", False, False, 4, True, api_name="/arena_leaderboard")[0]
    assert "6 votes counted" in note  # … unless included
    with pytest.raises(AppError, match="Type a question"):
        client.submit("", "room-1", api_name="/arena_battle").result(timeout=30)
    with pytest.raises(AppError, match="room code"):
        client.submit("hi there", "bad room!", api_name="/arena_battle").result(timeout=30)


def test_rooms_two_sessions(launch, arena: Arena):
    """An instructor's room: participants battle and vote; only the key opens board, live view, exports."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from apps.arena.app import CSS, build

    instructor, url = launch(build(arena), CSS)
    made = instructor.predict("Workshop 1", "http://lab.example/arena", api_name="/arena_room_create")
    code, key = made["code"], made["instructor"].rsplit("key=", 1)[1]
    assert made["participant"] == f"http://lab.example/arena?room={code}" and len(code) == 8
    other = instructor.predict("", "", api_name="/arena_room_create")["code"]
    alice, bob = Client(url, verbose=False), Client(url, verbose=False)
    for who, winner in ((alice, "model_a"), (bob, "model_b"), (alice, "tie")):
        token = who.submit("What is 2+2?", code, api_name="/arena_battle").result(timeout=60)[0]
        assert "Vote recorded" in who.predict(token, winner, api_name="/arena_vote")
    assert arena.store.counts(code)["votes"] == 3 and arena.store.counts(code)["voters"] == 2
    for endpoint, args in (("/arena_live", (code,)), ("/arena_export_csv", (code,)),
                           ("/arena_leaderboard", (code, False, False, 4, False)), ("/arena_judge", ("judge", code, 1)),
                           ("/arena_room_close", (code, "")), ("/arena_room_reset", (code, "wrong-key"))):
        with pytest.raises(AppError, match="instructor link"):
            alice.predict(*args, api_name=endpoint)
    with pytest.raises(AppError, match="instructor link"):  # the key of one room does not open another
        alice.predict(other, key, api_name="/arena_export_csv")
    html, _table, voters = instructor.predict(code, key, api_name="/arena_live")
    assert ">3<" in html and sorted(r[1] for r in voters["data"]) == [1, 2]
    out = instructor.predict(code, key, api_name="/arena_export_csv")
    assert Path(out["path"] if isinstance(out, dict) else out).read_text().count("What is 2+2?") == 3
    note = instructor.predict(code, False, False, 4, False, key, api_name="/arena_leaderboard")[0]
    assert "3 votes counted" in note
    assert "3 votes archived" in instructor.predict(code, key, api_name="/arena_room_reset")
    assert arena.store.counts(code)["votes"] == 0
    assert "closed" in instructor.predict(code, key, api_name="/arena_room_close")
    with pytest.raises(AppError, match="closed"):
        bob.submit("What is 3+3?", code, api_name="/arena_battle").result(timeout=30)
    # a restart: a new Arena on the same database still knows the room and its key
    again = Arena(arena.contestants, store=ArenaStore(arena.store.db), max_new_tokens=8)
    assert again.rooms.get(code).closed and again.rooms.is_instructor(code, key, "arena")


def test_regenerate_after_vote_never_reuses_the_revealed_pair(tmp_path: Path, servers):
    s1, s2, _ = servers
    cfg = {"contestants": [{"id": cid, "label": cid, "backend": "openai", "base_url": s.base_url, "model": cid,
                            "offline": True} for cid, s in (("x", s1), ("y", s2), ("z", s1))]}
    arena = Arena(parse_config(cfg, offline=True), store=ArenaStore(Database(tmp_path / "a.sqlite3")), seed=1,
                  max_new_tokens=8)
    for _ in range(5):
        last = list(arena.stream("Name a colour."))[-1]
        old = arena.store.battle(last.token)
        arena.vote(last.token, "model_a", "s")
        again = list(arena.stream("", token=last.token))[-1]
        new = arena.store.battle(again.token)
        assert new.mode == "anonymous" and {new.model_a, new.model_b} != {old.model_a, old.model_b}
        assert "new anonymous pair" in again.note
    two = Arena(parse_config(cfg, offline=True)[:2], store=arena.store, max_new_tokens=8)
    last = list(two.stream("Name a colour."))[-1]
    same = list(two.stream("", token=last.token))[-1]  # not voted yet: same pair, still anonymous
    assert two.store.battle(same.token).mode == "anonymous" and not same.names[0]
    two.vote(same.token, "tie", "s")
    named = list(two.stream("", token=same.token))[-1]
    assert two.store.battle(named.token).mode == "named" and named.names[0] and "named battle" in named.note
