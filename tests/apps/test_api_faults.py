"""A faulty OpenAI-compatible endpoint must leave every app that can use one usable.

One loopback :class:`~tests.fake_openai.FakeOpenAI` per module, switched between fault modes: it
hangs before answering, stalls mid-stream, keeps the stream alive with SSE comments but no text,
drops the connection mid-stream, resets it before answering, streams malformed JSON, or answers
500. Through gradio_client, each app's endpoint must end with a clear, key-free message within a
bounded time (the request timeout is 1 s here), and the very next request through the same client,
with the server healthy again, must succeed.

Covered: Prompt Lab (generate, sweep, chain), RAG Chat (ask), Classifier Zoo (classify, evaluate:
the API method's card/summary shows the error, the other methods are unaffected) and the Eval Arena
(a battle with one failing contestant, the judge). Prompt Lab's 401/500/garbage messages and key
redaction are also in test_prompts.py / test_secrets.py; core-level faults in test_generation.py.
The Topic Explorer's LLM labelling is not here: it needs a fitted topic model (~1 min on 2 cores).
"""
from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from gradio_client.exceptions import AppError

from core.settings import get_settings, override_settings
from tests.conftest import serve_blocks
from tests.fake_openai import FakeOpenAI

KEY = "sk-fault-test-5e1f9a"
REPLY = "positive, I would say it is positive overall."  # several words: "drop" cuts it mid-stream
TIMEOUT_S = 1.0  # Limits.request_timeout_s during these tests
BOUND_S = 15.0  # a faulty request must end (with its message) within this many seconds
#: fault mode → what the message must say (one clear sentence from core.generation.describe_api_error)
FAULTS = {
    "hang": "did not answer in time",
    "stall": "did not answer in time",
    "trickle": "did not answer in time",  # was: held for as long as the server kept the stream open
    "drop": "closed the stream before the answer was finished",
    "reset": "Could not reach the server",
    "garbage": "could not read",
    "500": "internal error",
}
GENERIC = ("Something went wrong", "upstream Gradio app", "Traceback")


@pytest.fixture(scope="module", autouse=True)
def short_timeout() -> Iterator[None]:
    with override_settings(limits=dataclasses.replace(get_settings().limits, request_timeout_s=TIMEOUT_S)):
        yield


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    def reply(request: dict[str, Any]) -> str:
        prompt = str(request.get("messages"))
        return "Both are fine, but [[A]]" if "[[A]]" in prompt else REPLY  # the arena's judge prompt

    with FakeOpenAI(reply=reply) as fake:
        yield fake


@pytest.fixture(autouse=True)
def healthy_after(server: FakeOpenAI) -> Iterator[None]:
    yield
    server.mode = "ok"


def fails_clearly(client: Any, *args: Any, api_name: str, expect: str) -> str:
    """The request ends in an AppError saying ``expect``, without the key, within the bound."""
    started = time.perf_counter()
    with pytest.raises(AppError) as info:
        client.submit(*args, api_name=api_name).result(timeout=BOUND_S + 30)
    elapsed = time.perf_counter() - started
    message = str(info.value)
    assert re.search(expect, message, re.I), message
    assert KEY not in message and not any(g in message for g in GENERIC), message
    assert elapsed < BOUND_S, f"{api_name}: the error took {elapsed:.1f} s"
    return message


def timed(client: Any, *args: Any, api_name: str) -> tuple[Any, float]:
    started = time.perf_counter()
    result = client.submit(*args, api_name=api_name).result(timeout=BOUND_S + 30)
    return result, time.perf_counter() - started


def _text(content: Any) -> str:
    return content[0]["text"] if isinstance(content, list) else str(content)


# --------------------------------------------------------------------------------------------
# Prompt Lab
# --------------------------------------------------------------------------------------------

SAMPLING = [0.7, 1.0, 50, 16, 1.0, 0, True]  # temperature, top_p, top_k, max_new, repetition, seed, greedy


