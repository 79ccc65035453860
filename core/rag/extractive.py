"""The extractive answer style: no model writes anything; the best passages are quoted, each with its
source, and the sentences of each passage closest to the question are the ones quoted.

Nothing can be invented this way (every word is from the documents), which is the honest answer
style for a tiny offline model, and a baseline for the generative one.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from core.rag.search import Hit

MAX_QUOTE_CHARS = 420
_SENT = re.compile(r"[^.!?\n]+(?:[.!?]+[\"')\]]*|$)")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.findall(text) if len(s.strip()) > 1]


def best_sentences(question: str, text: str, embed: Callable[[Sequence[str]], Any] | None,
                   limit: int = MAX_QUOTE_CHARS) -> str:
    """The sentences of ``text`` closest to ``question`` (cosine of ``embed`` vectors, else word
    overlap), in their original order, up to ``limit`` characters; "…" marks what was left out."""
    sents = _sentences(text)
    if len(text) <= limit or len(sents) <= 1:
        return text.strip() if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
    if embed is not None:
        import numpy as np

        vecs = np.asarray(embed([question] + sents), dtype=np.float32)
        scores = list(vecs[1:] @ vecs[0])
    else:
        words = set(re.findall(r"\w{3,}", question.lower()))
        scores = [len(words & set(re.findall(r"\w{3,}", s.lower()))) for s in sents]
    chosen: list[int] = []
    used = 0
    for i in sorted(range(len(sents)), key=lambda j: -float(scores[j])):
        if used + len(sents[i]) > limit and chosen:
            break
        chosen.append(i)
        used += len(sents[i]) + 1
    chosen.sort()
    out, prev = [], -1
    for i in chosen:
        if prev >= 0 and i != prev + 1:
            out.append("…")
        out.append(sents[i] if len(sents[i]) <= limit else sents[i][:limit].rsplit(" ", 1)[0] + " …")
        prev = i
    if chosen and chosen[0] > 0:
        out.insert(0, "…")
    if chosen and chosen[-1] < len(sents) - 1:
        out.append("…")
    return " ".join(out)


def extract(question: str, hits: Sequence[Hit], embed: Callable[[Sequence[str]], Any] | None = None,
            max_passages: int = 3) -> list[tuple[int, str]]:
    """(passage number, quoted text) for the best ``max_passages`` hits, best first."""
    return [(n, best_sentences(question, h.chunk.text, embed))
            for n, h in enumerate(hits[:max_passages], start=1)]
