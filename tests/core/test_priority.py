"""Model work runs nicer than light requests (core.priority), per thread."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from core import priority
from core.settings import override_settings


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_only_the_calling_thread_gets_nicer() -> None:
    main_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: dict[str, int] = {}

    def job() -> None:
        with override_settings(job_nice=7):
            assert priority.as_model_work()
        tid = threading.get_native_id()
        seen["job"] = os.getpriority(os.PRIO_PROCESS, tid)
        child = threading.Thread(target=lambda: seen.update(child=os.getpriority(os.PRIO_PROCESS,
                                                                                 threading.get_native_id())))
        child.start(), child.join()

    t = threading.Thread(target=job)
    t.start(), t.join()
    assert seen["job"] == min(19, main_nice + 7)
    assert seen["child"] == seen["job"]  # threads a job starts (an arena battle's sides) inherit it
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_nice  # the server's stays


def test_zero_does_nothing() -> None:
    assert priority.lower_this_thread(0) is False


def test_warm_ups_wait_for_a_starting_server() -> None:
    done = threading.Event()

    def warm_up() -> None:
        with override_settings(job_nice=0):
            priority.as_model_work(after_start=True, timeout_s=10)
        done.set()

    priority.starting()
    try:
        t = threading.Thread(target=warm_up)
        t.start()
        assert not done.wait(0.3)  # held while the server builds its pages
    finally:
        priority.started()
    assert done.wait(5)  # and let go once it serves
    t.join()
    with override_settings(job_nice=0):  # this is pytest's main thread: keep its priority
        priority.as_model_work(after_start=True, timeout_s=0.01)  # no server starting: no wait
