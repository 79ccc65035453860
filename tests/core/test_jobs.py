"""Per-session job accounting (core.jobs)."""
from __future__ import annotations

import threading

import pytest

from core.errors import LabError
from core.jobs import SessionJobs, TooManyJobs


def test_a_session_is_refused_past_its_limit_and_others_are_not() -> None:
    jobs = SessionJobs()
    jobs.acquire("alice", 2)
    jobs.acquire("alice", 2)
    with pytest.raises(TooManyJobs, match="already have 2 model jobs running") as info:
        jobs.acquire("alice", 2)
    assert isinstance(info.value, LabError)  # shown to the user as it is
    jobs.acquire("bob", 2)  # another session is not affected
    assert jobs.running("alice") == 2 and jobs.running("bob") == 1
    jobs.release("alice", 2)
    jobs.acquire("alice", 2)  # a freed slot can be taken again


def test_slot_is_given_back_when_the_job_fails() -> None:
    jobs = SessionJobs()
    with pytest.raises(RuntimeError):
        with jobs.slot("s", 1):
            raise RuntimeError("model crashed")
    assert jobs.running("s") == 0
    with jobs.slot("s", 1):
        with pytest.raises(TooManyJobs, match="wait for it to finish"):
            jobs.acquire("s", 1)


def test_no_session_or_no_limit_means_unlimited() -> None:
    jobs = SessionJobs()
    for _ in range(5):
        jobs.acquire(None, 1)
        jobs.acquire("s", 0)
    assert jobs.running("s") == 0


def test_concurrent_acquires_never_exceed_the_limit() -> None:
    jobs = SessionJobs()
    admitted: list[int] = []
    barrier = threading.Barrier(16)

    def worker() -> None:
        barrier.wait()
        try:
            jobs.acquire("room", 3)
            admitted.append(1)
        except TooManyJobs:
            pass

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 3 and jobs.running("room") == 3
