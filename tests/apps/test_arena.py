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
    note, table, *_plots = client.predict("room-1", False, True, 8, False, api_name="/arena_leaderboard")
    assert "5 votes counted" in note and "Length control on" in note
    assert [row[1] for row in table["data"]] in (["Verbose bot", "Terse bot"], ["Terse bot", "Verbose bot"])
    live_html, live_table = client.predict("room-1", api_name="/arena_live")
    assert ">5<" in live_html  # five votes in the room
    judged_html, judged = client.predict("judge", "room-1", 2, api_name="/arena_judge")
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
