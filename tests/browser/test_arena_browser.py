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


DEMO_KEY = "demo-instructor-key"


def demo_room(store: ArenaStore) -> None:
    """Register the seeded room "demo" as an instructor's room with a known key (tests only)."""
    from core.rooms import RoomStore, hash_key

    RoomStore(store.db)
    with store.db.transaction() as conn:
        conn.execute("INSERT INTO rooms(code, app, title, key_hash, created_at) VALUES ('demo', 'arena', 'Demo', ?, 0)",
                     (hash_key(DEMO_KEY),))


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
        demo_room(store)
        arena = Arena(parse_config(cfg, offline=True), store=store, max_new_tokens=64, seed=5)
        _, url = launch(standalone(lambda: build(arena), "arena", CSS), CSS)
        page.goto(url + "?room=demo&key=" + DEMO_KEY)
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


SHOTS = Path("/tmp/shots/arena")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    screenshot(page, f"arena-{name}")


def test_room_flow_instructor_and_two_participants(launch, browser, tmp_path: Path):
    """The instructor opens a room, two participants join by link and vote, the instructor sees the
    board; a participant gets no instructor view (nor with a wrong key) and the public page stays public."""
    from apps.arena.app import CSS, build
    from apps.launch import standalone

    servers = [FakeOpenAI(reply=r) for r in ("Tokens are pieces of text a model reads, one id each.",
                                             "A tokenizer splits text into tokens.", "Arr, tokens be chunks!")]
    for s in servers:
        s.__enter__()
    contexts = []
    try:
        cfg = {"contestants": [{"id": c, "label": f"{c} bot", "backend": "openai", "base_url": s.base_url, "model": c,
                                "offline": True} for c, s in zip("abc", servers)]}
        arena = Arena(parse_config(cfg, offline=True), store=ArenaStore(Database(tmp_path / "a.sqlite3")),
                      max_new_tokens=32, seed=2)
        _, url = launch(standalone(lambda: build(arena), "arena", CSS), CSS)

        def new_page(width: int = 1400, height: int = 1000, dark: bool = False):
            ctx = browser.new_context(viewport={"width": width, "height": height},
                                      color_scheme="dark" if dark else "light")
            contexts.append(ctx)
            return ctx.new_page()

        teacher = new_page()
        teacher.goto(url)
        teacher.get_by_role("tab", name="🧑‍🏫 Instructor").click()
        teacher.locator("#arena-room-title input").fill("Friday workshop")
        teacher.locator("#arena-create").click()
        participant_link = teacher.locator("#arena-participant-link").inner_text(timeout=30_000).strip()
        instructor_link = teacher.locator("#arena-instructor-link").inner_text().strip()
        assert "?room=" in participant_link and "key=" in instructor_link and "key=" not in participant_link
        code = participant_link.rsplit("room=", 1)[1]
        _shot(teacher, "room-created")

        for i, viewport in enumerate(((1400, 1000), (390, 844))):
            p = new_page(*viewport)
            p.goto(participant_link)
            p.get_by_text(f"Room {code}").first.wait_for(timeout=30_000)
            assert p.get_by_role("tab", name="🧑‍🏫 Instructor").count() == 0  # no instructor view
            assert p.get_by_role("tab", name="📦 Export").count() == 0
            p.locator("#arena-prompt textarea").fill(f"What is a token? ({i})")
            p.locator("#arena-go").click()
            p.wait_for_function("() => !document.querySelector('#arena-vote-0').disabled", timeout=60_000)
            if viewport[0] == 390:  # the two answers stack on a phone
                l_box, r_box = p.locator("#arena-left").bounding_box(), p.locator("#arena-right").bounding_box()
                assert l_box["width"] > 300 and r_box["y"] >= l_box["y"] + l_box["height"] - 2
            p.locator("#arena-vote-0").click()
            p.get_by_text("Vote recorded").wait_for(timeout=30_000)
            _shot(p, f"participant-{viewport[0]}")
            p.reload()  # a reload keeps the room
            p.get_by_text(f"Room {code}").first.wait_for(timeout=30_000)
        assert arena.store.counts(code)["votes"] == 2 and arena.store.counts("public")["votes"] == 0

        sneaky = new_page()
        sneaky.goto(participant_link + "&key=guessed")
        sneaky.get_by_text("key is not valid").wait_for(timeout=30_000)
        assert sneaky.get_by_role("tab", name="🧑‍🏫 Instructor").count() == 0
        unknown = new_page()
        unknown.goto(url + "?room=nosuchroom")
        unknown.get_by_text("There is no arena room").wait_for(timeout=30_000)

        boss = new_page(dark=True)
        boss.goto(instructor_link + "&__theme=dark")
        boss.get_by_text("instructor view").first.wait_for(timeout=30_000)
        boss.get_by_role("tab", name="🧑‍🏫 Instructor").click()
        boss.get_by_label("Live updates (every 3 s)").check()
        boss.locator(".arena-kpi").first.wait_for(timeout=30_000)
        assert boss.locator(".arena-kpi .v").first.inner_text() == "2"
        _shot(boss, "instructor-dark")
        boss.get_by_role("tab", name="🏆 Leaderboard").click()
        boss.locator("#arena-refresh").click()
        boss.get_by_text("2 votes counted").wait_for(timeout=60_000)
        boss.wait_for_timeout(1200)
        _shot(boss, "instructor-board-dark")
    finally:
        for ctx in contexts:
            ctx.close()
        for s in servers:
            s.__exit__(None, None, None)
