"""Prompt Lab's "Open as notebook": the generated notebook, run with nbclient, writes the same text as
the lab (greedy decoding, same GGUF file, same llama.cpp engine) and the same seeded sweep."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.generation import LOCAL, llamacpp_available, make_backend, sampling
from core.notebooks import execute, outputs_json
from core.prompts.notebook import normalise, notebook
from core.prompts.sweep import sweep
from apps.prompts import MANIFEST

PROMPT = "Create a funny joke about chickens."
N_TOKENS = 24


def _state(**extra: object) -> dict:
    return {"kind": LOCAL, "model": "chat-smollm2-135m", "prompt": PROMPT, "system": "Be brief.",
            "temperature": 0.7, "top_p": 1.0, "top_k": 50, "max_new_tokens": N_TOKENS, "repetition_penalty": 1.0,
            "seed": 0, "greedy": True, **extra}


def test_notebook_names_the_book_and_pins_versions() -> None:
    nb = notebook(_state(), app=MANIFEST)
    doc = json.loads(nb.to_json())
    text = "".join("".join(c["source"]) for c in doc["cells"])
    assert "chapter 6" in text and "chapter 7" in text and "llama-cpp-python==" in text
    assert "create_chat_completion" in text and "SmolLM2-135M-Instruct.Q4_1.gguf" in text
    assert doc["metadata"]["llm_lab"]["app"] == "prompts"


def test_server_notebook_uses_the_openai_client() -> None:
    nb = notebook(_state(kind="OpenAI-compatible server", base_url="http://localhost:8000/v1", remote_model="m"), app=MANIFEST)
    text = "".join("".join(c["source"]) for c in json.loads(nb.to_json())["cells"])
    assert "from openai import OpenAI" in text and "'temperature': 0.0" in text.replace('"', "'")
    assert "OPENAI_API_KEY" in text and "sk-" not in text


@pytest.mark.skipif(not llamacpp_available(), reason="llama-cpp-python is not installed")
def test_notebook_reproduces_greedy_text_and_seeded_sweep(tmp_path: Path) -> None:
    backend = make_backend(LOCAL, "chat-smollm2-135m")
    state = _state()
    msgs = normalise(state)["messages"]
    lab_text = backend.generate(msgs, sampling(0.7, 1.0, 50, N_TOKENS, 1.0, 0, True))
    sweep_msgs = [msgs[0], {"role": "user", "content": PROMPT}]
    last = None
    for last in sweep(backend, sweep_msgs, [0.3, 1.2], [1.0], 1, sampling(1.0, 1.0, 50, 8, 1.0, 0, False)):
        pass
    state["sweep"] = {"prompt": PROMPT, "temperatures": [0.3, 1.2], "top_ps": [1.0], "n": 1, "max_new_tokens": 8,
                      "seed": 0}
    name, content = notebook(state, app=MANIFEST).bundle()
    path = tmp_path / name
    path.write_bytes(content)
    result = outputs_json(execute(str(path), timeout_s=180))
    assert result["text"] == lab_text and lab_text.strip()
    assert [c["samples"] for c in result["sweep"]] == [c.samples for c in last.cells]
