"""Prompt Lab served on loopback and driven with gradio_client (streaming via ``client.submit``)."""
from __future__ import annotations

import json

import pytest
from gradio_client.exceptions import AppError

from apps.prompts import app as prompt_lab
from apps.launch import standalone
from tests.fake_openai import FakeOpenAI

LOCAL = ["Local model", "chat-smollm2-135m", "", "", ""]
NO_SHOTS = {"headers": ["user", "assistant"], "data": [["", ""]]}
SAMPLING_GREEDY = [0.7, 1.0, 50, 6, 1.0, 0, True]  # temperature, top_p, top_k, max_new, rep, seed, greedy


@pytest.fixture(scope="module")
def client_url():
    from gradio_client import Client

    from apps.common import configure_queue
    from apps.launch import launch_kwargs
    from tests.conftest import free_port

    blocks = standalone(prompt_lab.build, "prompts", prompt_lab.CSS)
    configure_queue(blocks)
    blocks.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True,
                  **launch_kwargs(prompt_lab.CSS))
    yield Client(blocks.local_url, verbose=False, download_files=False), blocks.local_url
    blocks.close()


def test_generate_streams_then_next_token_view(client_url) -> None:
    client, _ = client_url
    job = client.submit(*LOCAL, "", "Create a funny joke about chickens.", False, [], *SAMPLING_GREEDY,
                        api_name="/prompts_generate")
    updates = list(job)
    chat, text, stats, view, tokens, status = job.result()
    assert len(updates) >= 3, "the job streams: waiting/running status, then the answer"
    assert text.strip() and chat[-1]["role"] == "assistant" and text in str(chat[-1]["content"])
    assert "✓ done" in stats and "time to first token" in stats
    assert "&lt;|im_start|&gt;" in view and 'class="prompts-tok special"' in view and "context window" in view
    assert 1 <= len(tokens) <= 6 and "".join(t["token"] for t in tokens) == text
    # the same greedy prompt again: identical (deterministic) answer
    again = client.predict(*LOCAL, "", "Create a funny joke about chickens.", False, [], *SAMPLING_GREEDY,
                           api_name="/prompts_generate")
    assert again[1] == text
    html, _ = client.predict(1, 0.5, 1.0, 50, False, api_name="/prompts_next_token")  # state kept in the session
    assert "prompts-next-table" in html and html.count("<tr") == 11 and "◀ chosen" in html


def test_offline_local_models_list_what_runs_once_and_take_every_catalogue_name(client_url) -> None:
    """Offline all six chat models run SmolLM2-135M: one choice (issue 18); the book's models are named
    in its info; an API caller passing one of them still gets an answer, an unknown name a clear error."""
    from tests.conftest import dropdown_props

    client, _ = client_url
    local = dropdown_props(client, "Local chat model")
    assert local["choices"] == [["SmolLM2-135M-Instruct (offline)", "chat-smollm2-135m"]]
    assert local["value"] == "chat-smollm2-135m" and local["allow_custom_value"]
    assert all(book in local["info"] for book in ("Phi-3-mini-4k-instruct", "Qwen2.5-1.5B-Instruct", "hub mode"))
    _, text, *_ = client.predict("Local model", "chat-phi3-mini", "", "", "", "", "Say hi.", False, [],
                                 *SAMPLING_GREEDY, api_name="/prompts_generate")
    assert text.strip()
    with pytest.raises(AppError, match="Unknown model 'no-such-model'"):
        client.predict("Local model", "no-such-model", "", "", "", "", "Say hi.", False, [], *SAMPLING_GREEDY,
                       api_name="/prompts_generate")


def test_hub_mode_picker_lists_every_chat_model() -> None:
    import gradio as gr

    from apps.common.backend import backend_picker
    from core import catalogue
    from core.settings import override_settings

    with override_settings(mode="hub"), gr.Blocks():
        p = backend_picker("prompts")
    assert p.local_model.choices == [(e.label, e.name) for e in catalogue.entries("chat")]
    assert p.local_model.value == "chat-phi3-mini" and not p.local_model.allow_custom_value and not p.local_model.info


def test_bad_input_is_a_clear_error_and_the_app_keeps_working(client_url) -> None:
    client, _ = client_url
    with pytest.raises(AppError, match="prompt is empty"):
        client.predict(*LOCAL, "", "   ", False, [], *SAMPLING_GREEDY, api_name="/prompts_generate")
    with pytest.raises(AppError, match="less than minimum value"):  # the slider's own bounds check
        client.predict(*LOCAL, "", "hi", False, [], 0.0, 1.0, 50, 6, 1.0, 0, False, api_name="/prompts_generate")
    with pytest.raises(AppError, match=r"context window"):
        client.predict(*LOCAL, "", "chicken " * 8300, False, [], *SAMPLING_GREEDY, api_name="/prompts_generate")
    with pytest.raises(AppError, match="Invalid JSON Schema"):
        client.predict(*LOCAL, "", "x", "JSON Schema", '{"type": 7}', True, *SAMPLING_GREEDY,
                       api_name="/prompts_constrained")
    out = client.predict(*LOCAL, "", "Is 'A dull, lifeless film.' positive or negative?", "Choice",
                         "positive\nnegative", True, *SAMPLING_GREEDY, api_name="/prompts_constrained")
    assert out[0] in ("positive", "negative") and "✓" in out[2] and "llguidance" in out[2]


