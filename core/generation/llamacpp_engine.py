"""The llama.cpp engine: GGUF files run as they are, through ``llama-cpp-python``.

The default for CPU generation (see :mod:`core.generation.factory`). Quantised weights stay
quantised (SmolLM2's Q4_1, Phi-3-mini's q4), so a 2-core laptop decodes several times faster than
transformers on de-quantised fp32 weights (docs/BENCHMARKS.md, "Engines").

* **The GGUF's own chat template** (``tokenizer.chat_template`` in the file's metadata), rendered with
  llama-cpp-python's Jinja formatter; the rendered text is tokenized with special tokens *parsed*
  (``<|im_start|>`` is one id, not eight pieces of text), and BOS is added only where the file says so.
* **An engine pool** (:mod:`core.generation.llamacpp_pool`): several ``Llama`` instances on the same
  mmap'ed file; a request borrows a free one (waiting in a queue when all are busy) for its stream.
* **Stop**: the stream checks the ``stop`` event between tokens (and llama.cpp's stopping criteria
  check it inside the decode loop), so a stop lands within one token (~10–30 ms here).

``llama_cpp`` is imported only when an engine is used, never at import of this module; it is an
optional dependency (Space requirements do not list it: ZeroGPU runs transformers).
"""
from __future__ import annotations

import importlib
import logging
import math
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from core.errors import BackendError, LabError
from core.generation.llamacpp_pool import (EnginePool, InstanceMemory, close_all, memory_report, pool_for,  # noqa: F401 - re-exported
                                           pool_settings, pools, warm)
from core.generation.params import (Message, SamplingParams, check_messages, check_prompt_length,
                                    with_system_prompt)
from core.generation.transformers_engine import LocalBackend

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
            # Evaluate the whole prompt afresh: reusing another request's cached prefix evaluates its
            # last token alone, with slightly different float results, so the same seed (or greedy
            # decoding) could give another text. Reproducible runs (sweeps, notebooks) need this.
            llm.reset()
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

