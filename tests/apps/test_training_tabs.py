"""The fine-tuning tabs through gradio_client: their API endpoints exist, and bad data is refused
with a clear message before any training starts (the training itself: tests/core/training)."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.arena.battles import Arena
from core.arena.contestants import parse_config
from core.arena.store import ArenaStore
from core.storage import Database
from tests.fake_openai import FakeOpenAI


@pytest.fixture
def arena(tmp_path: Path):
    with FakeOpenAI(reply="one") as s1, FakeOpenAI(reply="two") as s2:
        cfg = {"contestants": [
            {"id": "a", "label": "A", "backend": "openai", "base_url": s1.base_url, "model": "a", "offline": True},
            {"id": "b", "label": "B", "backend": "openai", "base_url": s2.base_url, "model": "b", "offline": True}]}
        yield Arena(parse_config(cfg, offline=True), store=ArenaStore(Database(tmp_path / "a.sqlite3")),
                    max_new_tokens=8, seed=1)


def test_tune_tab_refuses_malformed_and_missing_pairs(launch, arena: Arena, tmp_path: Path) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    from apps.arena.app import CSS, build
    from apps.arena.tune_tab import ROOM, UPLOAD

    client, _ = launch(build(arena), CSS)
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/arena_tune_sft", "/arena_tune_dpo", "/arena_tune_compare"} <= names
    bad = tmp_path / "pairs.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n{not json\n', encoding="utf-8")
    with pytest.raises(AppError, match="Line 2 of the uploaded file is not valid JSON"):
        client.predict(UPLOAD, handle_file(str(bad)), "", "", False, 8, 16, 0.1, 2, "5e-5", api_name="/arena_tune_dpo")
    with pytest.raises(AppError, match="No decisive, unflagged votes"):
        client.predict(ROOM, None, "", "", 8, 16, 2, "2e-4", api_name="/arena_tune_sft")


def test_zoo_has_the_finetune_endpoints(launch) -> None:
    from apps.classifiers.app import CSS, build

    client, _ = launch(build(), CSS)
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/classifiers_finetune", "/classifiers_embedder"} <= names
