"""Long jobs: per-session accounting, stop, progress, and the shared model pool.

One browser session may run at most N heavy (model) jobs at once (:class:`SessionJobs`).
Every long job runs as a :class:`Job`: core code calls :func:`check_stop` between batches and
:func:`report` for honest progress; the UI's job runner (``apps.common.jobs``) admits jobs through
the :class:`ModelPool` and stops them on Stop, cancel, or a closed browser tab (:data:`STOPS`).

Gradio's queue bounds how many model calls run in total (the shared "heavy" pool); this bounds how
many of them one session can hold, so a single participant (or a script hammering the API) cannot
occupy every slot while the rest of the room waits.
"""
from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from core.errors import LabError


class TooManyJobs(LabError):
    """The session already runs as many heavy jobs as it is allowed to."""


class SessionJobs:
    """Counts running jobs per session key; :meth:`slot` refuses one past the limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()

    def running(self, session: str) -> int:
        with self._lock:
            return self._running[session]

    def acquire(self, session: str | None, limit: int) -> None:
        """Take one job slot of ``session``; raise :class:`TooManyJobs` when it has none left.

        ``session`` None (no browser session, e.g. a direct call) or ``limit`` < 1 means unlimited.
        """
        if session is None or limit < 1:
            return
        with self._lock:
            if self._running[session] >= limit:
                one = limit == 1
                raise TooManyJobs(
                    f"You already have {limit} model {'job' if one else 'jobs'} running in this session; "
                    f"wait for {'it' if one else 'one'} to finish, then try again.")
            self._running[session] += 1

    def release(self, session: str | None, limit: int) -> None:
        """Give back a slot taken by :meth:`acquire` with the same arguments."""
        if session is None or limit < 1:
            return
        with self._lock:
            self._running[session] -= 1
            if self._running[session] <= 0:
                del self._running[session]

    @contextlib.contextmanager
    def slot(self, session: str | None, limit: int) -> Iterator[None]:
        """Hold one job slot of ``session`` for the duration of the ``with`` block."""
        self.acquire(session, limit)
        try:
            yield
        finally:
            self.release(session, limit)


#: The process-wide ledger (all apps of one lab share it, like they share the heavy pool).
SESSION_JOBS = SessionJobs()


# --------------------------------------------------------------------------------------------
# long jobs: stop, progress, and the shared model pool
# --------------------------------------------------------------------------------------------

class Stopped(LabError):
    """The job was stopped: by its user, because its browser went away, or by a cancel."""


@dataclass(eq=False)
class Job:
    """One long job: who runs it, how far it is, and the event that stops it."""

    slug: str
    kind: str
    session: str | None = None
    expect_s: float = 10.0  # first guess of the duration, before the pool has measured this kind
    stop_event: threading.Event = field(default_factory=threading.Event)
    stop_reason: str = ""
    fraction: float | None = None
    text: str = ""
    created: float = field(default_factory=time.monotonic)
    started: float | None = None

    @property
    def stopped(self) -> bool:
        return self.stop_event.is_set()

    def stop(self, reason: str = "stopped") -> None:
        if not self.stop_event.is_set():
            self.stop_reason = reason
            self.stop_event.set()

    def elapsed(self) -> float:
        return time.monotonic() - (self.started or self.created)


_CURRENT: contextvars.ContextVar[Job | None] = contextvars.ContextVar("lab_job", default=None)


def current_job() -> Job | None:
    """The job the calling code runs in (None outside the job runner)."""
    return _CURRENT.get()


@contextlib.contextmanager
def running(job: Job) -> Iterator[Job]:
    """Make ``job`` the current job of this thread/context (the runner does this)."""
    token = _CURRENT.set(job)
    try:
        yield job
    finally:
        _CURRENT.reset(token)


def check_stop() -> None:
    """Raise :class:`Stopped` when the current job has been asked to stop (call between batches)."""
    job = _CURRENT.get()
    if job is not None and job.stop_event.is_set():
        raise Stopped(f"Stopped ({job.stop_reason or 'stopped'}).")


def stop_event() -> threading.Event:
    """The current job's stop event (for code that takes an Event, e.g. generation backends)."""
    job = _CURRENT.get()
    return job.stop_event if job is not None else threading.Event()


def report(fraction: float | None = None, text: str = "") -> None:
    """Tell the user how far the current job is (``fraction`` in 0..1, or None when unknown)."""
    job = _CURRENT.get()
    if job is None:
        return
    if fraction is not None:
        job.fraction = min(max(float(fraction), 0.0), 1.0)
    if text:
        job.text = text


def batches(items: Sequence[Any], size: int, what: str = "items") -> Iterator[tuple[int, Sequence[Any]]]:
    """Slices of ``items`` with a stop check and a progress report between them."""
    total = len(items)
    for start in range(0, total, max(1, size)):
        check_stop()
        report(start / total if total else None, f"{what} {start:,} / {total:,}")
        yield start, items[start:start + size]
    report(1.0, f"{what} {total:,} / {total:,}")


