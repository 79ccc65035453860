"""llama.cpp vocabulary GGUF files → transformers tokenizer folders, corrected to the real tokenizer.

transformers' GGUF reader rebuilds a ``tokenizer.json`` from the GGUF metadata, but the GGUF file
only names its pre-tokenizer (``tokenizer.ggml.pre = "llama-bpe"``), so the reader falls back to
generic settings and loses what the model's own ``tokenizer.json`` says. llama.cpp's test vectors
(``ggml-vocab-*.gguf.out``) were written by the *original* Hugging Face tokenizers
(``convert_hf_to_gguf_update.py``), so every mismatch is a conversion error. :data:`FIXES` restores,
per vocabulary, what its model really uses (checked against llama.cpp's ``llama-vocab.cpp``, which
copies each model's pre-tokenizer, and the models' published ``tokenizer.json``):

========================  =================================================================
llama-bpe (Llama 3)       ``model.ignore_merges = true`` (a word already in the vocabulary is one
                          token, whatever the merges say — Vietnamese was over-counted without
                          it); no extra ``<|endoftext|>`` (Llama 3 has 256 special tokens,
                          128000–128255); ``<|begin_of_text|>`` added like Meta's post-processor.
llama-spm (Llama 2)       the legacy normalizer (prepend ``▁``, spaces → ``▁``) instead of a
                          ``Metaspace`` pre-tokenizer, which skips the dummy prefix before a
                          leading space.
starcoder                 ``Digits(individual_digits)`` before byte-level BPE.
deepseek-coder / -llm     DeepSeek's split regexes (letters, punctuation, CJK, digits); the
                          ``<｜…｜>`` control tokens keep their ids (32013… / 100000…) instead of
                          being appended again after the vocabulary.
falcon                    ``Punctuation`` + byte-level + ``Digits`` + a three-digit split.
========================  =================================================================
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger(__name__)

#: Bump when :data:`FIXES` changes: folders converted by an older version are patched again.
CONVERSION_VERSION = 2
MARKER = "lab_conversion.json"


def _split(regex: str) -> dict[str, Any]:
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}


def _byte_level(use_regex: bool) -> dict[str, Any]:
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": use_regex}


#: DeepSeek LLM's letter class, as in its tokenizer.json / llama.cpp (characters that NFC would
#: change are written as escapes so an editor cannot normalise them away).
_DEEPSEEK_LETTERS = (
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝ"
    "Ὗ-\u1f7dᾀ-ᾴᾶ-ᾼ\u1fbeῂ-ῄῆ-ῌῐ-\u1fd3ῖ-\u1fdbῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212a-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳ"
    "Ꙁ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+")
_CJK = "[一-龥ࠀ-一가-퟿]+"


def _pre(*steps: dict[str, Any]) -> Callable[[dict], None]:
    def apply(data: dict) -> None:
        data["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": list(steps)}
    return apply


def _ignore_merges(data: dict) -> None:
    data["model"]["ignore_merges"] = True


def _legacy_spm(data: dict) -> None:
    data["pre_tokenizer"] = None
    data["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}


def _bos(token: str) -> Callable[[dict], None]:
    def apply(data: dict) -> None:
        ids = [a["id"] for a in data["added_tokens"] if a["content"] == token]
        if not ids:
            return
        special = [{"SpecialToken": {"id": token, "type_id": 0}}]
        data["post_processor"] = {
            "type": "TemplateProcessing",
            "single": special + [{"Sequence": {"id": "A", "type_id": 0}}],
            "pair": special + [{"Sequence": {"id": "A", "type_id": 0}}] + special
            + [{"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {token: {"id": token, "ids": ids[:1], "tokens": [token]}}}
    return apply


#: stem → the steps that make the converted tokenizer the model's own (see the module docstring).
FIXES: dict[str, tuple[Callable[[dict], None], ...]] = {
    "llama-bpe": (_ignore_merges, _bos("<|begin_of_text|>")),
    "llama-spm": (_legacy_spm,),
    "starcoder": (_pre({"type": "Digits", "individual_digits": True}, _byte_level(True)),),
    "deepseek-coder": (_pre(_split("[\r\n]"), _split("\\s?\\p{L}+"), _split("\\s?\\p{P}+"), _split(_CJK),
                            {"type": "Digits", "individual_digits": True}, _byte_level(False)),
                       _bos("<｜begin▁of▁sentence｜>")),
    "deepseek-llm": (_pre(_split("[\r\n]"), _split(_DEEPSEEK_LETTERS), _split("\\s?[!-/:-~！-／：-～‘-‟　-。]+"),
                          _split("\\s+$"), _split(_CJK), _split("\\p{N}+"), _byte_level(False)),
                     _bos("<｜begin▁of▁sentence｜>")),
    "falcon": (_pre({"type": "Punctuation", "behavior": "Contiguous"}, _byte_level(True),
                    {"type": "Digits", "individual_digits": False}, _split("[0-9][0-9][0-9]")),),
}


def _byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-ins for bytes (Ġ = space …), inverted."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def _as_text(piece: str, decoder: dict[str, int]) -> str | None:
    try:
        return bytes(decoder[ch] for ch in piece).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return None


def drop_appended_specials(data: dict) -> list[str]:
    """Remove special tokens the reader appended after the vocabulary.

    The reader adds a default ``<|endoftext|>`` and, for DeepSeek, appends BOS/EOS again although
    the vocabulary holds them (stored byte-level encoded, e.g. ``<ï½ľbegin…``): such a token gets
    its real id back as a special token; one the model does not have is dropped.
    """
    vocab = data["model"]["vocab"]
    size = len(vocab)
    extra = [a for a in data["added_tokens"] if a["id"] >= size]
    if not extra:
        return []
    decoder = _byte_decoder()
    by_text = {}
    for piece, i in vocab.items():
        text = _as_text(piece, decoder) if piece.startswith("<") else None
        if text and text != piece and text.startswith("<｜") and text.endswith("｜>"):
            by_text[text] = (piece, i)
    kept = [a for a in data["added_tokens"] if a["id"] < size]
    changes = []
    for text, (piece, i) in sorted(by_text.items(), key=lambda kv: kv[1][1]):
        del vocab[piece]
        vocab[text] = i
        kept.append({"id": i, "content": text, "single_word": False, "lstrip": False, "rstrip": False,
                     "normalized": False, "special": True})
        changes.append(f"{text} keeps id {i}")
    changes += [f"dropped {a['content']} (id {a['id']})" for a in extra if a["content"] not in by_text]
    data["added_tokens"] = sorted(kept, key=lambda a: a["id"])
    return changes


def fix_tokenizer_json(stem: str, data: dict) -> list[str]:
    """Apply :data:`FIXES` for ``stem`` to a ``tokenizer.json`` dict in place; says what changed."""
    changes = drop_appended_specials(data)
    for step in FIXES.get(stem, ()):
        step(data)
        changes.append(step.__name__.strip("_") if hasattr(step, "__name__") else "fix")
    return changes


def is_current(folder: Path) -> bool:
    marker = folder / MARKER
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("version") == CONVERSION_VERSION
    except (OSError, ValueError):
        return False


def patch_folder(stem: str, folder: Path) -> list[str]:
    """Bring a converted folder to :data:`CONVERSION_VERSION` (idempotent; rewrites tokenizer.json)."""
    path = folder / "tokenizer.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    changes = fix_tokenizer_json(stem, data)
    config_path = folder / "tokenizer_config.json"
    if config_path.exists():  # keep transformers' view (chat templates) in line with tokenizer.json
        config = json.loads(config_path.read_text(encoding="utf-8"))
        known = {str(a["id"]) for a in data["added_tokens"]}
        decoder = config.get("added_tokens_decoder") or {}
        config["added_tokens_decoder"] = {k: v for k, v in decoder.items() if k in known}
        config_path.write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    (folder / MARKER).write_text(json.dumps({"version": CONVERSION_VERSION, "changes": changes}), encoding="utf-8")
    return changes


def convert(stem: str, gguf_dir: Path, target: Path, report: Callable[[str], None] = log.info) -> Path:
    """Convert ``ggml-vocab-<stem>.gguf`` once into ``target`` (idempotent), then :func:`patch_folder`."""
    if (target / "tokenizer.json").exists():
        if not is_current(target):
            report(f"  corrected {target.name}: " + ", ".join(patch_folder(stem, target)))
        return target
    from core.loader import offline_env

    offline_env()
    from transformers import AutoTokenizer

    started = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(str(gguf_dir), gguf_file=f"ggml-vocab-{stem}.gguf")
    staging = target.with_name(target.name + ".partial")
    if staging.exists():
        import shutil

        shutil.rmtree(staging)
    tok.save_pretrained(str(staging))
    patch_folder(stem, staging)
    staging.rename(target)
    report(f"  converted ggml-vocab-{stem}.gguf → {target} in {time.perf_counter() - started:.1f}s")
    return target
