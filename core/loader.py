"""Load catalogue models once per process, with an LRU bound on memory.

``load(name)`` returns the model for the current mode: the Hub model (pinned revision) in ``hub``
mode, the packaged offline model in ``offline`` mode, where nothing may touch the network. A model
that cannot be had raises :class:`~core.errors.ModelUnavailable` with one actionable line.
Heavy libraries are imported inside the load functions, never at import of this module.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from core import catalogue
from core.assets import asset_dir
from core.catalogue import ModelEntry
from core.errors import ModelUnavailable
from core.settings import Settings, get_settings, set_offline_env

log = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_CACHE = "smollm2-135m-instruct"
#: Approximate in-memory size of offline copies (catalogue sizes describe the Hub models).
OFFLINE_SIZE_MB = {"smollm2": 560, "minilm": 90, "efficientnet-lite0": 20}


@dataclass
class CausalLM:
    """A causal language model with its tokenizer (what ``causal-lm`` entries load to)."""

    model: Any
    tokenizer: Any
    entry: ModelEntry
    source: str  # hub id or local folder actually loaded

    @property
    def context_window(self) -> int:
        cfg = self.model.config
        return int(getattr(cfg, "max_position_embeddings", 0) or getattr(self.tokenizer, "model_max_length", 2048))


def offline_env() -> None:
    """Make Hugging Face libraries refuse the network (offline mode; ``core`` already did this at
    import, this repeats it for code that changed the environment since)."""
    set_offline_env()


def configure_torch(settings: Settings | None = None) -> None:
    """Apply thread settings once torch is needed (2-core machines: avoid oversubscription)."""
    import torch

    settings = settings or get_settings()
    if settings.torch_threads > 0:
        torch.set_num_threads(settings.torch_threads)


# --------------------------------------------------------------------------------------------
# load functions, one per ``ModelEntry.loader``
# --------------------------------------------------------------------------------------------

def _load_sentence_transformer(entry: ModelEntry, settings: Settings) -> Any:
    from sentence_transformers import SentenceTransformer

    from core.gpu import device

    if settings.offline:
        return SentenceTransformer(str(asset_dir(entry.offline_source or "minilm")), device="cpu")
    return SentenceTransformer(entry.hub_id, revision=entry.hub_revision, device=device())


def smollm2_folder(settings: Settings | None = None) -> Path:
    """The converted, fast-loading SmolLM2 folder (created by ``prepare_offline_models``)."""
    return (settings or get_settings()).models_dir / SMOLLM2_CACHE


def _load_causal_lm(entry: ModelEntry, settings: Settings) -> CausalLM:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from core.gpu import device

    if settings.offline:
        folder = smollm2_folder(settings)
        if not (folder / "config.json").exists():
            convert_smollm2(settings)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        return CausalLM(model, tokenizer, entry, str(folder))
    tokenizer = AutoTokenizer.from_pretrained(entry.hub_id, revision=entry.hub_revision)
    model = AutoModelForCausalLM.from_pretrained(
        entry.hub_id, revision=entry.hub_revision, dtype="auto").to(device()).eval()
    return CausalLM(model, tokenizer, entry, entry.hub_id)


def gguf_file(name: str, settings: Settings | None = None) -> Path:
    """The GGUF file llama.cpp runs for catalogue chat model ``name`` in the current mode.

    Offline: the packaged SmolLM2 Q4_1 file (``python -m core.assets fetch``). Hub: the entry's
    ``gguf_repo``/``gguf_file`` at ``gguf_revision`` through ``hf_hub_download`` (cached by the Hub
    client). Raises :class:`ModelUnavailable` when the model has no GGUF file in this mode.
    """
    settings = settings or get_settings()
    entry = available_entry(name, settings)
    if settings.offline:
        if entry.offline_source != "smollm2":
            raise ModelUnavailable(f"{entry.label or entry.name} has no offline GGUF file.")
        offline_env()
        return asset_dir("smollm2") / SMOLLM2_GGUF
    if not (entry.gguf_repo and entry.gguf_file):
        raise ModelUnavailable(f"{entry.label or entry.name} has no GGUF file in the catalogue.",
                               hint="It runs with transformers (LLM_LAB_ENGINE=transformers).")
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(entry.gguf_repo, entry.gguf_file, revision=entry.gguf_revision))
    except Exception as exc:  # noqa: BLE001 - network, missing file, gated repo: one clear line
        raise ModelUnavailable(
            f"Could not download {entry.gguf_repo}/{entry.gguf_file}: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}",
            hint="Check the network and the Hub token, or set LLM_LAB_ENGINE=transformers.") from exc


def has_gguf(name: str, settings: Settings | None = None) -> bool:
    """Whether ``name`` can run on llama.cpp in the current mode (without downloading anything)."""
    settings = settings or get_settings()
    try:
        entry = catalogue.get(name)
    except KeyError:
        return False
    if not entry.available_in(settings.mode):
        return False
    if settings.offline:
        return entry.offline_source == "smollm2"
    return bool(entry.gguf_repo and entry.gguf_file)


def gguf_size_mb(path: Path, instances: int, n_ctx: int) -> int:
    """Approximate memory of an engine pool for the LRU budget: the file (mmap'ed once, shared by the
    instances) plus a KV-cache allowance per instance (measured figures: ``core.generation.engine_info``)."""
    try:
        file_mb = path.stat().st_size / 2**20
    except OSError:
        file_mb = 100.0
    per_instance = max(32.0, file_mb * 0.25) * max(1, n_ctx) / 4096
    return int(file_mb + instances * per_instance)


def _load_seq2seq_lm(entry: ModelEntry, settings: Settings) -> CausalLM:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from core.gpu import device

    if settings.offline:
        raise ModelUnavailable(f"{entry.label or entry.name} has no offline copy.",
                               hint="Set LLM_LAB_MODE=hub on a machine that reaches the Hugging Face Hub.")
    tokenizer = AutoTokenizer.from_pretrained(entry.hub_id, revision=entry.hub_revision)
    model = AutoModelForSeq2SeqLM.from_pretrained(entry.hub_id, revision=entry.hub_revision).to(device()).eval()
    return CausalLM(model, tokenizer, entry, entry.hub_id)


def _load_hub_only(kind: str) -> Callable[[ModelEntry, Settings], Any]:
    """Loaders for models that exist only on the Hub (``transformers.pipeline`` tasks)."""

    def load(entry: ModelEntry, settings: Settings) -> Any:
        if settings.offline:
            raise ModelUnavailable(f"{entry.label or entry.name} has no offline copy.",
                                   hint="Set LLM_LAB_MODE=hub on a machine that reaches the Hugging Face Hub.")
        from transformers import pipeline

        from core.gpu import device

        return pipeline(kind, model=entry.hub_id, revision=entry.hub_revision, device=device())

    return load


LOADERS: dict[str, Callable[[ModelEntry, Settings], Any]] = {
    "sentence-transformer": _load_sentence_transformer,
    "causal-lm": _load_causal_lm,
    "seq2seq-lm": _load_seq2seq_lm,
    "text-classification": _load_hub_only("text-classification"),
}


def register_loader(key: str, fn: Callable[[ModelEntry, Settings], Any]) -> None:
    """Let an app's core module add a load function (e.g. ``clip``, ``efficientnet``)."""
    LOADERS[key] = fn