class StopRegistry:
    """The running jobs of each browser session, so a Stop button or a closed tab can stop them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str | None, set[Job]] = {}

    def add(self, job: Job) -> None:
        with self._lock:
            self._jobs.setdefault(job.session, set()).add(job)

    def discard(self, job: Job) -> None:
        with self._lock:
            jobs = self._jobs.get(job.session)
            if jobs is not None:
                jobs.discard(job)
                if not jobs:
                    del self._jobs[job.session]

    def jobs(self, session: str | None, slug: str | None = None) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.get(session, ()) if slug is None or j.slug == slug]

    def stop(self, session: str | None, slug: str | None = None, reason: str = "stopped") -> int:
        """Stop the session's jobs (of one app, or all); returns how many were asked to stop.
        A ``None`` session (no browser) is never stopped wholesale."""
        if session is None:
            return 0
        jobs = self.jobs(session, slug)
        for job in jobs:
            job.stop(reason)
        return len(jobs)


#: Every running job of the process, by session.
STOPS = StopRegistry()


@dataclass(frozen=True)
class Wait:
    """Where a waiting job stands in the pool."""

    ahead: int  # jobs that will start before this one (running ones excluded)
    running: int
    eta_s: float  # estimated seconds until this job starts


class ModelPool:
    """A first-come, first-served pool of model slots shared by every app of the lab.

    Waiting happens outside Gradio's queue so the waiting user can be told, in plain words, how many
    jobs are ahead and for about how long (from the measured durations of each kind of job).
    """

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._cond = threading.Condition()
        self._waiting: list[Job] = []
        self._running: list[Job] = []
        self._durations: dict[str, float] = {}
        self._watchers: set[Callable[[], None]] = set()

    def watch(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` (thread-safe, non-blocking) whenever a slot or a place in line frees up, so a
        waiting job can start at once instead of at its next poll."""
        with self._cond:
            self._watchers.add(wake)

    def unwatch(self, wake: Callable[[], None]) -> None:
        with self._cond:
            self._watchers.discard(wake)

    def _changed(self) -> None:
        self._cond.notify_all()
        for wake in list(self._watchers):
            wake()

    def resize(self, slots: int) -> None:
        with self._cond:
            self.slots = max(1, slots)
            self._changed()

    def expected(self, job: Job) -> float:
        return self._durations.get(job.kind, job.expect_s)

    def join(self, job: Job) -> None:
        with self._cond:
            self._waiting.append(job)

    def try_start(self, job: Job) -> Wait | None:
        """Start ``job`` if a slot is free and it is first in line; else where it stands."""
        with self._cond:
            if job.stopped:
                self._remove_waiting(job)
                raise Stopped(f"Stopped ({job.stop_reason or 'stopped'}) before it started.")
            if len(self._running) < self.slots and self._waiting and self._waiting[0] is job:
                self._waiting.pop(0)
                self._running.append(job)
                job.started = time.monotonic()
                return None
            return self._where(job)

    def _where(self, job: Job) -> Wait:
        ahead = self._waiting[: self._waiting.index(job)] if job in self._waiting else []
        free_at = sorted(max(self.expected(j) - j.elapsed(), 0.5) for j in self._running)
        free_at += [0.0] * (self.slots - len(free_at))
        for other in ahead:  # simulate: each job ahead takes the first slot that frees up
            free_at.sort()
            free_at[0] += self.expected(other)
        return Wait(ahead=len(ahead), running=len(self._running), eta_s=min(free_at) if free_at else 0.0)

    def _remove_waiting(self, job: Job) -> None:
        if job in self._waiting:
            self._waiting.remove(job)
            self._changed()

    def leave(self, job: Job, completed: bool) -> None:
        """Free the job's slot (or its place in line); a completed job teaches the pool its duration."""
        with self._cond:
            if job in self._running:
                self._running.remove(job)
                if completed and job.started is not None:
                    took = time.monotonic() - job.started
                    old = self._durations.get(job.kind)
                    self._durations[job.kind] = took if old is None else 0.7 * old + 0.3 * took
            self._remove_waiting(job)
            self._changed()

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return {"slots": self.slots, "running": [f"{j.slug}:{j.kind}" for j in self._running],
                    "waiting": len(self._waiting),
                    "expected_s": {k: round(v, 1) for k, v in self._durations.items()}}


_POOL: ModelPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> ModelPool:
    """The process-wide model pool (``LLM_LAB_HEAVY_CONCURRENCY`` slots)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            from core.settings import get_settings

            _POOL = ModelPool(get_settings().heavy_concurrency)
        return _POOL
