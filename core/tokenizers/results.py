"""Tokenizer Arena downloads and links: the comparison as JSON with its provenance header, and the
link state (text, tokenizers, id view, tab) in the Tokenizer Arena's own query-parameter names."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from core.provenance import file_sha256, header
from core.tokenizers.registry import HUB_PREFIX, SPEC_BY_ID, gguf_folder


def link_state(text: str, selected: Sequence[str] | None, extra: str = "", show_ids: bool = False,
               tab: str = "compare") -> dict[str, Any]:
    """What a link to this comparison holds (``?text=…&tok=a,b,hub:x/y&ids=1&tab=cost``); the same
    names as the arena's older share links, so those still open."""
    from core.tokenizers.compare import resolve_selection

    return {"text": text or "", "tok": resolve_selection(selected, extra), "ids": True if show_ids else None,
            "tab": tab if tab and tab != "compare" else None}


def source_file(arena_id: str) -> Path | None:
    """The vocabulary file a tokenizer loads from offline (None for Hub tokenizers)."""
    from core.assets import asset_dir, asset_file

    spec = SPEC_BY_ID.get(arena_id)
    if spec is None:
        return None
    try:
        if spec.source == "tiktoken":  # tiktoken caches a rank file under the sha1 of its URL
            import hashlib

            name = "p50k_base" if spec.ref == "r50k_base" else spec.ref
            url = f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
            return asset_dir("tiktoken") / hashlib.sha1(url.encode()).hexdigest()
        if spec.source in ("tekken", "spm"):
            return asset_file("mistral", spec.ref)
        if spec.source == "tokenizer-json":
            return asset_file("tiktoken", spec.ref)
        if spec.source == "bert-vocab":
            return asset_dir(spec.ref) / "vocab.txt"
        if spec.source == "gguf":
            return gguf_folder(spec.ref) / "tokenizer.json"
        if spec.source == "smollm2":
            from core.loader import smollm2_folder

            return smollm2_folder() / "tokenizer.json"
    except Exception:  # noqa: BLE001 - provenance never breaks a download
        return None
    return None


def tokenizer_records(ids: Sequence[str]) -> list[dict[str, Any]]:
    """Each tokenizer's source: library ref, or the offline file and its sha256, or the Hub id."""
    out = []
    for tid in ids:
        spec = SPEC_BY_ID.get(tid)
        if spec is None:
            out.append({"id": tid, "hub_id": tid[len(HUB_PREFIX):] if tid.startswith(HUB_PREFIX) else tid})
            continue
        rec: dict[str, Any] = {"id": tid, "source": spec.source, "ref": spec.ref, "hub_id": spec.hub_id}
        path = source_file(tid)
        if path is not None and path.is_file():
            rec["file"] = path.name
            rec["sha256"] = file_sha256(str(path))
        out.append(rec)
    return out


def results(state: Mapping[str, Any]) -> tuple[str, bytes]:
    """``(file name, JSON bytes)``: counts, stats and token ids of every tokenizer, under a header."""
    from core.tokenizers.compare import compare

    ids = list(state.get("tok") or [])
    result = compare(str(state.get("text") or ""), ids)
    columns = []
    for c in result.columns:
        if c.stats is None:
            columns.append({"tokenizer": c.tokenizer, "label": c.label, "error": c.error})
            continue
        from core.tokenizers.registry import get_tokenizer

        s = c.stats
        columns.append({"tokenizer": c.tokenizer, "label": c.label, "tokens": s.tokens,
                        "special_tokens": s.special_tokens, "tokens_per_word": s.tokens_per_word,
                        "chars_per_token": s.chars_per_token, "algorithm": s.algorithm,
                        "vocabulary": s.vocab_size, "library": s.library,
                        "ids": get_tokenizer(c.tokenizer).encode_ids(result.text)})
    block = header("tokenizers", (), {"text": result.text, "tokenizers": ids, "show_ids": bool(state.get("ids"))},
                   tokenizers=tokenizer_records(ids))
    doc = {"provenance": block, "text": {"characters": result.counts.characters, "words": result.counts.words},
           "columns": columns, "notes": result.notes}
    return "tokenizer-arena-results.json", json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
