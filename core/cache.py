"""One budgeted LRU for everything the lab keeps in memory.

Every cache of the lab (loaded models, embeddings, topic runs, fitted classifiers, indexes, ...)
is a :class:`BudgetCache` registered under one :class:`Registry`, whose budget is the lab-wide
``LLM_LAB_MEMORY_MB``. Items carry a size in bytes (given by the caller or estimated by
:func:`estimate_size`); when the total goes over the budget the least recently used item of *any*
cache is evicted. A cache may also have its own cap (``max_bytes``, ``max_items``).

``get_or_create`` holds a per-key lock, so concurrent first requests build a value once.
An item larger than the whole budget (or its cache's cap) is returned but not kept, unless the
cache was made with ``keep_oversize=True`` (the model cache: reloading a model on every call would
be worse than going over budget); then it is kept alone and everything older is evicted.

``memory_report()`` gives per-cache counts and bytes and the budget (``lab_info`` shows it).
"""
from __future__ import annotations

import gc
import itertools
import logging
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterator

log = logging.getLogger(__name__)

MB = 2**20
GC_AFTER_BYTES = 64 * MB  # run the garbage collector after evicting at least this much
_MISSING = object()


# --------------------------------------------------------------------------------------------
# size estimates
# --------------------------------------------------------------------------------------------

def _torch_size(obj: Any) -> int | None:
    torch = sys.modules.get("torch")  # never import torch here: only measure what already uses it
    if torch is None:
        return None
    if isinstance(obj, torch.Tensor):
        return int(obj.element_size() * obj.nelement())
    if isinstance(obj, torch.nn.Module):
        tensors = itertools.chain(obj.parameters(), obj.buffers())
        return int(sum(t.element_size() * t.nelement() for t in tensors))
    return None


def estimate_size(obj: Any, _depth: int = 0, _seen: set[int] | None = None) -> int:
    """Approximate bytes held by ``obj``: numpy ``nbytes``, torch parameters and buffers, pandas
    ``memory_usage(deep=True)``, scipy sparse arrays, and containers / object attributes recursively
    (a few levels deep; shared objects counted once)."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen or obj is None:
        return 0
    seen.add(id(obj))
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return len(obj)
    if isinstance(obj, str):
        return sys.getsizeof(obj)
    if isinstance(obj, (int, float, bool, complex)):
        return sys.getsizeof(obj)
    nbytes = getattr(obj, "nbytes", None)
    if isinstance(nbytes, int) and type(obj).__module__.startswith("numpy"):
        return nbytes
    size = _torch_size(obj)
    if size is not None:
        return size
    module = type(obj).__module__
    if module.startswith("pandas") and hasattr(obj, "memory_usage"):
        try:
            usage = obj.memory_usage(deep=True)
            return int(usage.sum() if hasattr(usage, "sum") else usage)
        except (TypeError, ValueError):
            pass
    if module.startswith("scipy.sparse"):
        return sum(int(getattr(getattr(obj, a, None), "nbytes", 0) or 0) for a in ("data", "indices", "indptr", "row", "col"))
    if _depth >= 6:
        return sys.getsizeof(obj)
    total = sys.getsizeof(obj)
    if isinstance(obj, dict):
        items: Iterator[Any] = itertools.chain.from_iterable(obj.items())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        items = iter(obj)
    else:
        state = getattr(obj, "__dict__", None)
        if state is None and hasattr(obj, "__slots__"):
            state = {s: getattr(obj, s, None) for s in obj.__slots__ if isinstance(s, str)}
        items = iter(state.values()) if isinstance(state, dict) else iter(())
    for i, item in enumerate(items):
        if i >= 100_000:  # huge containers: the first 100k elements are a good enough sample
            break
        total += estimate_size(item, _depth + 1, seen)
    return total


# --------------------------------------------------------------------------------------------
# the registry: one budget, one recency order across caches
# --------------------------------------------------------------------------------------------

@dataclass
class _Entry:
    value: Any
    size: int


class Registry:
    """The caches sharing one memory budget, with one least-recently-used order across them.

    ``budget_bytes`` None reads ``LLM_LAB_MEMORY_MB`` from the current settings at each check.
    """

    def __init__(self, budget_bytes: int | None = None) -> None:
        self._budget = budget_bytes
        self.lock = threading.RLock()
        self.order: OrderedDict[tuple[str, Hashable], _Entry] = OrderedDict()  # oldest first
        self.caches: dict[str, BudgetCache] = {}

    @property
    def budget_bytes(self) -> int:
        if self._budget is not None:
            return self._budget
        from core.settings import get_settings

        return int(get_settings().memory_mb) * MB

    def used_bytes(self) -> int:
        with self.lock:
            return sum(c.bytes for c in self.caches.values())

    def register(self, cache: BudgetCache) -> None:
        with self.lock:
            old = self.caches.get(cache.name)
            if old is not None and old is not cache:
                old.clear()
            self.caches[cache.name] = cache

    def evict(self, keep: tuple[str, Hashable] | None = None) -> int:
        """Evict least recently used items (of any cache) until the total fits; returns how many."""
        dropped = freed = 0
        with self.lock:
            budget = self.budget_bytes
            used = self.used_bytes()
            while used > budget:
                victim = next((k for k in self.order if k != keep), None)
                if victim is None:
                    break
                size = self.order[victim].size
                self.caches[victim[0]]._drop(victim[1], reason=f"lab budget {budget // MB} MB")
                used -= size
                freed += size
                dropped += 1
        if freed >= GC_AFTER_BYTES:  # big objects (models, runs) often sit in reference cycles
            gc.collect()
        return dropped


_registry: Registry | None = None
_registry_lock = threading.Lock()


def registry() -> Registry:
    """The process-wide registry (every cache of the lab)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = Registry()
        return _registry


