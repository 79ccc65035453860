"""The fine-tuning tabs through gradio_client: their API endpoints exist, bad data is refused with a
clear message before any training starts, and the tune tab's notebook downloads as a zip with its data
(the training itself, and running the notebooks: tests/core/training)."""
from __future__ import annotations

import json
import zipfile
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


def test_tune_tab_refuses_bad_pairs_and_opens_as_notebook(launch, arena: Arena, tmp_path: Path) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    from apps.arena.app import CSS, build
    from apps.arena.tune_tab import BUILTIN, ROOM, UPLOAD

    client, _ = launch(build(arena), CSS)
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/arena_tune_sft", "/arena_tune_dpo", "/arena_tune_compare", "/arena_tune_notebook"} <= names
    bad = tmp_path / "pairs.jsonl"
    bad.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n{not json\n', encoding="utf-8")
    with pytest.raises(AppError, match="Line 2 of the uploaded file is not valid JSON"):
        client.predict(UPLOAD, handle_file(str(bad)), "", "", False, 8, 16, 0.1, 2, "5e-5", api_name="/arena_tune_dpo")
    with pytest.raises(AppError, match="No decisive, unflagged votes"):
        client.predict(ROOM, None, "", "", 8, 16, 2, "2e-4", api_name="/arena_tune_sft")

    # "Open as notebook": the built-in pairs at the tab's settings (SFT first, DPO r=8 β=0.2, 3 steps), with
    # this session's last DPO numbers noted
    from core.training import artifacts

    artifacts.keep(client.session_hash, "dpo", tmp_path / "adapter", {"chain": [], "held_out": {"margin": 0.321,
                   "accuracy": 0.75}, "trained_steps": 7})
    out = client.predict(BUILTIN, None, "", "", True, 4, 8, 2, "2e-4", 8, 16, 0.2, 3, "5e-5",
                         api_name="/arena_tune_notebook")[0]
    out = out.get("value", out) if isinstance(out, dict) else out  # a visible-file update
    with zipfile.ZipFile(out.get("path") if isinstance(out, dict) else out) as zf:
        names = set(zf.namelist())
        nb = json.loads(zf.read("llm-lab-arena-tune.ipynb"))
        pairs = json.loads(zf.read("data/preferences.json"))
    assert {"data/sft.json", "data/preferences.json"} <= names
    assert len(pairs["train"]) == 32 and len(pairs["held_out"]) == 8  # the built-in split the tab trains on
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "DPOTrainer(" in code and "LoraConfig(" in code and "BETA = 0.2" in code and "SFT_FIRST = True" in code
    assert "SFTConfig(**train_args(2, 4, 0.0002, 256)" in code and "peft_config=lora(4, 8.0)" in code  # SFT
    assert "DPOConfig(**train_args(3, 4, 5e-05, 256)" in code and "peft_config=lora(8, 16.0)" in code  # DPO
    notes = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "held-out reward margin 0.321; accuracy 75%; steps 7" in notes


def test_zoo_has_the_finetune_endpoints(launch) -> None:
    from apps.classifiers.app import CSS, build

    client, _ = launch(build(), CSS)
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/classifiers_finetune", "/classifiers_embedder"} <= names
