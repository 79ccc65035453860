"""The one budgeted LRU (core/cache.py): eviction order, one budget across caches, concurrent builds,
oversize items, size estimates, the report and the model cache as its client."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from core.cache import MB, BudgetCache, Registry, budget_cache, estimate_size, memory_report
from core.loader import ModelCache
from core.settings import override_settings


def test_evicts_least_recently_used_first():
    reg = Registry(budget_bytes=100)
    c = BudgetCache("a", registry=reg)
    c.put("x", "X", size=40)
    c.put("y", "Y", size=40)
    assert c.get("x") == "X"  # x becomes most recent
    c.put("z", "Z", size=40)  # 120 > 100: y (least recent) goes
    assert c.keys() == ["x", "z"] and c.get("y") is None
    assert c.evictions == 1 and c.bytes == 80


def test_one_budget_across_two_caches():
    reg = Registry(budget_bytes=100)
    models, runs = BudgetCache("models", registry=reg), BudgetCache("runs", registry=reg)
    models.put("m", "M", size=50)
    runs.put("r1", "R1", size=30)
    runs.put("r2", "R2", size=30)  # 110: the model is the least recently used item of all
    assert "m" not in models and len(runs) == 2
    models.put("m", "M", size=50)  # now r1 then r2 are older: r1 goes, 80 bytes
    assert runs.keys() == ["r2"] and "m" in models
    assert reg.used_bytes() <= 100
    report = memory_report(reg)
    assert report["caches"]["models"]["bytes"] == 50 and report["caches"]["runs"]["items"] == 1
    assert set(report) >= {"budget_mb", "used_mb", "caches"}


def test_budget_comes_from_settings():
    reg = Registry()
    with override_settings(memory_mb=1):
        c = BudgetCache("s", registry=reg)
        c.put("a", 0, size=MB // 2)
        c.put("b", 0, size=MB // 2 + 1)
        assert c.keys() == ["b"]
        assert memory_report(reg)["budget_mb"] == 1


def test_own_caps_on_items_and_bytes():
    reg = Registry(budget_bytes=10_000)
    c = BudgetCache("few", registry=reg, max_items=2)
    for k in "abc":
        c.put(k, k, size=1)
    assert c.keys() == ["b", "c"]
    d = BudgetCache("small", registry=reg, max_bytes=10)
    d.put("a", 1, size=6)
    d.put("b", 2, size=6)
    assert d.keys() == ["b"]


@pytest.mark.parametrize("kind", ["budget cache", "model cache"])
def test_concurrent_first_requests_build_once(kind):
    if kind == "budget cache":
        c = BudgetCache("c", registry=Registry(budget_bytes=10 * MB))
        get = lambda factory: c.get_or_create("k", factory, size=1)  # noqa: E731
    else:
        m = ModelCache(budget_mb=1000)
        get = lambda factory: m.get(("m", "x"), 1, factory)  # noqa: E731
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(get(slow))) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(calls) == 1 and len({id(r) for r in results}) == 1


def test_different_keys_build_in_parallel():
    c = BudgetCache("p", registry=Registry(budget_bytes=10 * MB))
    started = time.perf_counter()
    threads = [threading.Thread(target=c.get_or_create, args=(k, lambda: time.sleep(0.3) or k, 1)) for k in "abc"]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert time.perf_counter() - started < 0.8 and len(c) == 3


def test_oversize_item_is_returned_but_not_kept():
    reg = Registry(budget_bytes=100)
    c = BudgetCache("o", registry=reg)
    c.put("small", 1, size=10)
    assert c.put("huge", 2, size=500) is False
    assert "huge" not in c and "small" in c and c.oversize == 1
    assert c.get_or_create("huge2", lambda: "v", size=500) == "v" and "huge2" not in c


def test_keep_oversize_keeps_it_alone():
    reg = Registry(budget_bytes=100)
    other = BudgetCache("other", registry=reg)
    other.put("a", 1, size=10)
    big = BudgetCache("big", registry=reg, keep_oversize=True)
    assert big.put("model", "M", size=500) is True
    assert "model" in big and len(other) == 0


def test_failed_build_keeps_nothing_and_can_retry():
    c = BudgetCache("f", registry=Registry(budget_bytes=100))

    def boom():
        raise RuntimeError("no")

    try:
        c.get_or_create("k", boom)
    except RuntimeError:
        pass
    assert "k" not in c and c.get_or_create("k", lambda: 5, size=1) == 5


def test_size_estimates():
    arr = np.zeros((100, 10), dtype=np.float32)
    assert estimate_size(arr) == 4000
    nested = {"a": arr, "b": [arr, np.ones(10)]}  # arr counted once
    assert 4080 <= estimate_size(nested) < 6000

    class Holder:
        def __init__(self) -> None:
            self.emb = np.zeros(1000, dtype=np.float64)
            self.name = "x"

    assert estimate_size(Holder()) >= 8000
    import pandas as pd

    df = pd.DataFrame({"t": ["abc"] * 100, "n": range(100)})
    assert estimate_size(df) > 800


def test_estimate_counts_torch_parameters():
    import torch

    layer = torch.nn.Linear(10, 10)
    assert estimate_size(layer) == (100 + 10) * 4


def test_budget_cache_returns_the_registered_one():
    reg = Registry(budget_bytes=100)
    a = budget_cache("same", registry=reg)
    assert budget_cache("same", registry=reg) is a


def test_model_cache_counts_against_the_lab_budget():
    reg = Registry(budget_bytes=100 * MB)
    runs = BudgetCache("runs", registry=reg)
    models = ModelCache(budget_mb=1000, registry=reg)
    runs.put("run", "R", size=60 * MB)
    models.get(("m", "x"), 60, object)  # 120 MB > 100: the older run goes, the model stays
    assert ("m", "x") in models.loaded() and "run" not in runs and models.loads == 1
    models.discard(("m", "x"))
    assert models.loaded() == []