@pytest.fixture(scope="module")
def prompts() -> Iterator[Any]:
    from apps.prompts import app as prompt_lab

    yield from serve_blocks(prompt_lab.build(), prompt_lab.CSS)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_prompt_lab_generate(prompts: Any, server: FakeOpenAI, fault: str) -> None:
    remote = ["OpenAI-compatible server", "chat-smollm2-135m", server.base_url, "fake-model", KEY]
    server.mode = fault
    fails_clearly(prompts, *remote, "", "Is this review positive?", False, [], *SAMPLING,
                  api_name="/prompts_generate", expect=FAULTS[fault])
    server.mode = "ok"
    (chat, text, stats, _view, _tokens, _status), _ = timed(prompts, *remote, "", "Is this review positive?", False, [],
                                                   *SAMPLING, api_name="/prompts_generate")
    assert text == REPLY and "✓ done" in stats


@pytest.mark.parametrize("fault", ["trickle"])
def test_prompt_lab_multi_request_endpoints(prompts: Any, server: FakeOpenAI, fault: str) -> None:
    """A sweep (one request per cell) and a chain (one per step) stop at the first failure."""
    remote = ["OpenAI-compatible server", "chat-smollm2-135m", server.base_url, "fake-model", KEY]
    sweep = [*remote, "", "Tell a joke.", "0.3, 1.2", "1.0", 1, 16, 50, 1.0, 0]
    chain = [*remote, "", "Name a bot.\n---\nPitch: {previous}", "", *SAMPLING]
    server.mode = fault
    fails_clearly(prompts, *sweep, api_name="/prompts_sweep", expect=FAULTS[fault])
    fails_clearly(prompts, *chain, api_name="/prompts_chain", expect=FAULTS[fault])
    server.mode = "ok"
    (grid, _status), _ = timed(prompts, *sweep, api_name="/prompts_sweep")
    assert "✓ done" in grid and grid.count("prompts-cell") == 2
    (steps, _status), _ = timed(prompts, *chain, api_name="/prompts_chain")
    assert "Step 2 prompt" in steps and "Pitch: positive" in steps


# --------------------------------------------------------------------------------------------
# RAG Chat (no retrieval: the question goes straight to the server; no embedder needed)
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rag() -> Iterator[Any]:
    from apps.rag import app as rag_chat

    yield from serve_blocks(rag_chat.build(), rag_chat.CSS)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_rag_chat_ask(rag: Any, server: FakeOpenAI, fault: str) -> None:
    remote = ["OpenAI-compatible server", "chat-smollm2-135m", server.base_url, KEY, "fake-model", 32]
    server.mode = fault
    fails_clearly(rag, "Is the sky blue?", [], "none", False, 3, 0.3, *remote, api_name="/rag_ask",
                  expect=FAULTS[fault])
    server.mode = "ok"
    (history, sources, prompt, _q, _status), _ = timed(rag, "Is the sky blue?", [], "none", False, 3, 0.3, *remote,
                                              api_name="/rag_ask")
    assert REPLY.split(",")[0] in _text(history[-1]["content"]) and "Is the sky blue?" in prompt
    assert "No retrieval" in sources


# --------------------------------------------------------------------------------------------
# Classifier Zoo (the API method's card shows the error; the other methods still run)
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def classifiers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from apps.classifiers import app as classifier_zoo

    cache = tmp_path_factory.mktemp("llm-lab-cache")  # fitted methods are cached: keep them out of ~/.cache
    (cache / "assets").symlink_to(get_settings().assets_dir)
    with override_settings(cache_dir=cache):
        yield from serve_blocks(classifier_zoo.build(), classifier_zoo.CSS)


def _zoo(server: FakeOpenAI, methods: list[str]) -> list[Any]:
    from core.classifiers.data import BUILTIN

    # source, upload, text_col, label_col, test, train, methods, descriptions, words, prompt, calibrate,
    # base_url, model, key, k, pick, steps
    return [BUILTIN, None, "", "", 20, 40, methods, "", "", "", False, server.base_url, "fake-model", KEY, 8, "", 0]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_classifier_zoo_classify(classifiers: Any, server: FakeOpenAI, fault: str) -> None:
    server.mode = fault
    cards, elapsed = timed(classifiers, "A moving, beautifully acted film.", *_zoo(server, ["openai", "tfidf"]),
                           api_name="/classifiers_classify")
    cards = cards[0]  # (cards, job status line)
    api_card = cards.split("<h4>")[1]
    assert "⚠" in api_card and re.search(FAULTS[fault], api_card, re.I), api_card
    assert "⚠" not in cards.split("<h4>")[2]  # TF-IDF, trained locally, is unaffected
    assert KEY not in cards and elapsed < BOUND_S
    server.mode = "ok"
    (cards, _status), _ = timed(classifiers, "A moving, beautifully acted film.", *_zoo(server, ["openai"]),
                               api_name="/classifiers_classify")
    assert "⚠" not in cards and re.search(r'class="label"[^>]*>fresh<', cards), cards  # "positive" → fresh


