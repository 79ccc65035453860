"""The model catalogue: one typed entry per model the lab can use.

Each entry names the book's production model on the Hugging Face Hub (pinned revision) and the
offline source that stands in for it on machines without the Hub. Which of the two is used is the
``mode`` setting; both go through :mod:`core.loader`. Apps add entries for their own models with
:func:`register` (at import of their core module), so this file stays the shared base.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.settings import Mode, get_settings

#: How an ``offline_label`` ends: the name of what runs, then this.
OFFLINE = " (offline)"


@dataclass(frozen=True)
class ModelEntry:
    """A model the lab knows how to load."""

    name: str  # logical name used by code, e.g. "embed-gte-small"
    task: str  # "sentence-embedding", "chat", "text2text", "text-classification", "image-classification", ...
    loader: str  # key of the load function in core.loader.LOADERS
    hub_id: str  # the book's (production) model on the Hub; "" if offline-only
    hub_revision: str  # pinned commit on the Hub ("main" until pinned; see spaces/README)
    offline_source: str | None  # asset name (core.assets) or None when no offline copy exists
    size_mb: int  # approximate memory once loaded (drives the LRU budget)
    licence: str
    chapter: int  # book chapter (Hands-On Large Language Models)
    label: str = ""  # short human name shown in the UI
    offline_label: str = ""  # what actually runs offline, shown in the UI
    gated: bool = False
    notes: str = ""
    # llama.cpp (CPU) in hub mode: a GGUF file on the Hub, fetched with
    # ``hf_hub_download(gguf_repo, gguf_file, revision=gguf_revision)``; "" = no GGUF (transformers runs it)
    gguf_repo: str = ""
    gguf_file: str = ""
    gguf_revision: str = "main"

    def available_in(self, mode: Mode) -> bool:
        return bool(self.hub_id) if mode == "hub" else self.offline_source is not None

    def display(self, mode: Mode) -> str:
        """What the UI should say is running in ``mode``."""
        if mode == "hub":
            return self.hub_id
        return self.offline_label or self.label or self.name


_ENTRIES: dict[str, ModelEntry] = {}


def register(*entries: ModelEntry) -> None:
    """Add entries (re-registering the same name with the same entry is a no-op)."""
    for entry in entries:
        old = _ENTRIES.get(entry.name)
        if old is not None and old != entry:
            raise ValueError(f"model {entry.name!r} is already registered differently")
        _ENTRIES[entry.name] = entry


def get(name: str) -> ModelEntry:
    try:
        return _ENTRIES[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(sorted(_ENTRIES))}") from None


def entries(task: str | None = None) -> list[ModelEntry]:
    return [e for e in _ENTRIES.values() if task is None or e.task == task]


@dataclass(frozen=True)
class Offer:
    """What a model dropdown offers in one mode (see :func:`offer`)."""

    choices: list[tuple[str, str]]  # (label, name): one per model that really runs in this mode
    value: str | None  # the preselected name: the caller's default when available, else the first choice
    names: tuple[str, ...]  # every name available in this mode: API callers may pass any of them
    info: str  # offline: which of the book's models stand behind the choices and where they run; hub: ""

    @property
    def collapsed(self) -> bool:
        """True when some available names are not listed (each runs what a listed choice runs)."""
        return len(self.choices) < len(self.names)


def _runs_offline(e: ModelEntry) -> str:
    """The name of the model that runs for ``e`` offline (its ``offline_label`` without " (offline)")."""
    return e.offline_label.removesuffix(OFFLINE) or e.label or e.name


def _book(e: ModelEntry) -> str:
    return e.label or e.name


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _runs(names: list[str]) -> str:
    return "runs" if len(names) == 1 else "run"


def offer(task: str, default: str | None = None, mode: Mode | None = None,
          names: Sequence[str] | None = None) -> Offer:
    """The choices of a model dropdown for ``task`` (only ``names`` when given, in catalogue order).

    Hub mode lists every available model under its book name. Offline, models that share an offline
    copy run the same model, so they are listed once: as ``default`` when it is one of them (the
    name the app already uses keeps working), else as the one that is itself what runs, else the
    first; the label says what runs and which book model runs in hub mode instead.
    """
    mode = mode or get_settings().mode
    wanted = None if names is None else set(names)
    known = [e for e in entries(task) if wanted is None or e.name in wanted]
    avail = [e for e in known if e.available_in(mode)]
    choices, info = [(_book(e), e.name) for e in avail], ""
    if mode != "hub":
        groups: dict[str | None, list[ModelEntry]] = {}
        for e in avail:
            groups.setdefault(e.offline_source, []).append(e)
        choices, runs = [], []
        for group in groups.values():
            rep = next((e for e in group if e.name == default), None) \
                or next((e for e in group if _book(e) == _runs_offline(e)), group[0])
            runs.append(_runs_offline(rep))
            label = rep.display(mode) if _book(rep) == runs[-1] or not rep.hub_id \
                else f"{runs[-1]} (offline; the book's {_book(rep)} runs in hub mode)"
            choices.append((label, rep.name))
        book = [_book(e) for e in known if e.hub_id and (not e.available_in(mode) or _book(e) not in runs)]
        if book:
            here = f"Offline, {_and(runs)} {_runs(runs)} here on the lab's server. " if runs else ""
            info = (f"{here}The book's {_and(book)} {_runs(book)} in hub mode (LLM_LAB_MODE=hub: from the "
                    "Hugging Face Hub, the default on a Space).")
    listed = [name for _, name in choices]
    value = default if default in listed else (listed[0] if listed else None)
    return Offer(choices, value, tuple(e.name for e in avail), info)


# Pinned Hub revisions: commit SHAs of each model repo as recorded in public Hugging Face cache
# snapshot paths (``models--<org>--<name>/snapshots/<sha>``) in public repositories (spaces/README.md).
# Where several commits of a repo are on record (Phi-3-mini, BLIP-2, Twitter-RoBERTa), the one seen
# in the most independent records is pinned; a Space built from this catalogue asks for exactly it.
MINILM = "all-MiniLM-L6-v2" + OFFLINE
SMOL = "SmolLM2-135M-Instruct" + OFFLINE

register(
    # --- sentence embeddings (ch. 2, 4, 5, 8) ----------------------------------------------
    ModelEntry("embed-minilm", "sentence-embedding", "sentence-transformer",
               "sentence-transformers/all-MiniLM-L6-v2", "c9745ed1d9f207416be6d2e6f8de32d1f16199bf", "minilm", 90, "Apache-2.0", 10,
               label="all-MiniLM-L6-v2", offline_label=MINILM),
    ModelEntry("embed-mpnet", "sentence-embedding", "sentence-transformer",
               "sentence-transformers/all-mpnet-base-v2", "e8c3b32edf5434bc2275fc9bab85f82640a19130", "minilm", 420, "Apache-2.0", 4,
               label="all-mpnet-base-v2", offline_label=MINILM),
    ModelEntry("embed-gte-small", "sentence-embedding", "sentence-transformer",
               "thenlper/gte-small", "17e1f347d17fe144873b1201da91788898c639cd", "minilm", 130, "MIT", 5,
               label="gte-small", offline_label=MINILM),
    ModelEntry("embed-bge-small", "sentence-embedding", "sentence-transformer",
               "BAAI/bge-small-en-v1.5", "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a", "minilm", 130, "MIT", 8,
               label="bge-small-en-v1.5", offline_label=MINILM),
    # --- chat / generation (ch. 1, 3, 6, 7, 8, 12) -------------------------------------------
    # On CPU these run through llama.cpp from a GGUF file: offline the packaged SmolLM2 Q4_1, in hub
    # mode the GGUF named here, pinned to a snapshot SHA seen in public cache records of that repo
    # and file. The SmolLM2 GGUFs come from the repos with such records (unsloth's Q4_K_M for 135M,
    # the official Q8_0 for 360M); offline, the packaged QuantFactory Q4_1 runs instead.
    ModelEntry("chat-phi3-mini", "chat", "causal-lm",
               "microsoft/Phi-3-mini-4k-instruct", "f39ac1d28e925b323eae81227eaba4464caced4e", "smollm2", 7_700, "MIT", 6,
               label="Phi-3-mini-4k-instruct", offline_label=SMOL,
               gguf_repo="microsoft/Phi-3-mini-4k-instruct-gguf", gguf_file="Phi-3-mini-4k-instruct-q4.gguf",
               gguf_revision="999f761fe19e26cf1a339a5ec5f9f201301cbb83"),
    ModelEntry("chat-qwen2.5-0.5b", "chat", "causal-lm",
               "Qwen/Qwen2.5-0.5B-Instruct", "7ae557604adf67be50417f59c2c2f167def9a775", "smollm2", 1_000, "Apache-2.0", 6,
               label="Qwen2.5-0.5B-Instruct", offline_label=SMOL,
               gguf_repo="Qwen/Qwen2.5-0.5B-Instruct-GGUF", gguf_file="qwen2.5-0.5b-instruct-q4_k_m.gguf",
               gguf_revision="9217f5db79a29953eb74d5343926648285ec7e67"),
    ModelEntry("chat-qwen2.5-1.5b", "chat", "causal-lm",
               "Qwen/Qwen2.5-1.5B-Instruct", "989aa7980e4cf806f80c7fef2b1adb7bc71aa306", "smollm2", 3_100, "Apache-2.0", 6,
               label="Qwen2.5-1.5B-Instruct", offline_label=SMOL,
               gguf_repo="Qwen/Qwen2.5-1.5B-Instruct-GGUF", gguf_file="qwen2.5-1.5b-instruct-q4_k_m.gguf",
               gguf_revision="91cad51170dc346986eccefdc2dd33a9da36ead9"),
    ModelEntry("chat-tinyllama", "chat", "causal-lm",
               "TinyLlama/TinyLlama-1.1B-Chat-v1.0", "fe8a4ea1ffedaf415f4da2f062534de366a451e6", "smollm2", 2_200, "Apache-2.0", 12,
               label="TinyLlama-1.1B-Chat", offline_label=SMOL,
               gguf_repo="TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", gguf_file="tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf",
               gguf_revision="52e7645ba7c309695bec7ac98f4f005b139cf465"),
    ModelEntry("chat-smollm2-135m", "chat", "causal-lm",
               "HuggingFaceTB/SmolLM2-135M-Instruct", "12fd25f77366fa6b3b4b768ec3050bf629380bac", "smollm2", 560, "Apache-2.0", 6,
               label="SmolLM2-135M-Instruct", offline_label=SMOL,
               gguf_repo="unsloth/SmolLM2-135M-Instruct-GGUF", gguf_file="SmolLM2-135M-Instruct-Q4_K_M.gguf",
               gguf_revision="9e6855bc4be717fca1ef21360a1db4b29d5c559a"),
    ModelEntry("chat-smollm2-360m", "chat", "causal-lm",
               "HuggingFaceTB/SmolLM2-360M-Instruct", "a10cc1512eabd3dde888204e902eca88bddb4951", "smollm2", 1_450, "Apache-2.0", 6,
               label="SmolLM2-360M-Instruct", offline_label=SMOL,
               gguf_repo="HuggingFaceTB/SmolLM2-360M-Instruct-GGUF", gguf_file="smollm2-360m-instruct-q8_0.gguf",
               gguf_revision="593b5a2e04c8f3e4ee880263f93e0bd2901ad47f"),
    ModelEntry("text2text-flan-t5-small", "text2text", "seq2seq-lm",
               "google/flan-t5-small", "0fc9ddf78a1e988dac52e2dac162b0ede4fd74ab", None, 310, "Apache-2.0", 4,
               label="flan-t5-small", notes="offline: use chat-smollm2-135m instead"),
    # --- classification (ch. 4) ---------------------------------------------------------------
    ModelEntry("sentiment-roberta", "text-classification", "text-classification",
               "cardiffnlp/twitter-roberta-base-sentiment-latest", "4ba3d4463bd152c9e4abd892b50844f30c646708", None, 500, "CC-BY-4.0", 4,
               label="twitter-roberta-base-sentiment-latest",
               notes="offline: the lab fine-tunes its own classifier (Classifier Zoo)"),
    # --- vision (ch. 9) -------------------------------------------------------------------------
    ModelEntry("clip-vit-b32", "zero-shot-image-classification", "clip",
               "openai/clip-vit-base-patch32", "3d74acf9a28c67741b2f4f2ea7635f0aaf6f0268", None, 610, "MIT", 9, label="CLIP ViT-B/32"),
    ModelEntry("blip-caption-base", "image-to-text", "blip",
               "Salesforce/blip-image-captioning-base", "82a37760796d32b1411fe092ab5d4e227313294b", None, 990, "BSD-3-Clause", 9,
               label="BLIP captioning base"),
    ModelEntry("blip2-opt-2.7b", "image-to-text", "blip2",
               "Salesforce/blip2-opt-2.7b", "235c75ea3861136b9dd202c6edc6a7ba285c35e3", None, 7_800, "MIT", 9, label="BLIP-2 OPT-2.7b"),
    ModelEntry("efficientnet-lite0", "image-classification", "efficientnet",
               "", "main", "efficientnet-lite0", 20, "Apache-2.0", 9,
               label="EfficientNet-Lite0 (ImageNet-1k)", offline_label="EfficientNet-Lite0 (offline)"),
)
