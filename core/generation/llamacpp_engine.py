"""The llama.cpp engine: GGUF files run as they are, through ``llama-cpp-python``.

The default for CPU generation (see :mod:`core.generation.factory`). Quantised weights stay
quantised (SmolLM2's Q4_1, Phi-3-mini's q4), so a 2-core laptop decodes several times faster than
transformers on de-quantised fp32 weights (docs/BENCHMARKS.md, "Engines").

* **The GGUF's own chat template** (``tokenizer.chat_template`` in the file's metadata), rendered with
  llama-cpp-python's Jinja formatter; the rendered text is tokenized with special tokens *parsed*
  (``<|im_start|>`` is one id, not eight pieces of text), and BOS is added only where the file says so.
* **An engine pool**: ``LLM_LAB_ENGINE_INSTANCES`` ``Llama`` objects on the same file (mmap'ed, so the
  weights are shared), each with ``LLM_LAB_ENGINE_THREADS`` threads. A request takes a free instance,
  waiting in a queue when all are busy, and gives it back when its stream ends; llama.cpp releases
  the GIL while it computes, so two requests use two cores. Each instance keeps the KV cache of its
  last prompt (llama-cpp-python reuses the longest common prefix).
* **Stop**: the stream checks the ``stop`` event between tokens (and llama.cpp's stopping criteria
  check it inside the decode loop), so a stop lands within one token (~10–30 ms here).

``llama_cpp`` is imported only when an engine is used, never at import of this module; it is an
optional dependency (Space requirements do not list it: ZeroGPU runs transformers).
"""
from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import math
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from core.errors import BackendError, LabError, ModelUnavailable
from core.generation.params import (Message, SamplingParams, check_messages, check_prompt_length,
                                    with_system_prompt)
from core.generation.transformers_engine import LocalBackend
from core.settings import get_settings

log = logging.getLogger(__name__)

ENGINE = "llama.cpp"


def llama_cpp_module() -> Any:
    """The ``llama_cpp`` module, or ``None`` when llama-cpp-python is not installed (or broken).

    Imported by name: it is an optional dependency, and the Space builder (which lists what the
    bundled code imports) must not ask a Space to compile llama.cpp.
    """
    try:
        return importlib.import_module("llama_cpp")
    except Exception as exc:  # noqa: BLE001 - ImportError, or OSError from a broken shared library
        log.debug("llama_cpp unavailable: %s", exc)
        return None


def available() -> bool:
    """True when llama-cpp-python imports."""
    return llama_cpp_module() is not None


def version() -> str | None:
    mod = llama_cpp_module()
    return getattr(mod, "__version__", None) if mod is not None else None


