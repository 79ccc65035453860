"""Tokenizer Arena through its HTTP API (gradio_client), one launched app for the module."""
from __future__ import annotations

from typing import Any

import pytest

from core.tokenizers.compare import book_sample


@pytest.fixture(scope="module")
def client() -> Any:
    from gradio_client import Client

    from apps.tokenizers.app import CSS, build
    from apps.common import configure_queue
    from apps.launch import launch_kwargs
    from tests.conftest import free_port

    demo = build()
    configure_queue(demo)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                **launch_kwargs(CSS))
    yield Client(demo.local_url, verbose=False, download_files=False)
    demo.close()


def test_build_loads_no_model() -> None:
    from core.tokenizers import registry
    from apps.tokenizers.app import build

    before = dict(registry._cache)
    build()
    assert dict(registry._cache) == before


def test_compare_book_sample(client: Any) -> None:
    arena, summary, diff, notes = client.predict(
        book_sample(), ["bert-base-uncased", "gpt2", "gpt-4", "starcoder", "phi-3"], "", False,
        api_name="/tokenizers_compare")
    rows = {r[0]: r for r in summary["data"]}
    assert rows["BERT base uncased"][1] == 41  # book: [CLS] english and capital ##ization … [SEP]
    assert rows["GPT-2 (r50k_base)"][1] == 55
    assert rows["GPT-4 / GPT-3.5 (cl100k_base)"][1] == 41
    assert arena.count('class="tokenizers-col"') == 5
    assert "[UNK]" in arena and "&lt;s&gt;" in arena  # BERT's unknowns, Phi-3's BOS
    assert 'data-i="8582 236 113"' in arena  # 🎵 grouped with all its ids (GPT-2)
    assert "\ufffd" not in arena
    assert "bd-no" in diff and "%" in diff
    assert notes == ""


def test_compare_escapes_and_reports_errors(client: Any) -> None:
    arena, summary, _, _ = client.predict("<script>alert(1)</script>", ["gpt-4"], "google/flan-t5-small", True,
                                          api_name="/tokenizers_compare")
    assert "<script" not in arena and "&lt;" in arena and "alert" in arena
    assert "tokenizers-ids" in arena  # id view on
    assert "needs the Hugging Face Hub" in arena  # offline: one clear line for a Hub id
    assert len(summary["data"]) == 2


def test_compare_empty_text(client: Any) -> None:
    arena, _, _, _ = client.predict("", ["gpt-4"], "", False, api_name="/tokenizers_compare")
    assert "Type or paste" in arena


def test_example_chat_cost_decode(client: Any) -> None:
    code = client.predict("Code: indentation and tabs", api_name="/tokenizers_example")
    assert code.startswith("def add_numbers")
    prompt, html, summary = client.predict("qwen2", "Be brief.", "Hi", "Hello!", True, api_name="/tokenizers_chat")
    assert "<|im_start|>assistant" in prompt and "tk-sp" in html and "special" in summary
    prices = {"headers": ["tokenizer", "model", "USD / M input tokens"], "data": [["gpt-4o", "GPT-4o", 2.5]]}
    table, plot, money, note = client.predict(["gpt2", "gpt-4o"], "", prices, api_name="/tokenizers_cost")
    assert [r[0] for r in table["data"]][:2] == ["English", "Spanish"] and len(table["data"]) >= 11
    assert money["data"][0][0] == "GPT-4o (o200k_base)" and plot
    decoded = client.predict("8582 236 113", ["gpt2", "gpt-4"], "", api_name="/tokenizers_decode")
    assert decoded["data"][0][1] == "🎵"


def test_bad_ids_are_a_user_error(client: Any) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="not a token id"):
        client.predict("1 two", ["gpt2"], "", api_name="/tokenizers_decode")
