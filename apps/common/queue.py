"""One queue for the lab: explicit sizes, a shared pool for model work, a per-session job limit."""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import gradio as gr

from core.errors import LabError
from core.settings import get_settings

#: Pass as ``concurrency_id=HEAVY`` (with ``concurrency_limit=heavy_limit()``) on events that run
#: models, so heavy calls share one bounded pool and cannot starve light ones.
HEAVY = "lab-heavy"


def heavy_limit() -> int:
    return get_settings().heavy_concurrency


def heavy(**kwargs: Any) -> dict[str, Any]:
    """Event keyword arguments for a model event: the shared pool and its limit."""
    return {"concurrency_id": HEAVY, "concurrency_limit": heavy_limit(), **kwargs}


def configure_queue(blocks: gr.Blocks) -> gr.Blocks:
    """Explicit queue settings (ZeroGPU would otherwise cap the queue at 1), and the per-session
    limit on heavy jobs applied to every event in the shared :data:`HEAVY` pool."""
    settings = get_settings()
    for block_fn in blocks.fns.values():
        if block_fn.concurrency_id == HEAVY and block_fn.fn is not None:
            block_fn.fn = limit_jobs_per_session(block_fn.fn)
    return blocks.queue(max_size=settings.queue_max_size, default_concurrency_limit=settings.concurrency)


def session_hash() -> str | None:
    """The browser session of the event being handled (None outside an event)."""
    from gradio.context import LocalContext

    request = LocalContext.request.get(None)
    return getattr(request, "session_hash", None)


def limit_jobs_per_session(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse a call when its browser session already runs ``Limits.jobs_per_session`` heavy jobs
    (the refusal is a normal user message). Idempotent; keeps ``fn``'s signature and generator-ness,
    which Gradio inspects to inject ``gr.Request``/``gr.Progress`` and to stream."""
    if getattr(fn, "_lab_session_limited", False):
        return fn
    from core.jobs import SESSION_JOBS

    def _acquire() -> tuple[str | None, int]:
        key = (session_hash(), get_settings().limits.jobs_per_session)
        try:
            SESSION_JOBS.acquire(*key)
        except LabError as exc:
            raise gr.Error(str(exc), title="Please wait", print_exception=False) from None
        return key

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def limited_gen(*args: Any, **kwargs: Any) -> Any:
            key = _acquire()
            try:
                yield from fn(*args, **kwargs)
            finally:
                SESSION_JOBS.release(*key)
        wrapped: Callable[..., Any] = limited_gen
    else:
        @functools.wraps(fn)
        def limited(*args: Any, **kwargs: Any) -> Any:
            key = _acquire()
            try:
                return fn(*args, **kwargs)
            finally:
                SESSION_JOBS.release(*key)
        wrapped = limited
    wrapped._lab_session_limited = True  # type: ignore[attr-defined]
    return wrapped
