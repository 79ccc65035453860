"""glibc heap hygiene: the arena cap applies and trims are rate-limited."""
from __future__ import annotations

import platform

import pytest

from core import heap

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")


@glibc
def test_trim_runs_then_waits_its_interval() -> None:
    heap._LAST_TRIM = 0.0
    assert heap.trim(min_interval_s=60) is True
    assert heap.trim(min_interval_s=60) is False  # within the interval: skipped
    assert heap.trim(min_interval_s=0) is True


@glibc
def test_arena_cap_applies_and_zero_keeps_the_default() -> None:
    assert heap.limit_arenas(0) is False
    assert heap.limit_arenas(8) is True  # this process's default on 2 cores is 8 × cores = 16
