"""Generation backends: local SmolLM2 (greedy determinism, streaming == non-streaming, stop, limits)
and the OpenAI-compatible backend against the loopback FakeOpenAI (streaming, errors, timeouts)."""
from __future__ import annotations

import threading
import time

import pytest

from core.errors import BackendError, LabError
from core.generation import GREEDY, LocalBackend, OpenAIBackend, SamplingParams, redact
from core.settings import Limits, get_settings, override_settings
from tests.fake_openai import FakeOpenAI

JOKE = [{"role": "user", "content": "Create a funny joke about chickens."}]
SHORT = SamplingParams(max_new_tokens=8, greedy=True)


@pytest.fixture(scope="module")
def local() -> LocalBackend:
    backend = LocalBackend("chat-smollm2-135m")
    backend.lm()  # load once for the module
    return backend


# --------------------------------------------------------------------------------------------
# local
# --------------------------------------------------------------------------------------------

def test_greedy_is_deterministic_and_streaming_equals_raw_generate(local: LocalBackend) -> None:
    import torch

    pieces = list(local.stream(JOKE, SHORT))
    assert len(pieces) >= 2, "the streamer should yield several pieces, not one block"
    streamed = "".join(pieces)
    assert streamed.strip()
    assert local.generate(JOKE, SHORT) == streamed  # greedy: same text every time
    # non-streaming: plain model.generate on the same rendered prompt and settings
    lm = local.lm()
    enc = lm.tokenizer(local.render_prompt(JOKE), return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = lm.model.generate(**enc, max_new_tokens=8, do_sample=False,
                                pad_token_id=lm.tokenizer.eos_token_id)
    raw = lm.tokenizer.decode(out[0][enc["input_ids"].shape[1]:], skip_special_tokens=True)
    assert streamed == raw


def test_seeded_sampling_is_reproducible(local: LocalBackend) -> None:
    p = SamplingParams(max_new_tokens=6, temperature=1.0, seed=7)
    assert local.generate(JOKE, p) == local.generate(JOKE, p)


def test_stop_event_ends_the_stream_early(local: LocalBackend) -> None:
    stop = threading.Event()
    pieces = []
    for piece in local.stream(JOKE, SamplingParams(max_new_tokens=64, greedy=True), stop=stop):
        pieces.append(piece)
        stop.set()
    assert 1 <= len(pieces) <= 3


def test_a_finished_stream_leaves_a_shared_stop_alone(local: LocalBackend) -> None:
    # the tuned arena contestant streams with the caller's stop event, which an arena battle shares
    # between its two sides: the side that ends first must not stop the other
    from core.generation.transformers_engine import stream_generate

    lm, prompt, shared = local.lm(), local.render_prompt(JOKE), threading.Event()
    assert "".join(stream_generate(lm.model, lm.tokenizer, prompt, SHORT, stop=shared)).strip()
    assert not shared.is_set()
    stream = stream_generate(lm.model, lm.tokenizer, prompt, SamplingParams(max_new_tokens=64, greedy=True),
                             stop=shared)
    next(stream)
    stream.close()  # a consumer that leaves early ends its own generation only
    assert not shared.is_set()


def test_rendered_prompt_has_the_chat_template(local: LocalBackend) -> None:
    prompt = local.render_prompt(JOKE)
    assert "<|im_start|>user\nCreate a funny joke about chickens.<|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    assert local.count_tokens(prompt) > 10


def test_bad_input_is_refused_clearly(local: LocalBackend) -> None:
    with pytest.raises(LabError, match="empty"):
        list(local.stream([{"role": "user", "content": "   "}], SHORT))
    with pytest.raises(LabError, match="temperature"):
        list(local.stream(JOKE, SamplingParams(temperature=0.0)))
    with pytest.raises(LabError, match="top_p"):
        SamplingParams(top_p=1.5).validate()
    with pytest.raises(LabError, match="max_new_tokens"):
        SamplingParams(max_new_tokens=0).validate()
    with override_settings(limits=Limits(prompt_tokens=20)):
        with pytest.raises(LabError, match=r"has \d+ tokens; the lab's limit is 20"):
            list(local.stream(JOKE, SHORT))
    window = local.lm().context_window
    long_prompt = [{"role": "user", "content": "chicken " * (window + 10)}]
    with override_settings(limits=Limits(prompt_tokens=10 * window)):
        with pytest.raises(LabError, match="context window"):
            list(local.stream(long_prompt, SHORT))


# --------------------------------------------------------------------------------------------
# OpenAI-compatible
# --------------------------------------------------------------------------------------------

def test_openai_streams_token_by_token_and_sends_the_settings() -> None:
    with FakeOpenAI(reply="Why did the chicken cross the road?") as server:
        backend = OpenAIBackend(server.base_url, "fake-model", api_key="sk-test-secret-123")
        pieces = list(backend.stream(JOKE, SamplingParams(max_new_tokens=20, temperature=0.5, top_p=0.9, seed=3)))
        assert len(pieces) == 7 and "".join(pieces) == "Why did the chicken cross the road?"
        req = server.requests[-1]
        assert req["stream"] is True and req["max_tokens"] == 20 and req["temperature"] == 0.5
        assert req["top_p"] == 0.9 and req["seed"] == 3 and req["messages"][-1]["content"] == JOKE[0]["content"]
        headers = {k.lower(): v for k, v in server.headers[-1].items()}
        assert headers.get("authorization") == "Bearer sk-test-secret-123"
        assert backend.generate(JOKE, GREEDY) == "Why did the chicken cross the road?"
        assert server.requests[-1]["temperature"] == 0.0
        fmt = {"type": "json_object"}
        backend.generate(JOKE, SHORT, response_format=fmt)
        assert server.requests[-1]["response_format"] == fmt
        assert "secret" not in repr(backend)


def test_openai_stop_closes_the_stream() -> None:
    with FakeOpenAI(reply=" ".join(["word"] * 50)) as server:
        stop = threading.Event()
        got = []
        for piece in OpenAIBackend(server.base_url, "fake-model").stream(JOKE, SHORT, stop=stop):
            got.append(piece)
            stop.set()
        assert len(got) == 1


@pytest.mark.parametrize("mode, pattern", [
    ("401", "rejected the API key"),
    ("429", "rate-limiting"),
    ("500", "internal error"),
    ("drop", "connection|could not read|reach"),
    ("garbage", "could not read|reach"),
])
def test_openai_errors_are_one_clear_key_free_line(mode: str, pattern: str) -> None:
    key = "sk-very-secret-key-42"
    with FakeOpenAI(mode=mode) as server:
        backend = OpenAIBackend(server.base_url, "fake-model", api_key=key)
        with pytest.raises(BackendError, match=pattern) as info:
            list(backend.stream(JOKE, SHORT))
    assert key not in str(info.value)


def test_openai_timeout_and_unreachable() -> None:
    with FakeOpenAI(mode="hang") as server:
        start = time.perf_counter()
        with pytest.raises(BackendError, match="did not answer in time"):
            list(OpenAIBackend(server.base_url, "fake-model", timeout_s=1.0).stream(JOKE, SHORT))
        assert time.perf_counter() - start < 10
    from tests.conftest import free_port

    with pytest.raises(BackendError, match="Could not reach"):
        list(OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", "m", timeout_s=2).stream(JOKE, SHORT))
    with pytest.raises(LabError, match="base URL"):
        list(OpenAIBackend("", "m").stream(JOKE, SHORT))


def test_redact() -> None:
    assert redact("key sk-abcdef in text", "sk-abcdef") == "key ••• in text"
    assert get_settings().limits.max_new_tokens >= 1