def _rss_mb() -> float:
    """This process's resident memory in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


# --------------------------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------------------------

def sampling_kwargs(params: SamplingParams) -> dict[str, Any]:
    """``Llama.create_completion`` arguments for ``params``.

    min_p and typical_p are turned off (llama-cpp-python defaults min_p to 0.05), so the knobs mean
    what they mean in transformers; greedy is temperature 0 (llama.cpp's greedy sampler) and top_k 1.
    """
    common = {"max_tokens": params.max_new_tokens, "repeat_penalty": params.repetition_penalty,
              "min_p": 0.0, "typical_p": 1.0}
    if params.greedy:
        return {**common, "temperature": 0.0, "top_k": 1, "top_p": 1.0,
                "seed": params.seed if params.seed is not None else 0}
    return {**common, "temperature": params.temperature, "top_k": params.top_k, "top_p": params.top_p,
            "seed": params.seed}


# --------------------------------------------------------------------------------------------
# the pool
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# the backend
# --------------------------------------------------------------------------------------------

@dataclass
class TokenProb:
    """One candidate for the next token."""

    token_id: int
    text: str
    prob: float
    logit: float


@dataclass
class LlamaCppBackend(LocalBackend):
    """A catalogue chat model run by llama.cpp from its GGUF file.

    A :class:`LocalBackend` (same model, same interface, so code that asks "is this a local model?"
    keeps working) whose prompt, tokens and generation go through llama.cpp. What needs the
    transformers model itself stays there: :meth:`lm` loads it on demand, and a ``stream`` call with
    ``logits_processors`` (llguidance-constrained output) runs on transformers.
    """

    acquire_timeout_s: float | None = field(default=None, repr=False)
    engine = ENGINE  # class attribute: which engine runs (lab_info, the header)

    def pool(self) -> EnginePool:
        return pool_for(self.model_name)

    # ---- prompt ---------------------------------------------------------------------------

    def render_prompt(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        """The exact text the model receives (the GGUF's chat template applied)."""
        msgs = with_system_prompt(messages, self.system_prompt)
        formatter = self.pool().formatter(add_generation_prompt)
        if formatter is None:
            return "\n".join(f"{m['role']}: {m['content']}" for m in msgs) + (
                "\nassistant:" if add_generation_prompt else "")
        return formatter(messages=[{"role": m["role"], "content": m["content"]} for m in msgs]).prompt

    def prompt_ids(self, prompt: str) -> list[int]:
        """Token ids of a rendered prompt: special tokens parsed, BOS only where the file asks."""
        return self.pool().tokenize(prompt, special=True, add_bos=True)

    def count_tokens(self, text: str) -> int:
        return len(self.pool().tokenize(text, special=True))

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        return self.pool().tokenize(text, special=special)

    # ---- generation -----------------------------------------------------------------------

    def stream(self, messages: Sequence[Message], params: SamplingParams = SamplingParams(),
               stop: threading.Event | None = None, logits_processors: Sequence[Any] | None = None,
               **_: Any) -> Iterator[str]:
        if logits_processors:  # logits processors act on transformers' scores: run this call there
            yield from super().stream(messages, params, stop=stop, logits_processors=logits_processors)
            return
        check_messages(messages)
        params.validate()
        yield from self.stream_ids(self.prompt_ids(self.render_prompt(messages)), params, stop)

    def stream_prompt(self, prompt: str, params: SamplingParams = SamplingParams(),
                      stop: threading.Event | None = None) -> Iterator[str]:
        """Continue an already-rendered prompt (special tokens parsed)."""
        params.validate()
        yield from self.stream_ids(self.prompt_ids(prompt), params, stop)

    def stream_ids(self, ids: Sequence[int], params: SamplingParams,
                   stop: threading.Event | None = None) -> Iterator[str]:
        pool = self.pool()
        check_prompt_length(len(ids), params.max_new_tokens, pool.context_window)
        StoppingCriteriaList = llama_cpp_module().StoppingCriteriaList

        def stopped(_ids: Any, _logits: Any) -> bool:
            return stop is not None and stop.is_set()

        with pool.instance(self.acquire_timeout_s) as llm:
            if stop is not None and stop.is_set():
                return
            try:
                chunks = llm.create_completion(list(ids), stream=True, stopping_criteria=StoppingCriteriaList([stopped]),
                                               **sampling_kwargs(params))
            except ValueError as exc:  # e.g. "Requested tokens exceed context window"
                raise BackendError(f"Local generation failed: {exc}") from exc
            try:
                for chunk in chunks:
                    text = chunk["choices"][0]["text"]
                    if text:
                        yield text
                    if stop is not None and stop.is_set():
                        break
            except (RuntimeError, ValueError) as exc:
                raise BackendError(f"Local generation failed: {exc}") from exc
            finally:
                chunks.close()

    def generate(self, messages: Sequence[Message], params: SamplingParams = SamplingParams(), **kw: Any) -> str:
        return "".join(self.stream(messages, params, **kw))

    # ---- next-token probabilities ---------------------------------------------------------

    def next_token_probs(self, prompt: str | Sequence[Message], k: int = 10,
                         temperature: float = 1.0) -> list[TokenProb]:
        """The ``k`` most likely next tokens after ``prompt`` (rendered text, or messages to render)."""
        import numpy as np

        text = prompt if isinstance(prompt, str) else self.render_prompt(prompt)
        ids = self.prompt_ids(text)
        if not ids:
            raise LabError("The prompt is empty: type something for the model to continue.")
        pool = self.pool()
        check_prompt_length(len(ids), 1, pool.context_window)
        with pool.instance(self.acquire_timeout_s) as llm:
            llm.reset()
            llm.eval(ids)
            n_vocab = llm.n_vocab()
            logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(n_vocab,)).astype(np.float64)
        scaled = logits / max(temperature, 1e-6)
        probs = np.exp(scaled - scaled.max())
        probs /= probs.sum()
        top = np.argsort(-probs)[: max(1, k)]
        return [TokenProb(int(i), pool.piece(int(i)), float(probs[i]), float(logits[i])) for i in top
                if math.isfinite(float(probs[i]))]


def warm(model_name: str = "chat-smollm2-135m") -> float:
    """Create every instance of the model's pool now (start-up warm-up); returns seconds taken."""
    start = time.perf_counter()
    pool = pool_for(model_name)
    held = [pool.acquire() for _ in range(pool.instances)]
    for llm in held:
        pool.release(llm)
    return time.perf_counter() - start
