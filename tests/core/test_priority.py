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
