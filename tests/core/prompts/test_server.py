"""Prompt Lab against an OpenAI-compatible server (tests/fake_openai.py): every sampling setting the
server takes is sent (top_k and the repetition penalty through extra_body), the others are disabled
with a reason, and the next-token view reads the server's logprobs."""
from __future__ import annotations

import math

from core.generation import OpenAIBackend, SamplingParams
from core.generation.openai_engine import sampling_extras, sampling_support
from core.prompts.view import server_next_token
from tests.fake_openai import FakeOpenAI

MSGS = [{"role": "user", "content": "Name a colour."}]


def test_top_k_and_repetition_penalty_reach_the_server() -> None:
    params = SamplingParams(max_new_tokens=8, temperature=0.8, top_p=0.9, top_k=40, repetition_penalty=1.3, seed=3)
    with FakeOpenAI(reply="Deep blue sea") as server:
        backend = OpenAIBackend(server.base_url, "fake-model")
        assert backend.generate(MSGS, params) == "Deep blue sea"
        sent = server.requests[-1]
        assert (sent["temperature"], sent["top_p"], sent["seed"], sent["max_tokens"]) == (0.8, 0.9, 3, 8)
        assert sent["top_k"] == 40 and sent["repetition_penalty"] == 1.3 and sent["repeat_penalty"] == 1.3
        assert "logprobs" not in sent  # only asked for when the caller wants them
        backend.generate(MSGS, SamplingParams(max_new_tokens=8, greedy=True, top_k=40))
        assert server.requests[-1]["temperature"] == 0.0 and "top_k" not in server.requests[-1]
        assert "repetition_penalty" not in server.requests[-1]  # 1.0 = off: nothing sent


def test_servers_without_a_setting_get_none_and_say_why() -> None:
    params = SamplingParams(top_k=40, repetition_penalty=1.3)
    for url in ("https://api.openai.com/v1", "http://localhost:11434/v1"):
        support = sampling_support(url)
        assert set(support) == {"top_k", "repetition penalty"} and all(support.values())
        assert sampling_extras(url, params) == {}
    assert sampling_support("http://gpu-box:8000/v1") == {}  # vLLM, llama.cpp server…


def test_the_next_token_view_uses_the_servers_logprobs() -> None:
    with FakeOpenAI(reply="Deep blue sea") as server:
        backend = OpenAIBackend(server.base_url, "fake-model")
        text = "".join(backend.stream(MSGS, SamplingParams(max_new_tokens=8, temperature=1.0), top_logprobs=5))
        assert server.requests[-1]["logprobs"] is True and server.requests[-1]["top_logprobs"] == 5
    assert text == "Deep blue sea" and [e["token"] for e in backend.logprobs] == ["Deep ", "blue ", "sea"]
    view = server_next_token(backend.logprobs, 1, SamplingParams(temperature=1.0, top_p=1.0, top_k=0))
    assert [c.text for c in view.candidates] == ["blue ", "alt1", "alt2", "alt3", "alt4"]
    assert view.candidates[0].chosen and math.isclose(view.candidates[0].p, 0.6)
    assert math.isclose(sum(c.p_t for c in view.candidates), 1.0) and view.context_tail == "Deep "
    greedy = server_next_token(backend.logprobs, 0, SamplingParams(greedy=True))
    assert [c.kept for c in greedy.candidates] == [True, False, False, False, False]
    cut = server_next_token(backend.logprobs, 0, SamplingParams(temperature=1.0, top_p=0.5, top_k=0))
    assert [c.kept for c in cut.candidates][:2] == [True, False]  # 0.6/0.975 > 0.5: the top token alone
