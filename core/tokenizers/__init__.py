"""Tokenizer Arena core: one interface over many tokenizers, display helpers, language cost."""
from __future__ import annotations

from .backends import ArenaTokenizer, Encoding
from .registry import (BOOK_HUB, DEFAULT_OFFLINE, GGUF_UNSUPPORTED, GGUF_VOCABS, HUB_PREFIX, SPEC_BY_ID, SPECS,
                       TokenizerSpec, available_specs, default_selection, get_tokenizer, label_of,
                       prepare_tokenizers)

__all__ = ["ArenaTokenizer", "Encoding", "BOOK_HUB", "DEFAULT_OFFLINE", "GGUF_UNSUPPORTED", "GGUF_VOCABS",
           "HUB_PREFIX", "SPEC_BY_ID", "SPECS", "TokenizerSpec", "available_specs", "default_selection",
           "get_tokenizer", "label_of", "prepare_tokenizers"]
