"""The llama.cpp instance pool: ``Llama`` objects on one GGUF file, lent to one request at a time.

``LLM_LAB_ENGINE_INSTANCES`` instances on the same file (mmap'ed, so the weights are shared), each
with ``LLM_LAB_ENGINE_THREADS`` threads (:func:`pool_settings`). A request takes a free instance,
waiting in a queue when all are busy, and gives it back when its stream ends; llama.cpp releases
the GIL while it computes, so two requests use two cores. Each instance keeps the KV cache of its
last prompt (llama-cpp-python reuses the longest common prefix). :func:`pool_for` keeps one pool per
model in the loader's LRU cache; :func:`memory_report` says what each instance costs.

The backend that generates with these instances is :class:`core.generation.llamacpp_engine.LlamaCppBackend`.
"""
from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from core.errors import BackendError, ModelUnavailable
from core.settings import get_settings


def _rss_mb() -> float:
    """This process's resident memory in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0



@dataclass
class InstanceMemory:
    """Memory of one ``Llama`` instance, in MB."""

    weights_mb: float  # llama_model_size: the tensors (mmap'ed from the file, shared by instances)
    kv_cache_mb: float  # f16 K and V for n_ctx tokens (per instance)
    rss_delta_mb: float  # process RSS growth when the instance was created (measured)
    n_ctx: int
    threads: int


class EnginePool:
    """``instances`` ``Llama`` objects on one GGUF file, lent to one request at a time.

    Instances are created on first need (the first request pays the load, ~0.2 s for SmolLM2);
    ``acquire`` blocks in FIFO order while all are busy.
    """

    def __init__(self, path: Path | str, *, instances: int, threads: int, n_ctx: int, label: str = "") -> None:
        self.path = Path(path)
        self.instances = max(1, int(instances))
        self.threads = max(1, int(threads))
        self.requested_ctx = int(n_ctx)
        self.label = label or self.path.name
        self._free: queue.Queue[Any] = queue.Queue()
        self._all: list[Any] = []
        self._memory: list[InstanceMemory] = []
        self._lock = threading.Lock()
        self._creating = 0
        self._meta: Any = None  # first instance: tokenizer, metadata, template (read-only use)
        self._formatters: dict[bool, Any] = {}
        self.n_ctx = self.requested_ctx
        self.busy = 0

    # ---- instances -----------------------------------------------------------------------

    def _new_instance(self) -> Any:
        from core.generation.llamacpp_engine import llama_cpp_module  # the engine imports this module

        llama_cpp = llama_cpp_module()
        if llama_cpp is None:
            raise ModelUnavailable("llama-cpp-python is not installed.",
                                   hint="pip install -r requirements.txt (it compiles llama.cpp once), "
                                        "or set LLM_LAB_ENGINE=transformers.")
        before = _rss_mb()
        try:
            llm = llama_cpp.Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.threads,
                                  n_threads_batch=self.threads, verbose=False)
            train_ctx = int(llm._model.n_ctx_train() or 0)
            if 0 < train_ctx < self.n_ctx:  # do not allocate a KV cache the model cannot use
                llm.close()
                self.n_ctx = train_ctx
                llm = llama_cpp.Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.threads,
                                      n_threads_batch=self.threads, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelUnavailable(f"llama.cpp could not load {self.path.name}: {str(exc)[:200]}",
                                   hint="Check that the file is a complete GGUF file.") from exc
        self._memory.append(InstanceMemory(
            weights_mb=llm._model.size() / 2**20, kv_cache_mb=_kv_cache_mb(llama_cpp, llm),
            rss_delta_mb=max(0.0, _rss_mb() - before), n_ctx=llm.n_ctx(), threads=self.threads))
        return llm

    def acquire(self, timeout: float | None = None) -> Any:
        """A free instance (creating one while fewer than ``instances`` exist), else wait for one."""
        try:
            llm = self._free.get_nowait()
        except queue.Empty:
            llm = None
        if llm is None:
            with self._lock:
                create = len(self._all) + self._creating < self.instances
                if create:
                    self._creating += 1
            if create:
                try:
                    llm = self._new_instance()
                    with self._lock:
                        self._all.append(llm)
                        if self._meta is None:
                            self._meta = llm
                finally:
                    with self._lock:
                        self._creating -= 1
            else:
                try:
                    llm = self._free.get(timeout=timeout)
                except queue.Empty:
                    raise BackendError("Every llama.cpp instance stayed busy; try again.") from None
        with self._lock:
            self.busy += 1
        return llm

    def release(self, llm: Any) -> None:
        with self._lock:
            self.busy -= 1
        self._free.put(llm)

    @contextlib.contextmanager
    def instance(self, timeout: float | None = None) -> Iterator[Any]:
        llm = self.acquire(timeout)
        try:
            yield llm
        finally:
            self.release(llm)

    def meta(self) -> Any:
        """An instance for read-only work (tokenize, detokenize, metadata); creates the first if needed.

        llama.cpp's tokenizer is read-only model state, safe to call while the instance generates.
        """
        if self._meta is None:
            self.release(self.acquire())
        return self._meta

    @property
    def context_window(self) -> int:
        return self.meta().n_ctx()

    def memory(self) -> list[InstanceMemory]:
        """One entry per created instance (empty before the first request)."""
        with self._lock:
            return list(self._memory)

    def close(self) -> None:
        with self._lock:
            instances, self._all, self._meta = self._all, [], None
        for llm in instances:
            with contextlib.suppress(Exception):
                llm.close()

    # ---- chat template and tokens --------------------------------------------------------

    def formatter(self, add_generation_prompt: bool = True) -> Any:
        """llama-cpp-python's Jinja formatter for the GGUF's ``tokenizer.chat_template`` (or None)."""
        if add_generation_prompt not in self._formatters:
            llm = self.meta()
            template = llm.metadata.get("tokenizer.chat_template")
            if not template:
                self._formatters[add_generation_prompt] = None
            else:
                Jinja2ChatFormatter = importlib.import_module("llama_cpp.llama_chat_format").Jinja2ChatFormatter
                eos, bos = llm.token_eos(), llm.token_bos()
                self._formatters[add_generation_prompt] = Jinja2ChatFormatter(
                    template=template,
                    eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
                    bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
                    add_generation_prompt=add_generation_prompt,
                    stop_token_ids=[eos])
        return self._formatters[add_generation_prompt]

    def tokenize(self, text: str, *, special: bool = True, add_bos: bool = False) -> list[int]:
        """Token ids of ``text``; ``special`` parses special-token text (``<|im_start|>``) as one id."""
        llm = self.meta()
        ids = llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)
        bos = llm.token_bos()
        if add_bos and llm._model.add_bos_token() and bos != -1 and (not ids or ids[0] != bos):
            ids = [bos, *ids]
        return ids

    def piece(self, token_id: int) -> str:
        return self.meta().detokenize([token_id], special=True).decode("utf-8", errors="replace")


def _kv_cache_mb(llama_cpp: Any, llm: Any) -> float:
    """f16 K+V cache size for the instance's context (what each extra instance costs)."""
    try:
        model = llm._model.model
        n_layer = llama_cpp.llama_model_n_layer(model)
        n_head = max(1, llama_cpp.llama_model_n_head(model))
        n_head_kv = llama_cpp.llama_model_n_head_kv(model)
        head_dim = llama_cpp.llama_model_n_embd(model) // n_head
        return llm.n_ctx() * n_layer * 2 * n_head_kv * head_dim * 2 / 2**20
    except Exception:  # noqa: BLE001 - an informational figure
        return float("nan")