# --------------------------------------------------------------------------------------------
# the cache
# --------------------------------------------------------------------------------------------

class ModelCache:
    """Loaded models keyed by (name, mode): a client of the lab-wide budgeted LRU (:mod:`core.cache`).

    Models count against ``LLM_LAB_MEMORY_MB`` with everything else the lab keeps, and on their own
    are capped at ``budget_mb`` (``LLM_LAB_MODEL_MEMORY_MB``). A model larger than the budget is
    still kept (alone): reloading it on every call would be worse. ``registry`` None gives the cache
    a private registry (tests); :func:`cache` puts the process-wide one in the lab's registry.
    """

    def __init__(self, budget_mb: int, registry: Any = None) -> None:
        from core.cache import MB, BudgetCache, Registry

        self.budget_mb = budget_mb
        self._store = BudgetCache("models", max_bytes=budget_mb * MB, keep_oversize=True,
                                  registry=registry if registry is not None else Registry())
        self.loads = 0  # how many real loads happened (tests assert on it)

    def get(self, key: tuple[str, str], size_mb: int, factory: Callable[[], Any]) -> Any:
        """The model cached under ``key``, or ``factory()`` loaded once (concurrent callers wait)."""
        from core.cache import MB

        def build() -> Any:
            value = factory()
            self.loads += 1
            return value

        return self._store.get_or_create(key, build, size=int(size_mb * MB))

    def discard(self, key: tuple[str, str]) -> None:
        """Forget one model (no error when it is not loaded)."""
        self._store.discard(key)

    def loaded(self) -> list[tuple[str, str]]:
        """Keys of the loaded models, least recently used first."""
        return list(self._store.keys())  # type: ignore[arg-type]

    def clear(self) -> None:
        self._store.clear()


