"""The Tokenizer Arena's link: ``/tokenizers?text=…&tok=a,b,hub:x/y&ids=1&tab=cost`` (or a stored link's
state, :mod:`core.links`) → its inputs."""
from __future__ import annotations

from collections.abc import Mapping

from core.links import param_bool, param_list
from core.settings import get_settings

from .compare import MAX_TOKENIZERS
from .registry import HUB_PREFIX, available_specs, default_selection


def restore(params: Mapping[str, object], fallback_text: str) -> tuple[str, list[str], str, bool]:
    """``(text, selected ids, extra Hub ids, show ids)`` from a shared link's query parameters.

    Unknown tokenizer ids are dropped; Hub ids are kept only in hub mode; the text is capped at the
    lab's text limit; with no valid tokenizer the default selection is used.
    """
    settings = get_settings()
    text = str(params.get("text") or fallback_text)[:settings.limits.text_chars]
    known = {s.id for s in available_specs()}
    selected, extra = [], []
    for raw in param_list(params.get("tok")):  # "a,b" in a query string, a list in a stored link
        raw = raw.strip()[:100]
        if raw in known:
            selected.append(raw)
        elif raw.startswith(HUB_PREFIX) and not settings.offline:
            extra.append(raw[len(HUB_PREFIX):])
    if not selected and not extra:
        selected = default_selection()
    show_ids = param_bool(params.get("ids"))
    return text, selected[:MAX_TOKENIZERS], ", ".join(extra), show_ids