def pool_settings() -> tuple[int, int]:
    """(instances, threads per instance) from settings; 0 means "decide" (see core.settings)."""
    settings = get_settings()
    cores = os.cpu_count() or 1
    instances = settings.engine_instances or max(1, min(settings.heavy_concurrency, cores))
    threads = settings.engine_threads or max(1, cores // instances)
    return instances, threads


_POOLS: dict[str, EnginePool] = {}
_POOLS_LOCK = threading.Lock()


def close_all() -> None:
    """Free every pool's instances (at exit, before the interpreter tears down llama_cpp)."""
    with _POOLS_LOCK:
        every = list(_POOLS.values())
    for pool in every:
        pool.close()


atexit.register(close_all)


def pool_for(model_name: str) -> EnginePool:
    """The engine pool running catalogue chat model ``model_name`` (kept in the loader's LRU cache)."""
    from core import loader

    settings = get_settings()
    path = loader.gguf_file(model_name)
    instances, threads = pool_settings()
    n_ctx = settings.limits.prompt_tokens + settings.limits.max_new_tokens
    key = f"{path}|{instances}x{threads}|{n_ctx}"

    def factory() -> EnginePool:
        pool = EnginePool(path, instances=instances, threads=threads, n_ctx=n_ctx, label=path.name)
        with _POOLS_LOCK:
            _POOLS[key] = pool
        return pool

    size_mb = loader.gguf_size_mb(path, instances, n_ctx)
    return loader.cache().get((key, "llamacpp"), size_mb, factory)


def pools() -> dict[str, EnginePool]:
    """Pools created in this process (those the cache still holds and any still lent out)."""
    with _POOLS_LOCK:
        return dict(_POOLS)


def memory_report() -> list[dict[str, Any]]:
    """Per pool and instance: weights, KV cache and measured RSS growth (MB), for ``lab_info``."""
    out = []
    for pool in pools().values():
        for i, mem in enumerate(pool.memory()):
            out.append({"file": pool.label, "instance": i, "threads": mem.threads, "n_ctx": mem.n_ctx,
                        "weights_mb": round(mem.weights_mb, 1), "kv_cache_mb": round(mem.kv_cache_mb, 1),
                        "rss_delta_mb": round(mem.rss_delta_mb, 1)})
    return out

def warm(model_name: str = "chat-smollm2-135m") -> float:
    """Create every instance of the model's pool now (start-up warm-up); returns seconds taken."""
    start = time.perf_counter()
    pool = pool_for(model_name)
    held = [pool.acquire() for _ in range(pool.instances)]
    for llm in held:
        pool.release(llm)
    return time.perf_counter() - start
