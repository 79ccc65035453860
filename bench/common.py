"""Small helpers shared by the benchmark scripts."""
from __future__ import annotations

import os
import statistics
import time
from typing import Callable

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """Fastest wall time of ``fn`` over ``repeats`` runs, in seconds (least disturbed by noise)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def row(label: str, value: float, baseline: float, unit: str = "s") -> str:
    ratio = value / baseline if baseline else float("nan")
    return f"  {label:<46} {value:10.3f} {unit:<4} {ratio:8.2f}×"


def header(title: str, baseline_label: str) -> None:
    print(f"\n{title}\n  (ratios are against: {baseline_label}, measured in this run)")


def wait_until_idle(pid: int, cpu_percent: float = 15.0, quiet_s: float = 3.0, timeout_s: float = 300.0) -> float:
    """Wait until process ``pid`` (with its threads) stays under ``cpu_percent`` of one core for
    ``quiet_s`` seconds, so background warm-ups don't count in a baseline; returns the seconds waited."""
    import psutil

    start = time.perf_counter()
    proc, quiet_since = psutil.Process(pid), None
    proc.cpu_percent(None)
    while time.perf_counter() - start < timeout_s:
        time.sleep(0.5)
        try:
            busy = proc.cpu_percent(None) > cpu_percent
        except psutil.Error:
            break
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.perf_counter()
        elif time.perf_counter() - quiet_since >= quiet_s:
            break
    return time.perf_counter() - start
