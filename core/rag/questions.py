"""Questions about documents: splitting a question into its parts (so each part is retrieved and
judged on its own), and suggesting "Try" questions from the loaded documents."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from core.rag.chunking import Chunk

_WH = r"(?:what|who|whom|whose|when|where|why|how|which|is|are|does|do|did|was|were|can|could|should)"
_SPLIT = re.compile(rf"\s*(?:\?+\s+|;\s*|,?\s+(?:and|but|also)\s+(?={_WH}\b)|,\s+(?={_WH}\b))", re.IGNORECASE)
_HEADING = re.compile(r"^\s{0,3}#{1,3}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]{2,}(?:\s+[A-Z][a-z]{2,})*)")
_STOP = {"The", "This", "That", "These", "Those", "There", "Then", "They", "Their", "When", "What", "Where",
         "Which", "While", "With", "From", "After", "Before", "And", "But", "For", "His", "Her", "Its", "Our",
         "Enter", "Exit", "Exeunt", "Scene", "Act", "Page", "Chapter", "Part", "Section", "Figure", "Table"}


def question_parts(question: str, min_words: int = 3) -> list[str]:
    """The parts of a compound question ("How much did it make and who directed it?" → two parts);
    a simple question is one part. Parts shorter than ``min_words`` words stay with the previous one."""
    question = (question or "").strip()
    parts: list[str] = []
    for piece in _SPLIT.split(question):
        piece = piece.strip(" ?,;")
        if not piece:
            continue
        if parts and len(piece.split()) < min_words:
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts or ([question] if question else [])


def suggest_questions(chunks: Sequence[Chunk], n: int = 4) -> list[str]:
    """A few questions that fit the loaded documents: their headings, then their most frequent names."""
    out: list[str] = []
    docs = list(dict.fromkeys(c.doc for c in chunks))
    if docs:
        out.append(f"What is {Path(docs[0]).stem.replace('_', ' ').replace('-', ' ')} about?")
    headings: list[str] = []
    names: Counter[str] = Counter()
    for c in chunks[:2000]:
        headings += [h for h in _HEADING.findall(c.text) if 2 < len(h) < 60]
        for m in _PROPER.finditer(c.text):
            words = m.group(1).split()
            while words and words[0] in _STOP:
                words.pop(0)
            if words and len(" ".join(words)) < 40:
                names[" ".join(words)] += 1
    for h in dict.fromkeys(headings):
        if len(out) >= n:
            return out
        out.append(f"What does the document say about {h.strip().rstrip(':')}?")
    for name, count in names.most_common():
        if len(out) >= n:
            break
        if count >= 2 and not any(name in q for q in out):
            out.append(f"What do the documents say about {name}?")
    return out[:n]