_cache: ModelCache | None = None


def cache() -> ModelCache:
    """The process-wide model cache (one copy of each model, in the lab-wide memory budget)."""
    global _cache
    if _cache is None:
        from core.cache import registry

        _cache = ModelCache(get_settings().model_memory_mb, registry=registry())
    return _cache


def available_entry(name: str, settings: Settings) -> ModelEntry:
    """The catalogue entry ``name``, or :class:`ModelUnavailable` when the mode cannot run it."""
    entry = catalogue.get(name)
    if not entry.available_in(settings.mode):
        where = "offline" if settings.offline else "on the Hub"
        raise ModelUnavailable(f"{entry.label or entry.name} is not available {where}.",
                               hint=entry.notes or "Switch LLM_LAB_MODE to use it.")
    return entry


def load(name: str) -> Any:
    """The loaded model for catalogue entry ``name`` in the current mode (cached). A session's trained
    model (``session:...``, :mod:`core.training.session_models`) resolves for that session only."""
    if name.startswith("session:"):
        from core.training import session_models

        return session_models.load(name)
    settings = get_settings()
    entry = available_entry(name, settings)
    if settings.offline:
        offline_env()
    loader = LOADERS.get(entry.loader)
    if loader is None:
        raise ModelUnavailable(f"No loader '{entry.loader}' is registered for {entry.name}.")

    def factory() -> Any:
        configure_torch(settings)
        try:
            return loader(entry, settings)
        except ModelUnavailable:
            raise
        except OSError as exc:  # missing files, no network in offline mode, gated repo
            raise ModelUnavailable(
                f"Could not load {entry.display(settings.mode)}: {str(exc).splitlines()[0][:200]}",
                hint="Offline: run `python -m core.assets fetch`. Hub: check the model id, token and network.",
            ) from exc

    # sharing the key between names that resolve to the same offline copy keeps one copy in memory
    key = (entry.offline_source or entry.name, entry.loader) if settings.offline else (entry.name, "hub")
    size_mb = OFFLINE_SIZE_MB.get(entry.offline_source or "", 100) if settings.offline else entry.size_mb
    return cache().get(key, size_mb, factory)


# --------------------------------------------------------------------------------------------
# one-time conversions, run by ``python -m core.assets fetch``
# --------------------------------------------------------------------------------------------

def convert_smollm2(settings: Settings | None = None, report: Callable[[str], None] = log.info) -> Path:
    """Dequantise the packaged SmolLM2 GGUF once and save a fast-loading transformers folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    settings = settings or get_settings()
    offline_env()
    target = smollm2_folder(settings)
    if (target / "config.json").exists():
        return target
    source = asset_dir("smollm2")
    report(f"  converting {SMOLLM2_GGUF} → {target} (once, ~15 s)")
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=SMOLLM2_GGUF)
    gguf_model = AutoModelForCausalLM.from_pretrained(source, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    fresh = AutoModelForCausalLM.from_config(gguf_model.config)
    fresh.load_state_dict(gguf_model.state_dict())
    fresh.generation_config = gguf_model.generation_config
    staging = target.with_name(target.name + ".partial")
    fresh.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    staging.rename(target)
    return target


def prepare_offline_models(report: Callable[[str], None] = print) -> None:
    """Conversion step of ``core.assets fetch`` for the shared models."""
    convert_smollm2(report=report)
