"""Links that reopen a state, provenance headers, and notebooks that run (core.links, core.notebooks)."""
from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest

from core.book import Chapter
from core import links
from core.links import LinkError, make_link, open_link
from core.notebooks import Notebook, execute, outputs_json
from core.provenance import header
from core.settings import override_settings


@pytest.fixture
def db(tmp_path: Path):
    from core import storage

    with override_settings(data_dir=tmp_path):
        storage._databases.clear()
        yield
        storage._databases.clear()


def test_small_state_is_a_query_string(db) -> None:
    link = make_link("tokenizers", {"text": "héllo, world", "tokenizers": ["gpt-4", "llama-3"], "ids": True})
    assert link.expires is None and link.path_and_query.startswith("tokenizers?")
    params = dict(__import__("urllib.parse").parse.parse_qsl(link.query))
    state = open_link("tokenizers", params)
    assert state["text"] == "héllo, world" and links.param_list(state["tokenizers"]) == ["gpt-4", "llama-3"]
    assert links.param_bool(state["ids"]) is True


def test_large_state_is_stored_and_expires(db) -> None:
    big = {"text": "x" * 5000, "k": 3}
    link = make_link("rag", big, ttl_days=1)
    assert link.expires and "s=" in link.query and "expires" in link.note
    link_id = link.query.split("=", 1)[1]
    assert open_link("rag", {"s": link_id}) == big
    with pytest.raises(LinkError, match="another app"):
        open_link("topics", {"s": link_id})
    from core.storage import database

    with database().transaction() as conn:
        conn.execute("UPDATE state_links SET expires = ? WHERE id = ?", (time.time() - 1, link_id))
    with pytest.raises(LinkError, match="expired"):
        open_link("rag", {"s": link_id})


@pytest.mark.parametrize("bad", ["", "../../etc", "x" * 40, "<script>"])
def test_malformed_and_unknown_links_get_a_clear_message(db, bad: str) -> None:
    with pytest.raises(LinkError):
        open_link("rag", {"s": bad})
    with pytest.raises(LinkError, match="unknown"):
        open_link("rag", {"s": "AbCdEf12"})


def test_provenance_names_versions_models_and_parameters() -> None:
    block = header("prompts", ["chat-smollm2-135m"], {"temperature": 0.7})
    assert block["mode"] == "offline" and block["parameters"] == {"temperature": 0.7}
    assert block["libraries"]["gradio"] and block["lab_version"] != "unknown"
    model = block["models"][0]
    assert model["name"] == "chat-smollm2-135m" and len(model.get("sha256", "")) == 64


def test_notebook_builds_bundles_and_runs(tmp_path: Path) -> None:
    nb = Notebook("tokenizers", "Tokenizer Arena", Chapter(2, "Tokens and Embeddings", "§2.1"),
                  parameters={"text": "hi"})
    nb.setup(["tiktoken"], assets=["tiktoken"])
    rel = nb.add_data("my data.csv", b"a,b\n1,2\n")
    nb.section("§2.1 Counting", "Read the data.")
    nb.code(f"import csv, json\nrows = list(csv.reader(open({rel!r})))\n"
            "print('LAB_RESULT ' + json.dumps({'rows': len(rows), 'asset': str(offline_asset('tiktoken')).endswith('tiktoken')}))")
    name, content = nb.bundle()
    assert name.endswith(".zip")
    with zipfile.ZipFile(__import__("io").BytesIO(content)) as zf:
        zf.extractall(tmp_path)
        assert sorted(zf.namelist()) == ["data/my_data.csv", "llm-lab-tokenizers.ipynb"]
    doc = json.loads((tmp_path / "llm-lab-tokenizers.ipynb").read_text())
    assert doc["cells"][0]["cell_type"] == "markdown" and "chapter 2" in "".join(doc["cells"][0]["source"])
    ran = execute(str(tmp_path / "llm-lab-tokenizers.ipynb"), timeout_s=120)
    assert outputs_json(ran) == {"rows": 2, "asset": True}
