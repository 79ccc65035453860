"""CPU priority of model jobs: light work first when the cores are busy.

A lab on two cores runs its model jobs (generation, embedding, fitting, training) next to light
requests (page loads, votes, tokenizer views). Each job's worker thread (and each start-up warm-up
thread) lowers its own scheduling priority (``nice``) by ``LLM_LAB_JOB_NICE``, and the threads it
starts (an arena battle's two sides, llama.cpp and torch workers created for it) inherit that; the
event loop and light requests keep the normal priority, so they are served first and the jobs use
whatever CPU is left. With idle cores nothing changes. Linux sets ``nice`` per thread; elsewhere
this does nothing. Warm-ups begun while a server starts also wait until it serves (:func:`starting`).
"""
from __future__ import annotations

import os
import threading

_STARTED = threading.Event()
_STARTED.set()  # nothing to wait for unless a server is starting (tests call warm-ups directly)


def starting() -> None:
    """A server is starting: warm-ups begun from now on wait for :func:`started` (the first page
    is built and served without them competing for the CPU and the GIL)."""
    _STARTED.clear()


def started() -> None:
    _STARTED.set()


def as_model_work(after_start: bool = False, timeout_s: float = 120.0) -> bool:
    """Give the calling thread the priority of model work (a job's worker, a warm-up thread); with
    ``after_start``, first wait until a starting server serves its first page."""
    from core.settings import get_settings

    if after_start:
        _STARTED.wait(timeout_s)
    return lower_this_thread(get_settings().job_nice)


def lower_this_thread(by: int) -> bool:
    """Raise the calling thread's ``nice`` value by ``by`` (0 does nothing); True when applied."""
    if by <= 0 or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))
        return True
    except OSError:  # not permitted here, or not a per-thread nice (non-Linux)
        return False
