"""Heavy events are limited per browser session (Limits.jobs_per_session), through a real server."""
from __future__ import annotations

import threading
import time
from typing import Any

import gradio as gr
import pytest
from gradio_client import Client

from apps.common import HEAVY, configure_queue, limit_jobs_per_session
from core.settings import get_settings, override_settings


def _blocks(started: threading.Event, release: threading.Event) -> gr.Blocks:
    def slow(text: str, progress: Any = gr.Progress()) -> str:
        started.set()
        progress(0.5, desc="thinking")
        release.wait(timeout=20)
        return text.upper()

    def stream(text: str) -> Any:
        for i in range(1, len(text) + 1):
            yield text[:i]

    def light(text: str) -> str:
        return text[::-1]

    with gr.Blocks() as demo:
        box, out = gr.Textbox(), gr.Textbox()
        gr.Button("slow").click(slow, box, out, api_name="slow", concurrency_id=HEAVY, concurrency_limit=4)
        gr.Button("stream").click(stream, box, out, api_name="stream", concurrency_id=HEAVY, concurrency_limit=4)
        gr.Button("light").click(light, box, out, api_name="light")
    return demo


@pytest.fixture
def server(launch: Any) -> Any:
    started, release = threading.Event(), threading.Event()
    limits = get_settings().limits
    import dataclasses

    with override_settings(limits=dataclasses.replace(limits, jobs_per_session=1)):
        _, url = launch(_blocks(started, release))
        yield url, started, release
        release.set()


def test_second_heavy_job_of_one_session_is_refused_while_others_run(server: Any) -> None:
    url, started, release = server
    me, neighbour = Client(url, verbose=False), Client(url, verbose=False)
    first = me.submit("hello", api_name="/slow")
    assert started.wait(timeout=20)

    with pytest.raises(Exception, match="already have 1 model job running in this session"):
        me.predict("again", api_name="/stream")
    assert me.predict("light", api_name="/light") == "thgil"  # light events are not counted

    other = neighbour.submit("neighbour", api_name="/slow")  # another session gets a heavy slot
    time.sleep(0.5)
    release.set()
    assert first.result(timeout=20) == "HELLO"
    assert other.result(timeout=20) == "NEIGHBOUR"
    # the slot was given back: the same session can run (and stream) again
    assert me.predict("abc", api_name="/stream") == "abc"


def test_wrapping_is_idempotent_and_keeps_the_signature() -> None:
    import inspect

    def gen(text: str, progress: gr.Progress = gr.Progress()) -> Any:
        yield text

    once = limit_jobs_per_session(gen)
    assert limit_jobs_per_session(once) is once
    assert inspect.isgeneratorfunction(once)
    assert list(inspect.signature(once).parameters) == ["text", "progress"]
    with gr.Blocks() as demo:
        gr.Button().click(gen, gr.Textbox(), gr.Textbox(), concurrency_id=HEAVY)
    configure_queue(demo)
    configure_queue(demo)
    fn = next(iter(demo.fns.values())).fn
    assert fn.__wrapped__ is gen  # wrapped exactly once
