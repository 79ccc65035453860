"""Play a battle in a real browser, vote, then look at the leaderboard."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from core.arena.battles import Arena
from core.arena.contestants import parse_config
from core.arena.store import ArenaStore
from core.storage import Database
from tests.conftest import screenshot
from tests.fake_openai import FakeOpenAI

pytestmark = pytest.mark.browser


def seed_votes(store: ArenaStore, ids: list[str], n: int = 60) -> None:
    rng = random.Random(0)
    strength = {cid: i * 0.5 for i, cid in enumerate(ids)}
    for i in range(n):
        a, b = rng.sample(ids, 2)
        t = store.create_battle(f"seed question {i}", a, b, room="demo")
        store.complete_battle(t, "x" * rng.randint(50, 400), "y" * rng.randint(50, 400))
        p = 1 / (1 + 10 ** (-(strength[a] - strength[b]) / 1.5))
        u = rng.random()
        store.record_vote(t, "tie" if u < 0.1 else ("model_a" if rng.random() < p else "model_b"))


def test_play_battle_and_see_leaderboard(launch, page, tmp_path: Path):
    from apps.arena.app import CSS, build
    from apps.launch import standalone

    replies = {"a": "Tokens are small pieces of text — words or parts of words — that a model reads.",
               "b": "A tokenizer splits text into tokens.",
               "c": "Arr! Tokens be the treasure chunks o' text, matey."}
    servers = [FakeOpenAI(reply=r) for r in replies.values()]
    for s in servers:
        s.__enter__()
    try:
        cfg = {"contestants": [
            {"id": cid, "label": label, "backend": "openai", "base_url": s.base_url, "model": cid, "offline": True}
            for (cid, label), s in zip([("a", "Helpful bot"), ("b", "Terse bot"), ("c", "Pirate bot")], servers)]}
        store = ArenaStore(Database(tmp_path / "arena.sqlite3"))
        seed_votes(store, ["a", "b", "c"])
        arena = Arena(parse_config(cfg, offline=True), store=store, max_new_tokens=64, seed=5)
        _, url = launch(standalone(lambda: build(arena), "arena", CSS), CSS)
        page.goto(url)
        page.locator("#arena-room input >> visible=true").first.fill("demo")
        page.locator("#arena-prompt textarea >> visible=true").first.fill("What is a token?")
        page.locator("#arena-go").click()
        vote_a = page.locator("#arena-vote-0")
        page.wait_for_function("() => !document.querySelector('#arena-vote-0').disabled", timeout=60_000)
        left = page.locator("#arena-left").inner_text()
        right = page.locator("#arena-right").inner_text()
        assert "Model A" in left and "Model B" in right
        assert sum(r[:20] in left + right for r in replies.values()) == 2
        assert "bot" not in left + right  # names hidden before the vote
        screenshot(page, "arena-battle")
        vote_a.click()
        page.get_by_text("Vote recorded").wait_for(timeout=30_000)
        reveal = page.locator("#arena-reveal").inner_text()
        assert "Model A was" in reveal and "bot" in reveal
        screenshot(page, "arena-revealed")
        page.get_by_role("tab", name="🏆 Leaderboard").click()
        page.locator("#arena-refresh").click()
        page.get_by_text("61 votes counted").wait_for(timeout=60_000)
        page.locator("#arena-board-table").get_by_text("Pirate bot").first.wait_for()
        page.wait_for_timeout(1500)  # let plotly draw
        screenshot(page, "arena-leaderboard")
        page.get_by_role("tab", name="🧑‍🏫 Instructor").click()
        page.get_by_label("Live updates (every 3 s)").check()
        page.locator(".arena-kpi").first.wait_for(timeout=30_000)
        assert page.locator(".arena-kpi .v").first.inner_text() == "61"
        screenshot(page, "arena-instructor", full_page=False)
    finally:
        for s in servers:
            s.__exit__(None, None, None)
