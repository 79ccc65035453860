"""A tuned model enters the arena as a contestant and battles (tiny model; no download)."""
from __future__ import annotations

from pathlib import Path

from core.arena.battles import Arena
from core.arena.contestants import parse_config
from core.arena.store import ArenaStore
from core.storage import Database
from core.training import tuned
from tests.core.training.tiny import tiny_causal_lm
from tests.fake_openai import FakeOpenAI


def test_dpo_contestant_appears_in_the_room_and_battles(tmp_path: Path) -> None:
    model, tok = tiny_causal_lm()
    chain = [str(tmp_path / "dpo-adapter")]
    tuned.remember(chain, model, tok)  # as the DPO step does after training
    with FakeOpenAI(reply="the other answer") as server:
        cs = parse_config({"contestants": [
            {"id": "a", "label": "A", "backend": "openai", "base_url": server.base_url, "model": "m1", "offline": True},
            {"id": "b", "label": "B", "backend": "openai", "base_url": server.base_url, "model": "m2", "offline": True}]},
            offline=True)
        arena = Arena(cs, store=ArenaStore(Database(tmp_path / "a.sqlite3")), max_new_tokens=8, seed=3)
        cid = tuned.room_id("dpo", "")
        c = tuned.enter_arena(arena, cid, "SmolLM2 + room DPO", chain, "test adapter")
        assert arena.contestant(cid) is c and c in arena.pool and arena.label(cid) == "SmolLM2 + room DPO"
        again = tuned.enter_arena(arena, cid, "SmolLM2 + room DPO", chain, "retrained")
        assert [x.id for x in arena.pool].count(cid) == 1 and arena.contestant(cid) is again
        final = list(arena.stream("Tell me about tea", mode="named", model_a=cid, model_b="a", session="s"))[-1]
        assert final.ok and final.names[0] == "SmolLM2 + room DPO" and final.right.text == "the other answer"
        assert final.left.text.strip()  # the tiny model generated something
        res = arena.vote(final.token, "model_a", session="s")
        assert res.label_a == "SmolLM2 + room DPO" and res.detail_a == "retrained"
