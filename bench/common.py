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
