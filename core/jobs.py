"""Per-session job accounting: one browser session may run at most N heavy (model) jobs at once.

Gradio's queue bounds how many model calls run in total (the shared "heavy" pool); this bounds how
many of them one session can hold, so a single participant (or a script hammering the API) cannot
occupy every slot while the rest of the room waits.
"""
from __future__ import annotations

import contextlib
import threading
from collections import Counter
from typing import Iterator

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
