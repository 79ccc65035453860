"""Picking an engine: backends from the UI's values, the catalogue's chat models, sampling from UI values.

Local chat models run on

* **llama.cpp** (:class:`~core.generation.llamacpp_engine.LlamaCppBackend`) on CPU when
  llama-cpp-python imports and the model has a GGUF file in this mode (offline: the packaged
  SmolLM2 Q4_1; hub: the catalogue's ``gguf_repo``/``gguf_file``);
* **transformers** (:class:`~core.generation.transformers_engine.LocalBackend`) on GPU / ZeroGPU,
  where llama.cpp is missing, for models without a GGUF file, and whenever the caller needs logits
  or logits processors (``need_logits=True``: the next-token view, llguidance-constrained output).

``LLM_LAB_ENGINE`` (auto | llamacpp | transformers) overrides the choice; ``auto`` is the default.
"""
from __future__ import annotations

import logging
from typing import Any

from core.errors import LabError
from core.generation import llamacpp_engine
from core.generation.openai_engine import OpenAIBackend
from core.generation.params import SamplingParams
from core.generation.transformers_engine import LocalBackend
from core.settings import get_settings

log = logging.getLogger(__name__)

LOCAL = "Local model"
REMOTE = "OpenAI-compatible server"

LLAMACPP = "llamacpp"
TRANSFORMERS = "transformers"
ENGINES = ("auto", LLAMACPP, TRANSFORMERS)
#: How each engine is named in the UI and ``lab_info``.
ENGINE_LABELS = {LLAMACPP: "llama.cpp", TRANSFORMERS: "transformers"}


def on_gpu() -> bool:
    """True where models run on a GPU (ZeroGPU Spaces). Never imports torch or touches CUDA."""
    from core.gpu import device

    return device() == "cuda" or get_settings().zero_gpu


def choose_engine(model_name: str | None = None, *, need_logits: bool = False,
                  engine: str | None = None) -> tuple[str, str]:
    """(engine, reason) for a local chat model: ``"llamacpp"`` or ``"transformers"``."""
    from core import loader

    wanted = (engine or get_settings().engine or "auto").lower().replace(".", "").replace("-", "").replace("_", "")
    if wanted not in ENGINES:
        log.warning("unknown engine %r (LLM_LAB_ENGINE): using auto", wanted)
        wanted = "auto"
    if need_logits:
        return TRANSFORMERS, "this view needs the model's logits"
    if wanted == TRANSFORMERS:
        return TRANSFORMERS, "LLM_LAB_ENGINE=transformers"
    if wanted == "auto" and on_gpu():
        return TRANSFORMERS, "GPU: transformers runs on the GPU"
    if not llamacpp_engine.available():
        return TRANSFORMERS, "llama-cpp-python is not installed"
    if model_name is not None and not loader.has_gguf(model_name):
        return TRANSFORMERS, "no GGUF file for this model"
    return LLAMACPP, "CPU: llama.cpp runs the GGUF file" if wanted == "auto" else "LLM_LAB_ENGINE=llamacpp"


def local_backend(model_name: str = "chat-smollm2-135m", *, system_prompt: str | None = None,
                  need_logits: bool = False, engine: str | None = None) -> Any:
    """The engine that should run local chat model ``model_name`` here (see :func:`choose_engine`)."""
    chosen, _ = choose_engine(model_name, need_logits=need_logits, engine=engine)
    if chosen == LLAMACPP:
        return llamacpp_engine.LlamaCppBackend(model_name, system_prompt=system_prompt)
    return LocalBackend(model_name, system_prompt=system_prompt)


def make_backend(kind: str, model_name: str = "chat-smollm2-135m", base_url: str = "", model: str = "",
                 api_key: str = "", timeout_s: float | None = None, *, need_logits: bool = False,
                 engine: str | None = None, system_prompt: str | None = None) -> Any:
    """A backend from the UI's settings. The key stays in the returned object (never logged).

    ``need_logits=True`` (or ``engine="transformers"``) asks for the transformers engine: logits,
    logits processors. Otherwise local models run on llama.cpp on CPU when it is installed.
    """
    if kind == REMOTE:
        return OpenAIBackend((base_url or "").strip(), (model or "").strip(), (api_key or "").strip(), timeout_s,
                             system_prompt=system_prompt)
    if kind != LOCAL:
        raise LabError(f"Unknown backend {kind!r}.")
    from core import catalogue

    try:
        entry = catalogue.get(model_name)
    except KeyError:
        raise LabError(f"Unknown model {model_name!r}.") from None
    if entry.task != "chat":
        raise LabError(f"{model_name} is not a chat model.")
    return local_backend(model_name, system_prompt=system_prompt, need_logits=need_logits, engine=engine)


def engine_name(model_name: str | None = "chat-smollm2-135m") -> str:
    """"llama.cpp" or "transformers": what runs local generation here (for the header)."""
    return ENGINE_LABELS[choose_engine(model_name)[0]]


def engine_info(model_name: str | None = "chat-smollm2-135m") -> dict[str, Any]:
    """Which engine runs local generation and why, its pool settings and memory (for ``lab_info``)."""
    chosen, reason = choose_engine(model_name)
    info: dict[str, Any] = {"engine": ENGINE_LABELS[chosen], "reason": reason,
                            "setting": get_settings().engine,
                            "llama_cpp": llamacpp_engine.version() or "not installed"}
    if chosen == LLAMACPP:
        instances, threads = llamacpp_engine.pool_settings()
        info.update(instances=instances, threads_per_instance=threads,
                    memory=llamacpp_engine.memory_report())
    return info


def chat_models(default: str | None = None) -> list[tuple[str, str]]:
    """(label, name) for the catalogue's chat models, as shown in the current mode: hub mode lists
    every one, offline lists what really runs once, as ``default`` when given (:func:`core.catalogue.offer`)."""
    from core import catalogue

    return catalogue.offer("chat", default).choices


def sampling(temperature: float, top_p: float, top_k: float, max_new_tokens: float, repetition_penalty: float,
             seed: Any, greedy: bool) -> SamplingParams:
    """SamplingParams from UI values (None/"" seed = random), validated with one clear message."""
    try:
        seed_value = None if seed in (None, "", -1) else int(seed)
        params = SamplingParams(max_new_tokens=int(max_new_tokens), temperature=float(temperature),
                                top_p=float(top_p), top_k=int(top_k), repetition_penalty=float(repetition_penalty),
                                seed=seed_value, greedy=bool(greedy))
    except (TypeError, ValueError):
        raise LabError("Invalid sampling settings: every value must be a number.") from None
    return params.validate()
