"""llama.cpp's own tokenizer test vectors (``ggml-vocab-*.gguf.inp`` / ``.out``), run through the arena.

Each ``.inp`` file holds inputs separated by ``"\\n__ggml_vocab_test__\\n"``; the matching ``.out``
file has one line of space-separated ids per input. llama.cpp generated them with
``add_special_tokens=False``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SEPARATOR = "\n__ggml_vocab_test__\n"


@dataclass
class VectorResult:
    stem: str
    total: int
    matched: int
    mismatches: list[tuple[str, list[int], list[int]]] = field(default_factory=list)  # (text, expected, got)


def read_vectors(stem: str, folder: Path | None = None) -> list[tuple[str, list[int]]]:
    if folder is None:
        from core.assets import asset_dir

        folder = asset_dir("gguf-vocabs")
    inp = (folder / f"ggml-vocab-{stem}.gguf.inp").read_text(encoding="utf-8")
    out = (folder / f"ggml-vocab-{stem}.gguf.out").read_text(encoding="utf-8")
    texts = inp.split(SEPARATOR)
    if texts and texts[-1].endswith("\n__ggml_vocab_test__"):
        texts[-1] = texts[-1][: -len("\n__ggml_vocab_test__")]
    if texts and texts[-1] == "":
        texts.pop()
    lines = out.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(texts) != len(lines):
        raise ValueError(f"{stem}: {len(texts)} inputs but {len(lines)} id lines")
    return [(t, [int(x) for x in line.split()]) for t, line in zip(texts, lines)]


def run_vectors(stem: str) -> VectorResult:
    """Encode every llama.cpp input with the converted vocabulary via :func:`get_tokenizer`."""
    from .registry import GGUF_PREFIX, get_tokenizer

    tok = get_tokenizer(GGUF_PREFIX + stem)
    cases = read_vectors(stem)
    result = VectorResult(stem, len(cases), 0)
    for text, expected in cases:
        got = tok.encode(text, add_special_tokens=False).ids
        if got == expected:
            result.matched += 1
        else:
            result.mismatches.append((text, expected, got))
    return result
