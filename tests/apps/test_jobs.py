"""The shared job runner (apps.common.jobs) through gradio_client: one status line while waiting,
progress while running, Stop within ~1 s, a client cancel frees the slot, errors stay inline."""
from __future__ import annotations

import threading
import time
from typing import Any

import gradio as gr
import pytest
from gradio_client.exceptions import AppError

from apps.common.jobs import job_on, waiting_text
from core import jobs
from core.errors import LabError
from core.jobs import ModelPool, Job, Stopped, check_stop, report

STARTED: list[str] = []


def slow(label: str, seconds: float) -> str:
    """Work in 50 ms batches, checking for stop between them."""
    STARTED.append(label)
    steps = int(seconds / 0.05)
    for i in range(steps):
        check_stop()
        report((i + 1) / steps, f"step {i + 1} / {steps}")
        time.sleep(0.05)
    return f"{label} done"


def streamed(n: int) -> Any:
    text = ""
    for i in range(int(n)):
        check_stop()
        text += f"{i} "
        time.sleep(0.05)
        yield text


def with_view(n: int) -> Any:
    """A streamed answer beside a view that is sent once and then skipped (as Prompt Lab's prompt view)."""
    yield "", "the view"
    text = ""
    for i in range(int(n)):
        text += f"{i} "
        yield text, gr.skip()


def failing(x: str) -> str:
    raise LabError(f"bad input <{x}>")


@pytest.fixture(scope="module")
def client() -> Any:
    from tests.conftest import serve_blocks

    jobs._POOL = ModelPool(1)  # one slot: the second job must wait
    with gr.Blocks() as demo:
        label = gr.Textbox()
        secs = gr.Number()
        out = gr.Textbox()
        status = gr.HTML()
        go = gr.Button("go")
        stop = gr.Button("stop")
        job_on(go.click, slow, [label, secs], out, slug="test", kind="slow", status=status, stop=stop,
               api_name="test_slow", expect_s=2)
        n = gr.Number()
        sgo = gr.Button("stream")
        job_on(sgo.click, streamed, n, out, slug="test", kind="stream", status=status, api_name="test_stream")
        view = gr.Textbox()
        vgo = gr.Button("view")
        job_on(vgo.click, with_view, n, [out, view], slug="test", kind="view", status=status, api_name="test_view")
        bad = gr.Button("bad")
        job_on(bad.click, failing, label, out, slug="test", kind="bad", status=status, api_name="test_bad")
    yield from serve_blocks(demo)
    jobs._POOL = None


def test_result_and_done_status(client: Any) -> None:
    out, status = client.predict("a", 0.2, api_name="/test_slow")
    assert out == "a done"
    assert "Done in" in status


def test_streaming_yields_growing_text(client: Any) -> None:
    job = client.submit(8, api_name="/test_stream")
    outs = [o for o in job]
    assert outs[-1][0].strip() == "0 1 2 3 4 5 6 7"
    assert len({o[0] for o in outs if isinstance(o[0], str) and o[0]}) >= 2  # streamed, not one final value


def test_skipped_outputs_keep_their_value_and_the_final_result_has_all(client: Any) -> None:
    from apps.common.jobs import _merge

    assert _merge(("a", "v"), ("ab", gr.skip()), 2) == ("ab", "v")  # coalesced updates keep what a skip left out
    assert _merge("v", gr.skip(), 1) == "v"
    outs = list(client.submit(30, api_name="/test_view"))
    assert client.predict(30, api_name="/test_view")[:2] == (" ".join(str(i) for i in range(30)) + " ", "the view")
    assert outs and all(o[1] in ("the view", None, "") for o in outs)  # never a skip marker as a value


def test_second_job_waits_with_one_message_then_runs(client: Any) -> None:
    from gradio_client import Client

    other = Client(client.src, verbose=False, download_files=False)  # another participant
    first = client.submit("first", 2.0, api_name="/test_slow")
    time.sleep(0.6)
    second = other.submit("second", 0.1, api_name="/test_slow")
    seen: list[str] = []
    for out in second:
        seen.append(out[1])
    assert any("Waiting for" in s and "about" in s for s in seen), seen
    assert first.result()[0] == "first done"
    assert second.result()[0] == "second done"


def test_cancel_frees_the_slot_within_two_seconds(client: Any) -> None:
    STARTED.clear()
    from gradio_client import Client

    other = Client(client.src, verbose=False, download_files=False)  # another participant
    first = client.submit("long", 30.0, api_name="/test_slow")
    time.sleep(0.8)
    second = other.submit("next", 0.1, api_name="/test_slow")
    time.sleep(0.5)
    t0 = time.monotonic()
    first.cancel()
    while "next" not in STARTED and time.monotonic() - t0 < 5:
        time.sleep(0.05)
    assert "next" in STARTED and time.monotonic() - t0 < 2.0
    assert second.result()[0] == "next done"
    assert jobs.pool().snapshot()["running"] == []


def test_error_is_inline_and_raised(client: Any) -> None:
    with pytest.raises(AppError) as err:
        client.predict("<b>x</b>", api_name="/test_bad")
    assert "bad input" in str(err.value)


def test_stop_event_stops_a_running_job() -> None:
    job = Job("t", "k")
    result: list[Any] = []

    def run() -> None:
        with jobs.running(job):
            try:
                slow("x", 10)
            except Stopped as exc:
                result.append(exc)

    t = threading.Thread(target=run)
    t.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    jobs.STOPS.add(job)
    job.session = None
    job.stop("stopped by you")
    t.join(2)
    assert result and time.monotonic() - t0 < 1.0


def test_wait_estimate_uses_measured_durations() -> None:
    pool = ModelPool(1)
    a, b, c = Job("t", "k", expect_s=4), Job("t", "k", expect_s=4), Job("t", "k", expect_s=4)
    for j in (a, b, c):
        pool.join(j)
    assert pool.try_start(a) is None
    wait_b, wait_c = pool.try_start(b), pool.try_start(c)
    assert (wait_b.ahead, wait_c.ahead) == (0, 1)
    assert 3 <= wait_b.eta_s <= 4.1 and 7 <= wait_c.eta_s <= 8.1
    assert "1 job of other participants is ahead" in waiting_text(1, 1, 7.5)


def test_a_freed_slot_wakes_the_waiting_jobs_at_once() -> None:
    pool, calls = ModelPool(1), []
    a, b = Job("t", "k"), Job("t", "k")
    wake = lambda: calls.append("woken")  # noqa: E731
    pool.watch(wake)
    pool.join(a), pool.join(b)
    assert pool.try_start(a) is None and pool.try_start(b) is not None
    pool.leave(a, completed=True)
    assert calls == ["woken"] and pool.try_start(b) is None  # b starts without waiting for a poll
    pool.leave(a, completed=True)  # leaving twice is harmless (job_on leaves before its last outputs)
    assert pool.snapshot()["running"] == ["t:k"]
    pool.unwatch(wake)
    pool.leave(b, completed=True)
    assert calls == ["woken"] * 2


def test_models_warm_up_in_the_background() -> None:
    from apps import launch
    from core.settings import override_settings

    with override_settings(models_warmup=True):
        thread = launch.warm_models_in_background(delay_s=0)
    assert thread is not None
    thread.join(120)
    assert launch.WARMUP["state"] == "done" and set(launch.WARMUP["seconds"]) == {"chat", "embeddings"}
    from core.loader import cache

    assert any("minilm" in name for name, _ in cache().loaded())