_default_registry = registry  # BudgetCache's ``registry`` argument shadows the function's name


# --------------------------------------------------------------------------------------------
# one cache
# --------------------------------------------------------------------------------------------

class BudgetCache:
    """A named LRU whose items count against the lab-wide memory budget.

    ``max_bytes`` / ``max_items`` optionally cap this cache on its own; ``keep_oversize`` keeps an
    item larger than the budget (alone) instead of refusing to cache it.
    """

    def __init__(self, name: str, *, max_bytes: int | None = None, max_items: int | None = None,
                 keep_oversize: bool = False, registry: Registry | None = None) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self.max_items = max_items
        self.keep_oversize = keep_oversize
        self.registry = registry if registry is not None else _default_registry()
        self._keys: OrderedDict[Hashable, int] = OrderedDict()  # key -> size, oldest first
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self.bytes = 0
        self.hits = self.misses = self.builds = self.evictions = self.oversize = 0
        self.registry.register(self)

    # -- reading ------------------------------------------------------------------------------
    def get(self, key: Hashable, default: Any = None) -> Any:
        """The cached value (and mark it most recently used), or ``default``."""
        reg = self.registry
        with reg.lock:
            entry = reg.order.get((self.name, key))
            if entry is None:
                self.misses += 1
                return default
            reg.order.move_to_end((self.name, key))
            self._keys.move_to_end(key)
            self.hits += 1
            return entry.value

    def __getitem__(self, key: Hashable) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: Hashable) -> bool:
        with self.registry.lock:
            return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def keys(self) -> list[Hashable]:
        """Keys, least recently used first."""
        with self.registry.lock:
            return list(self._keys)

    # -- writing ------------------------------------------------------------------------------
    def put(self, key: Hashable, value: Any, size: int | None = None) -> bool:
        """Keep ``value`` (``size`` bytes, estimated when None); False when it was too big to keep."""
        size = estimate_size(value) if size is None else max(0, int(size))
        reg = self.registry
        with reg.lock:
            limit = min(x for x in (reg.budget_bytes, self.max_bytes) if x is not None)
            if size > limit and not self.keep_oversize:
                self.oversize += 1
                self._drop(key, reason=None)
                log.info("cache %s: item of %d MB is over the %d MB budget, not kept", self.name,
                         size // MB, limit // MB)
                return False
            self._drop(key, reason=None)
            reg.order[(self.name, key)] = _Entry(value, size)
            self._keys[key] = size
            self.bytes += size
            self._evict_own(keep=key)
        reg.evict(keep=(self.name, key))
        return True

    def get_or_create(self, key: Hashable, factory: Callable[[], Any], size: int | Callable[[Any], int] | None = None) -> Any:
        """The cached value for ``key``, or ``factory()`` built once (concurrent callers wait for it).

        ``size``: bytes, a function of the built value, or None to estimate it.
        """
        value = self.get(key, _MISSING)
        if value is not _MISSING:
            return value
        with self.registry.lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self.registry.lock:
                entry = self.registry.order.get((self.name, key))
                if entry is not None:
                    self.registry.order.move_to_end((self.name, key))
                    self._keys.move_to_end(key)
                    self.hits += 1
                    return entry.value
            value = factory()
            self.builds += 1
            self.put(key, value, size(value) if callable(size) else size)
        with self.registry.lock:
            if self._key_locks.get(key) is key_lock and not key_lock.locked():
                del self._key_locks[key]
        return value

    def discard(self, key: Hashable) -> None:
        """Forget ``key`` (no error when absent)."""
        with self.registry.lock:
            self._drop(key, reason=None)

    def clear(self) -> None:
        """Forget every item of this cache."""
        with self.registry.lock:
            for key in list(self._keys):
                self._drop(key, reason=None)
        gc.collect()

    # -- internals ----------------------------------------------------------------------------
    def _drop(self, key: Hashable, reason: str | None) -> None:
        size = self._keys.pop(key, None)
        if size is None:
            return
        self.registry.order.pop((self.name, key), None)
        self.bytes -= size
        if reason is not None:
            self.evictions += 1
            log.info("cache %s: evicted %r (%d MB) to stay under the %s", self.name, key, size // MB, reason)

    def _evict_own(self, keep: Hashable) -> None:
        while len(self._keys) > 1 and (
                (self.max_bytes is not None and self.bytes > self.max_bytes)
                or (self.max_items is not None and len(self._keys) > self.max_items)):
            oldest = next(k for k in self._keys if k != keep)
            self._drop(oldest, reason=f"cap of cache {self.name}")

    def report(self) -> dict[str, Any]:
        """Counts and bytes of this cache."""
        with self.registry.lock:
            return {"items": len(self._keys), "bytes": self.bytes, "mb": round(self.bytes / MB, 1),
                    "hits": self.hits, "misses": self.misses, "builds": self.builds,
                    "evictions": self.evictions, "oversize": self.oversize}


def budget_cache(name: str, **options: Any) -> BudgetCache:
    """The registered cache called ``name``, created with ``options`` on first use (module-level caches)."""
    reg = options.get("registry") or _default_registry()
    with reg.lock:
        existing = reg.caches.get(name)
        if existing is not None:
            return existing
        return BudgetCache(name, **options)


def memory_report(reg: Registry | None = None) -> dict[str, Any]:
    """The lab's memory budget and, per cache, items, bytes, hits, misses and evictions."""
    reg = reg or registry()
    with reg.lock:
        caches = {name: c.report() for name, c in sorted(reg.caches.items())}
        used = reg.used_bytes()
        budget = reg.budget_bytes
    return {"budget_mb": round(budget / MB), "used_mb": round(used / MB, 1),
            "used_fraction": round(used / budget, 3) if budget else None, "caches": caches}
