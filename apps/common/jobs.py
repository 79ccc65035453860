"""The one way an app runs long work: ``job_on(...)``.

A job waits for a slot in the shared :class:`core.jobs.ModelPool` (telling the user, in one line,
how many jobs are ahead and for about how long), runs in its own thread with a
:class:`core.jobs.Job` as context (so core code can ``check_stop()`` and ``report()``), streams its
results when ``fn`` is a generator, and stops within a second or two on Stop, on a client cancel,
or when the browser goes away. The waiting and polling happen in an async generator, so a room of
waiting participants holds no worker threads.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import html
import inspect
import logging
import queue
import threading
import time
from typing import Any, Callable, Sequence

import gradio as gr

from apps.common.errors import _convert
from apps.common.queue import session_hash
from core import heap, priority
from core.errors import LabError
from core.jobs import SESSION_JOBS, STOPS, Job, Stopped, pool, running
from core.settings import get_settings

log = logging.getLogger(__name__)

POLL_S = 0.5  # the status line (elapsed time, progress) refreshes at least this often
WAIT_POLL_S = 0.25  # a waiting job is woken when a slot frees; this bounds how late it sees a Stop
MIN_GAP_S = 0.1  # streamed outputs: at most ~10 updates a second (pieces in between are coalesced)


class _Outbox(queue.Queue):
    """The worker's results; each put wakes the event loop at once (no polling delay on streams)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.ready = asyncio.Event()
        self.ended = asyncio.Event()  # the job's last item is in: a pause between updates ends at once

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:  # noqa: D102
        super().put(item, block, timeout)
        self.loop.call_soon_threadsafe(self.ready.set)
        if item[0] == "end":
            self.loop.call_soon_threadsafe(self.ended.set)

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds`` between two streamed updates, or less if the job ends meanwhile."""
        with contextlib.suppress(asyncio.TimeoutError, TimeoutError):
            await asyncio.wait_for(self.ended.wait(), seconds)

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.ready.wait(), timeout)
        except (asyncio.TimeoutError, TimeoutError):
            pass
        self.ready.clear()
_DONE = object()


def status_html(kind: str, text: str = "", fraction: float | None = None) -> str:
    """The job's one status line: waiting / running (with a bar when the fraction is known) / done /
    stopped / error."""
    bar = ""
    if fraction is not None and kind == "running":
        bar = f'<div class="lab-job-bar"><div style="width:{fraction * 100:.0f}%"></div></div>'
    role = ' role="alert"' if kind == "error" else ""
    return (f'<div class="lab-job lab-job-{kind}"{role} aria-live="polite">'
            f"<span>{html.escape(text)}</span>{bar}</div>") if text else ""


def waiting_text(ahead: int, running_jobs: int, eta_s: float) -> str:
    if ahead == 0:
        who = f"{running_jobs} job{'s' if running_jobs != 1 else ''} of other participants"
        lead = f"Waiting for a free model slot: {who} running"
    else:
        lead = (f"Waiting for the model: {ahead} job{'s' if ahead != 1 else ''} of other participants "
                f"{'are' if ahead != 1 else 'is'} ahead of yours")
    return f"{lead} (about {_seconds(eta_s)})."


def _seconds(s: float) -> str:
    return f"{max(1, round(s))} s" if s < 90 else f"{s / 60:.0f} min"


def _is_skip(value: Any) -> bool:
    return isinstance(value, dict) and value == {"__type__": "update"}  # gr.skip(): leave this output as it is


def _merge(older: Any, newer: Any, n_outputs: int) -> Any:
    """Two results of one job as one: ``newer``'s values, except where it skips an output (``gr.skip()``,
    e.g. a prompt view that does not change while the answer streams) and ``older`` set it."""
    if n_outputs == 1:
        return older if _is_skip(newer) else newer
    if not isinstance(older, tuple) or not isinstance(newer, tuple):
        return newer
    return tuple(o if _is_skip(n) else n for o, n in zip(older, newer))


def _running_text(job: Job) -> str:
    parts = [f"Running · {job.elapsed():.0f} s"]
    if job.text:
        parts.append(job.text)
    if job.fraction is not None:
        parts.append(f"{job.fraction * 100:.0f} %")
    return " · ".join(parts)


def _worker(job: Job, fn: Callable[..., Any], args: tuple, kwargs: dict, out: queue.Queue,
            ctx: contextvars.Context) -> None:
    def run() -> None:
        priority.as_model_work()  # light requests first on busy cores
        with running(job):
            try:
                result = fn(*args, **kwargs)
                if inspect.isgenerator(result):
                    try:
                        for item in result:
                            out.put(("item", item))
                            if job.stopped:
                                break
                    finally:
                        result.close()
                else:
                    out.put(("item", result))
            except Stopped:
                out.put(("stopped", None))
            except BaseException as exc:  # noqa: BLE001 - reported to the user by the runner
                out.put(("error", exc))
            finally:
                out.put(("end", None))

    ctx.run(run)


def run_job(fn: Callable[..., Any], n_outputs: int, slug: str, kind: str, expect_s: float = 10.0,
            show_done: bool = True) -> Callable[..., Any]:
    """Wrap ``fn`` (returning or yielding values for ``n_outputs`` outputs) into an async generator
    event handler that yields those outputs plus one status line."""
    nothing: Any = gr.skip() if n_outputs == 1 else tuple(gr.skip() for _ in range(n_outputs))

    def _out(values: Any, status: Any) -> tuple:
        if n_outputs == 0:
            return (status,)
        if n_outputs == 1:
            return (values, status)
        return (*values, status)

    @functools.wraps(fn)
    async def handler(*args: Any, **kwargs: Any) -> Any:
        session = session_hash()
        limit = get_settings().limits.jobs_per_session
        try:
            SESSION_JOBS.acquire(session, limit)
        except LabError as exc:
            yield _out(nothing, status_html("error", str(exc)))
            raise gr.Error(str(exc), title="Please wait", print_exception=False) from None
        job = Job(slug=slug, kind=kind, session=session, expect_s=expect_s)
        models = pool()
        STOPS.add(job)
        models.join(job)
        started = False
        completed = False
        shown, shown_at = "", 0.0
        last: Any = None  # every output's latest value (the final yield sends them all)
        pending: Any = None  # what changed since the last yield (streamed outputs are coalesced)
        loop = asyncio.get_running_loop()
        freed = asyncio.Event()

        def wake() -> None:  # called by the pool, from any thread, when a slot or a place frees up
            with contextlib.suppress(RuntimeError):  # the event loop has already closed
                loop.call_soon_threadsafe(freed.set)

        models.watch(wake)
        try:
            while True:  # wait for a slot, saying where we stand
                freed.clear()
                try:
                    wait = models.try_start(job)
                except Stopped:
                    yield _out(nothing, status_html("stopped", "Stopped before it started."))
                    return
                if wait is None:
                    break
                text = waiting_text(wait.ahead, wait.running, wait.eta_s)
                if text != shown or time.monotonic() - shown_at > 1.0:
                    yield _out(nothing, status_html("waiting", text))
                    shown, shown_at = text, time.monotonic()
                with contextlib.suppress(asyncio.TimeoutError, TimeoutError):  # a Stop is seen within WAIT_POLL_S
                    await asyncio.wait_for(freed.wait(), WAIT_POLL_S)
            models.unwatch(wake)
            started = True
            out = _Outbox(asyncio.get_running_loop())
            ctx = contextvars.copy_context()
            threading.Thread(target=_worker, args=(job, fn, args, kwargs, out, ctx), daemon=True,
                             name=f"job-{slug}-{kind}").start()
            error: BaseException | None = None
            stopped = False
            while True:
                items, ended = [], False
                try:
                    while True:
                        items.append(out.get_nowait())
                except queue.Empty:
                    pass
                for tag, value in items:
                    if tag == "item":
                        pending = value if pending is None else _merge(pending, value, n_outputs)
                        last = value if last is None else _merge(last, value, n_outputs)
                    elif tag == "stopped":
                        stopped = True
                    elif tag == "error":
                        error = value
                    elif tag == "end":
                        ended = True
                if ended:
                    break
                status = status_html("running", _running_text(job), job.fraction)
                if job.stopped:
                    status = status_html("running", "Stopping…")
                fresh, pending = pending, None
                yield _out(fresh if fresh is not None else nothing, status)
                if fresh is not None:
                    await out.pause(MIN_GAP_S)
                await out.wait(POLL_S)
            completed = error is None and not stopped and not job.stopped
            took = job.elapsed()
            models.leave(job, completed)  # the next job starts while this one's last outputs are sent
            final = last if last is not None else nothing
            if error is not None:
                converted = _convert(fn, error)
                text = str(error) if isinstance(error, LabError) else converted.message
                yield _out(final, status_html("error", text))
                raise converted
            if stopped or job.stopped:
                reason = job.stop_reason or "stopped"
                yield _out(final, status_html("stopped", f"Stopped after {took:.1f} s ({reason})."))
                return
            yield _out(final, status_html("done", f"Done in {took:.1f} s.") if show_done else "")
        finally:
            # a client cancel or a closed stream lands here (CancelledError / GeneratorExit)
            if not completed:
                job.stop("cancelled" if started else "left the queue")
            models.unwatch(wake)
            models.leave(job, completed)  # idempotent: a job that ended normally has already left
            STOPS.discard(job)
            SESSION_JOBS.release(session, limit)
            heap.trim_soon()  # what the job freed goes back to the OS, not to an idle arena

    return handler


def stop_jobs(slug: str) -> Callable[..., str]:
    """The Stop button's handler: stop this session's jobs of one app (the event is also cancelled)."""
    def stop(request: gr.Request) -> str:
        n = STOPS.stop(getattr(request, "session_hash", None), slug, reason="stopped by you")
        return status_html("stopped", "Stopped." if n else "Nothing was running.")
    return stop


def stop_session(request: gr.Request) -> None:
    """``Blocks.unload`` handler: a closed tab stops every job of its session."""
    STOPS.stop(getattr(request, "session_hash", None), None, reason="browser left")


def job_on(triggers: Sequence[Any] | Any, fn: Callable[..., Any], inputs: Any, outputs: Sequence[Any] | Any,
           *, slug: str, kind: str, status: gr.HTML, stop: gr.Button | None = None, expect_s: float = 10.0,
           api_name: str | None = None, show_done: bool = True, **event_kwargs: Any) -> Any:
    """Wire a long job: ``gr.on(triggers, ...)`` in the shared model pool with one status line and a
    Stop button. Returns the event (chain ``.then`` on it as usual)."""
    outs = list(outputs) if isinstance(outputs, (list, tuple)) else ([outputs] if outputs is not None else [])
    handler = run_job(fn, len(outs), slug, kind, expect_s, show_done)
    triggers = list(triggers) if isinstance(triggers, (list, tuple)) else [triggers]
    event = gr.on(triggers, handler, inputs, [*outs, status], api_name=api_name,
                  concurrency_limit=None, show_progress="hidden", **event_kwargs)
    if stop is not None:  # cancels= also lets API clients stop the job (gradio_client's Job.cancel)
        stop.click(stop_jobs(slug), None, status, cancels=[event], queue=False,
                   api_name=f"{api_name}_stop" if api_name else None, api_visibility="undocumented")
    return event

