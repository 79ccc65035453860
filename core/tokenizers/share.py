"""The Tokenizer Arena's share link: ``/tokenizers?text=…&tok=a,b,hub:x/y&ids=1`` → its inputs."""
from __future__ import annotations

from collections.abc import Mapping

from core.settings import get_settings

from .compare import MAX_TOKENIZERS
from .registry import HUB_PREFIX, available_specs, default_selection


def restore(params: Mapping[str, str], fallback_text: str) -> tuple[str, list[str], str, bool]:
    """``(text, selected ids, extra Hub ids, show ids)`` from a shared link's query parameters.

    Unknown tokenizer ids are dropped; Hub ids are kept only in hub mode; the text is capped at the
    lab's text limit; with no valid tokenizer the default selection is used.
    """
    settings = get_settings()
    text = (params.get("text") or fallback_text)[:settings.limits.text_chars]
    known = {s.id for s in available_specs()}
    selected, extra = [], []
    for raw in (params.get("tok") or "").split(","):
        raw = raw.strip()[:100]
        if raw in known:
            selected.append(raw)
        elif raw.startswith(HUB_PREFIX) and not settings.offline:
            extra.append(raw[len(HUB_PREFIX):])
    if not selected and not extra:
        selected = default_selection()
    show_ids = params.get("ids", "") in ("1", "true", "yes")
    return text, selected[:MAX_TOKENIZERS], ", ".join(extra), show_ids