@pytest.mark.parametrize("fault", ["hang"])
def test_classifier_zoo_evaluate(classifiers: Any, server: FakeOpenAI, fault: str) -> None:
    """Evaluation sends one request first, so a broken server fails fast instead of 20 times."""
    server.mode = fault
    before = len(server.requests)
    out, elapsed = timed(classifiers, *_zoo(server, ["openai"]), api_name="/classifiers_evaluate")
    assert "0/1 methods ran" in out[0] and re.search(FAULTS[fault], out[0], re.I), out[0]
    assert len(server.requests) - before == 1 and elapsed < BOUND_S
    server.mode = "ok"
    out, _ = timed(classifiers, *_zoo(server, ["openai"]), api_name="/classifiers_evaluate")
    assert "1/1 methods ran" in out[0] and len(out[1]["data"]) == 1


# --------------------------------------------------------------------------------------------
# Eval Arena (one contestant behind the faulty server, one healthy; the judge behind the faulty one)
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def arena(server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from apps.arena import app as eval_arena
    from core.arena.battles import Arena
    from core.arena.contestants import parse_config
    from core.arena.store import ArenaStore
    from core.storage import Database

    with FakeOpenAI(reply="A steady answer from the healthy server.") as steady:
        cfg = {"contestants": [
            {"id": "flaky", "label": "Flaky bot", "backend": "openai", "base_url": server.base_url, "model": "f",
             "api_key": KEY, "offline": True},
            {"id": "steady", "label": "Steady bot", "backend": "openai", "base_url": steady.base_url, "model": "s",
             "offline": True},
            {"id": "judge", "label": "Judge bot", "backend": "openai", "base_url": server.base_url, "model": "j",
             "api_key": KEY, "offline": True, "battles": False}]}
        store = ArenaStore(Database(Path(tmp_path_factory.mktemp("arena")) / "arena.sqlite3"))
        game = Arena(parse_config(cfg, offline=True), store=store, max_new_tokens=32, seed=3,
                     battles_per_minute=1000, votes_per_minute=1000)
        yield from serve_blocks(eval_arena.build(game), eval_arena.CSS)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_eval_arena_battle(arena: Any, server: FakeOpenAI, fault: str) -> None:
    server.mode = fault
    out, elapsed = timed(arena, "Which is larger, 9.11 or 9.9?", "faults", api_name="/arena_battle")
    token, left, right, status = out[:4]
    failed = [side for side in (left, right) if "This contestant failed" in side]
    assert len(failed) == 1 and re.search(FAULTS[fault], failed[0], re.I), (left, right)
    assert "A contestant failed" in status and KEY not in left + right and elapsed < BOUND_S
    with pytest.raises(AppError, match="Both answers must finish"):
        arena.predict(token, "model_a", api_name="/arena_vote")
    server.mode = "ok"
    out, _ = timed(arena, "Which is larger, 9.11 or 9.9?", "faults", api_name="/arena_battle")
    token, left, right, status = out[:4]
    assert "vote" in status.lower() and "failed" not in left + right
    assert "Vote recorded" in arena.predict(token, "model_a", api_name="/arena_vote")


@pytest.mark.parametrize("fault", ["stall"])
def test_eval_arena_judge(arena: Any, server: FakeOpenAI, fault: str) -> None:
    out, _ = timed(arena, "Name a prime number.", "judged", api_name="/arena_battle")
    arena.predict(out[0], "model_b", api_name="/arena_vote")  # the judge rates voted battles
    server.mode = fault
    fails_clearly(arena, "judge", "judged", 1, api_name="/arena_judge", expect=FAULTS[fault])
    server.mode = "ok"
    (html, table, _status), _ = timed(arena, "judge", "judged", 1, api_name="/arena_judge")  # + the job status
    assert "battles judged" in html and len(table["data"]) >= 1
