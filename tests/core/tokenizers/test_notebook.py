"""Tokenizer Arena take-home: the generated notebook reproduces the lab's token ids and counts."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from core.notebooks import execute, outputs_json
from apps.tokenizers import MANIFEST

#: one tokenizer of every offline source kind (tiktoken, r50k, tekken, spm, tokenizer.json, WordPiece, GGUF)
IDS = ["gpt-4", "gpt2", "mistral-tekken", "mistral-v1", "deepseek-v3", "bert-base-uncased", "llama-3", "smollm2"]
TEXT = "English and CAPITALIZATION\n🎵 鸟 show_tokens False None elif == >= else: two tabs:\"\t\t\" 12.0*50=600"


def _unpack(bundle: tuple[str, bytes], folder: Path) -> Path:
    name, content = bundle
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            zf.extractall(folder)
        return folder / "llm-lab-tokenizers.ipynb"
    (folder / name).write_bytes(content)
    return folder / name


@pytest.mark.slow
def test_notebook_reproduces_ids_and_counts(tmp_path: Path) -> None:
    from core.tokenizers.notebook import notebook
    from core.tokenizers.registry import get_tokenizer

    nb = notebook({"text": TEXT, "tok": IDS}, app=MANIFEST)
    doc = json.loads(nb.to_json())
    assert "chapter 2" in "".join(doc["cells"][0]["source"])
    assert any("§2.1.5" in "".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "markdown")
    ran = execute(str(_unpack(nb.bundle(), tmp_path)), timeout_s=120)
    got = outputs_json(ran)
    for tid in IDS:
        want = get_tokenizer(tid).encode_ids(TEXT)
        assert got["ids"][tid] == want, tid
        assert got["counts"][tid] == len(want)


def test_results_download_has_header_and_ids() -> None:
    from core.tokenizers.results import link_state, results

    state = link_state("hello world", ["gpt-4", "bert-base-uncased"], "", True, "cost")
    assert state["tok"] == ["gpt-4", "bert-base-uncased"] and state["tab"] == "cost" and state["ids"] is True
    name, content = results(state)
    doc = json.loads(content)
    assert name.endswith(".json")
    prov = doc["provenance"]
    assert prov["app"] == "tokenizers" and prov["parameters"]["tokenizers"] == ["gpt-4", "bert-base-uncased"]
    assert prov["libraries"]["tiktoken"] and all(len(r.get("sha256", "")) == 64 for r in prov["tokenizers"])
    cols = {c["tokenizer"]: c for c in doc["columns"]}
    assert cols["gpt-4"]["ids"] == [15339, 1917] and cols["gpt-4"]["tokens"] == 2


def test_links_restore_tab_and_long_text_and_refuse_broken_ones(tmp_path: Path) -> None:
    import urllib.parse
    from types import SimpleNamespace

    from apps.tokenizers.takehome_row import on_load
    from core import storage
    from core.links import make_link
    from core.settings import override_settings
    from core.tokenizers.results import link_state

    with override_settings(data_dir=tmp_path):
        storage._databases.clear()
        try:
            long_text = "tokens " * 400
            link = make_link("tokenizers", link_state(long_text, ["gpt-4", "llama-3"], "", True, "decode"))
            assert link.expires is not None  # too long for a query string: stored
            params = dict(urllib.parse.parse_qsl(link.query))
            text, selected, _, show_ids, tabs, tab, message = on_load(SimpleNamespace(query_params=params))
            assert text == long_text and selected == ["gpt-4", "llama-3"] and show_ids and tab == "decode"
            assert message == ""
            for bad in ({"s": "../etc"}, {"s": "Nope1234"}):
                text, selected, *_, message = on_load(SimpleNamespace(query_params=bad))
                assert "link" in message and "Traceback" not in message and selected
        finally:
            storage._databases.clear()