def test_openai_backend_through_the_app(client_url) -> None:
    client, _ = client_url
    schema = json.dumps({"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]})
    with FakeOpenAI(reply='{"answer": 9}', piece_delay=0.5) as server:  # pieces far apart: each is its own update
        remote = ["OpenAI-compatible server", "chat-smollm2-135m", server.base_url, "fake-model", "sk-secret-key-1"]
        job = client.submit(*remote, "", "How many apples?", False, [], *SAMPLING_GREEDY,
                            api_name="/prompts_generate")
        updates = list(job)
        chat, text, stats, view, tokens, status = job.result()
        assert text == '{"answer": 9}' and len(updates) >= 3 and "server-side template" in view
        assert [t["token"] for t in tokens] == ['{"answer": ', "9}"]  # the tokens the server scored
        html, _ = client.predict(1, 0.7, 1.0, 50, False, api_name="/prompts_next_token")
        assert "prompts-next-table" in html and html.count("<tr") == 11 and "◀ chosen" in html
        assert "server&#x27;s top 10 logprobs" in html or "server's top 10 logprobs" in html
        assert server.requests[0]["top_logprobs"] == 10
        out = client.predict(*remote, "", "How many apples?", "JSON Schema", schema, True, *SAMPLING_GREEDY,
                             api_name="/prompts_constrained")
        assert "Valid JSON" in out[2] and server.requests[-1]["response_format"]["type"] == "json_schema"
    with FakeOpenAI(mode="401") as server:
        remote = ["OpenAI-compatible server", "chat-smollm2-135m", server.base_url, "fake-model", "sk-secret-key-1"]
        with pytest.raises(AppError, match="rejected the API key") as info:
            client.predict(*remote, "", "hi", False, [], *SAMPLING_GREEDY, api_name="/prompts_generate")
        assert "sk-secret-key-1" not in str(info.value)


def test_techniques_sweep_and_examples(client_url) -> None:
    client, _ = client_url
    ex = client.predict("cafeteria-cot", api_name="/prompts_example")
    assert "cafeteria" in ex[0] and len(ex[1]) == 2 and ex[2] is True
    prompt = client.predict(["instruction", "data"], *[""] * 1, "Summarize the key findings.", *[""] * 4, "DATA",
                            api_name="/prompts_assemble")
    assert prompt == "Summarize the key findings.\nDATA"
    view = client.predict(*LOCAL, "", "tree-of-thought", "How many apples?", NO_SHOTS, "Let's think step-by-step.",
                          api_name="/prompts_technique_prompt")
    assert ">Imagine<" in view and "> experts<" in view
    fake = ["OpenAI-compatible server", "chat-smollm2-135m", "", "fake-model", ""]
    with FakeOpenAI(reply="23 - 20 = 3 and 3 + 6 = 9. The answer is 9.") as server:
        fake[2] = server.base_url
        sc, _ = client.predict(*fake, "", "zero-shot-cot", "The cafeteria had 23 apples...", NO_SHOTS,
                            "Let's think step-by-step.", 3, 0.8, 1.0, 50, 32, 1.0, 0,
                            api_name="/prompts_self_consistency")
        assert "Majority answer: <b>9</b> (3 of 3 samples)" in sc
        grid, _ = client.predict(*fake, "", "joke", "0.3, 1.2", "1.0", 1, 8, 50, 1.0, 0, api_name="/prompts_sweep")
        assert "✓ done" in grid and grid.count("prompts-cell") == 2
        chain, _ = client.predict(*fake, "", "Name a bot.\n---\nPitch: {previous}", "", *SAMPLING_GREEDY,
                               api_name="/prompts_chain")
        assert "Step 2 prompt" in chain and "Pitch: 23 - 20" in chain


def test_a_long_generation_streams_and_stops_within_two_seconds(client_url) -> None:
    """The job runner's Stop (this client's session) ends a long answer; the app keeps working."""
    import time

    client, _ = client_url
    sampled = [0.9, 1.0, 50, 400, 1.0, 0, False]
    job = client.submit(*LOCAL, "", "Write a long story about a lighthouse keeper.", False, [], *sampled,
                        api_name="/prompts_generate")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until text streams
        outs = job.outputs()
        if any(isinstance(o[1], str) and o[1] for o in outs):
            break
        time.sleep(0.1)
    partial = [o[1] for o in job.outputs() if isinstance(o[1], str) and o[1]][-1]
    assert partial, "no streamed text before the stop"
    asked = time.monotonic()
    assert "Stopped." in client.predict(api_name="/prompts_generate_stop")
    while not job.done() and time.monotonic() - asked < 5:
        time.sleep(0.05)
    took = time.monotonic() - asked
    assert job.done() and took < 2.0, f"stopping took {took:.1f} s"
    texts = [o[1] for o in job.outputs() if isinstance(o[1], str)]
    assert texts[-1].startswith(partial) and len(texts[-1]) < 4000
    # the slot is free again: a short answer comes back at once
    again = client.predict(*LOCAL, "", "Say hi.", False, [], *SAMPLING_GREEDY, api_name="/prompts_generate")
    assert again[1].strip() and "✓ done" in again[2]


def test_knobs_follow_greedy_and_what_the_server_takes() -> None:
    from apps.prompts.controls import knob_states

    temp, top_p, top_k, rep, note = knob_states(True, "Local model", "")
    assert not temp["interactive"] and not top_p["interactive"] and not top_k["interactive"] and rep["interactive"]
    assert "Greedy decoding" in note
    temp, top_p, top_k, rep, note = knob_states(False, "OpenAI-compatible server", "https://api.openai.com/v1")
    assert temp["interactive"] and not top_k["interactive"] and not rep["interactive"]
    assert "OpenAI&#x27;s API has no top_k" in note or "OpenAI's API has no top_k" in note
    assert all(u["interactive"] for u in knob_states(False, "OpenAI-compatible server", "http://vllm:8000/v1")[:4])
