"""One switch (issue 17): ``--openai-base-url URL --openai-model M`` points every generating app and the
arena at that server, with no per-app configuration; a session can still pick the local model.

The whole lab (``apps.lab.build_lab``) is served against ``tests/fake_openai.py``, which records every
chat request it gets; the settings and the process-wide arena are restored afterwards.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from core.generation import LOCAL, REMOTE
from tests.conftest import serve_blocks
from tests.fake_openai import FakeOpenAI

REPLY = "Blue, says the server."


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[Any, FakeOpenAI, str]]:
    """The lab started after ``set_openai_server(fake, "fake-model")`` (as ``apps.launch.apply_args`` does)."""
    from gradio_client import Client

    from apps.lab import build_lab
    from core.arena import battles
    from core.settings import get_settings, override_settings, set_openai_server

    before = get_settings().openai
    with FakeOpenAI(reply=REPLY, models=("fake-model", "other-model")) as fake, override_settings():
        set_openai_server(fake.base_url, "fake-model")
        saved_arena, battles._arena = battles._arena, None  # the arena lists contestants when it is built
        try:
            blocks, css = build_lab()
            server = serve_blocks(blocks, css)
            next(server)
            yield Client(blocks.local_url, verbose=False, download_files=False), fake, blocks.local_url
            server.close()
        finally:
            battles._arena = saved_arena
    assert get_settings().openai == before  # restored


def _defaults(client: Any, endpoint: str) -> dict[str, Any]:
    params = client.view_api(print_info=False, return_format="dict")["named_endpoints"][endpoint]["parameters"]
    return {p["parameter_name"]: p.get("parameter_default") for p in params}


def _asked(fake: FakeOpenAI, since: int) -> list[dict[str, Any]]:
    return fake.requests[since:]


def test_prompt_lab_generates_on_the_server_by_default(lab: tuple[Any, FakeOpenAI, str]) -> None:
    prompts, fake, _ = lab
    defaults = _defaults(prompts, "/prompts_generate")
    assert defaults["kind"] == REMOTE and defaults["base_url"] == fake.base_url
    assert defaults["remote_model"] == "fake-model" and not defaults["api_key"]
    n = len(fake.requests)
    chat, text, *_ = prompts.predict(prompt="Is the sky blue?", max_new_tokens=12, greedy=True,
                                     api_name="/prompts_generate")
    assert text == REPLY
    asked = _asked(fake, n)
    assert asked and asked[-1]["model"] == "fake-model"
    assert asked[-1]["messages"][-1]["content"] == "Is the sky blue?"


def test_a_session_can_still_pick_the_local_model(lab: tuple[Any, FakeOpenAI, str]) -> None:
    prompts, fake, _ = lab
    n = len(fake.requests)
    _, text, *_ = prompts.predict(LOCAL, "chat-smollm2-135m", "", "", "", "", "Say hi.", False, [],
                                  0.7, 1.0, 50, 6, 1.0, 0, True, api_name="/prompts_generate")
    assert text.strip() and text != REPLY
    assert len(fake.requests) == n  # the local model answered; the server was not asked


def test_rag_chat_answers_from_the_server_by_default(lab: tuple[Any, FakeOpenAI, str]) -> None:
    rag, fake, _ = lab
    defaults = _defaults(rag, "/rag_ask")
    assert defaults["kind"] == REMOTE and defaults["remote_model"] == "fake-model"
    n = len(fake.requests)
    history, sources, prompt, *_ = rag.predict(question="Is the sky blue?", history=[], mode="none", max_new=16,
                                               api_name="/rag_ask")
    assert REPLY in str(history[-1]["content"]) and "No retrieval" in sources
    asked = _asked(fake, n)
    assert asked and asked[-1]["model"] == "fake-model" and "Is the sky blue?" in str(asked[-1]["messages"])


def test_topic_labels_default_to_the_server(lab: tuple[Any, FakeOpenAI, str]) -> None:
    """Labelling needs a fitted run (slow here); its endpoint's defaults build the server backend."""
    from apps.common.backend import make
    from core.generation import OpenAIBackend

    client, fake, _ = lab
    defaults = _defaults(client, "/topics_label")
    assert defaults["backend_kind"] == REMOTE and defaults["base_url"] == fake.base_url
    assert defaults["model"] == "fake-model" and defaults["local_model"] == "chat-qwen2.5-0.5b"
    backend = make(defaults["backend_kind"], defaults["local_model"], defaults["base_url"], defaults["model"],
                   defaults["api_key"] or "")
    assert isinstance(backend, OpenAIBackend) and backend.base_url == fake.base_url
    n = len(fake.requests)
    assert backend.generate([{"role": "user", "content": "Name this topic."}]) == REPLY
    assert _asked(fake, n)[-1]["model"] == "fake-model"


def test_classifier_zoo_server_settings_default_to_the_server(lab: tuple[Any, FakeOpenAI, str]) -> None:
    client, fake, _ = lab
    defaults = _defaults(client, "/classifiers_classify")
    assert defaults["base_url"] == fake.base_url and defaults["model"] == "fake-model"


def test_the_arena_battles_with_the_server_models(lab: tuple[Any, FakeOpenAI, str]) -> None:
    from core.arena.battles import get_arena

    client, fake, _ = lab
    arena = get_arena()
    server = [c for c in arena.pool if c.backend == "openai"]
    assert [c.id for c in server] == ["server:fake-model"] and server[0].base_url == fake.base_url
    local = next(c for c in arena.pool if c.backend == "local")
    n = len(fake.requests)
    out = client.submit("Why is the sky blue?", "server:fake-model", local.id, "",
                                        api_name="/arena_compare").result(timeout=180)
    assert REPLY in str(out[1]) or REPLY in str(out[2])
    assert _asked(fake, n) and _asked(fake, n)[-1]["model"] == "fake-model"


def test_picker_defaults_without_a_model_and_without_a_server() -> None:
    """No ``--openai-model``: the server's first listed model; no server: the local model. A new base
    URL relists that server's models."""
    import gradio as gr

    from apps.common.backend import backend_picker, relist_models
    from core.settings import OpenAISettings, override_settings, set_openai_server

    with FakeOpenAI(models=("zeta", "alpha")) as fake, override_settings(openai=OpenAISettings()):
        with gr.Blocks():
            p = backend_picker("prompts")
        assert p.kind.value == LOCAL and p.local_model.value == "chat-smollm2-135m" and not p.server_row.visible
        set_openai_server(fake.base_url, None)
        with gr.Blocks():
            p = backend_picker("prompts")
        assert p.kind.value == REMOTE and p.server_model.value == "alpha"
        assert p.server_row.visible and not p.local_model.visible
        update = relist_models(fake.base_url, "", "")
        assert update["value"] == "alpha" and update["choices"] == ["alpha", "zeta"]
        assert relist_models(fake.base_url, "", "zeta")["value"] == "zeta"
    assert relist_models("http://127.0.0.1:9/v1", "", "mine") == gr.skip()  # unreachable: left as typed
