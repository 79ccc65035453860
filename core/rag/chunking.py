"""Documents and chunking: by sentence, by paragraph, or by a fixed number of tokens, with overlap.

Every strategy is the same sliding window over *units* (sentences, paragraphs or tokens): a chunk
is ``size`` consecutive units, and the next chunk starts ``size - overlap`` units later. Chunks
never cross a page, so each one can be cited as (document, page). A chunk's text is the exact
slice of the page between its first and last unit (offsets kept for highlighting).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import LabError

STRATEGIES = ("sentence", "paragraph", "tokens")
STRATEGY_LABELS = {
    "sentence": "by sentence (N sentences per chunk)",
    "paragraph": "by paragraph (N paragraphs per chunk)",
    "tokens": "fixed tokens (N tokens per chunk)",
}
#: (size, overlap) a strategy starts from when chosen: sizes count different units per strategy.
STRATEGY_DEFAULTS = {"sentence": (3, 1), "paragraph": (1, 0), "tokens": (100, 20)}

Span = tuple[int, int]


@dataclass(frozen=True)
class Document:
    """A user document (or built-in one) as text per page; ``pages`` has one entry for text files."""

    name: str
    pages: tuple[str, ...]
    kind: str  # "pdf", "text", "markdown"
    notes: tuple[str, ...] = ()
    source: str = ""  # where a built-in document comes from

    @property
    def chars(self) -> int:
        return sum(len(p) for p in self.pages)

    @property
    def paged(self) -> bool:
        return self.kind == "pdf"

    @property
    def sha256(self) -> str:
        h = hashlib.sha256()
        h.update(self.kind.encode())
        for page in self.pages:
            h.update(b"\x00page\x00")
            h.update(page.encode("utf-8", "surrogatepass"))
        return h.hexdigest()


@dataclass(frozen=True)
class ChunkConfig:
    strategy: str = "sentence"
    size: int = 3  # units per chunk
    overlap: int = 1  # units shared with the previous chunk

    def validate(self) -> ChunkConfig:
        if self.strategy not in STRATEGIES:
            raise LabError(f"Unknown chunking strategy {self.strategy!r}; choose one of {', '.join(STRATEGIES)}.")
        limit = 2048 if self.strategy == "tokens" else 50
        if not 1 <= self.size <= limit:
            raise LabError(f"Chunk size must be between 1 and {limit} {self.unit}s.")
        if not 0 <= self.overlap < self.size:
            raise LabError(f"Overlap must be at least 0 and smaller than the chunk size ({self.size} {self.unit}s).")
        return self

    @property
    def unit(self) -> str:
        return {"sentence": "sentence", "paragraph": "paragraph", "tokens": "token"}[self.strategy]

    def key(self) -> str:
        return f"{self.strategy}-{self.size}-{self.overlap}"

    def describe(self) -> str:
        return f"{self.size} {self.unit}{'s' if self.size != 1 else ''} per chunk, overlap {self.overlap}"


@dataclass(frozen=True)
class Chunk:
    """One retrievable piece of a document."""

    id: int  # position in its collection (set when collections are assembled)
    doc: str  # document name
    page: int | None  # 1-based page for PDFs, None for text files
    text: str
    start: int  # character offsets inside the page (or the whole text)
    end: int
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def where(self) -> str:
        return f"{self.doc}, p. {self.page}" if self.page is not None else self.doc


# --------------------------------------------------------------------------------------------
# units
# --------------------------------------------------------------------------------------------

_PARA_BREAK = re.compile(r"\n[ \t]*\n+")
# a sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and an
# upper-case letter, digit, quote or bracket; or at a line break inside a paragraph (headings, lists)
_SENT_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc|e\.g|i\.e|No|Fig|Vol|pp)|\b[A-Z])\.$")
_TOKEN = re.compile(r"\w+|[^\w\s]")


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def paragraph_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for m in _PARA_BREAK.finditer(text):
        span = _trimmed(text, pos, m.start())
        if span:
            spans.append(span)
        pos = m.end()
    span = _trimmed(text, pos, len(text))
    if span:
        spans.append(span)
    return spans


def sentence_spans(text: str) -> list[Span]:
    """Sentence boundaries (regex rules: terminal punctuation + capital, line breaks, abbreviations)."""
    spans: list[Span] = []
    for p_start, p_end in paragraph_spans(text):
        pos = p_start
        for m in _SENT_END.finditer(text, p_start, p_end):
            if "\n" not in m.group() and _ABBREV.search(text[max(pos, m.start() - 6):m.start()]):
                continue  # "Dr. Thorne", "e.g. this", "J. Nolan": not the end of a sentence
            cut = m.start() + len(m.group()) - len(m.group().lstrip("\"')]"))
            span = _trimmed(text, pos, cut if m.group()[:1] in "\"')]" else m.start())
            if span:
                spans.append(span)
            pos = m.end()
        span = _trimmed(text, pos, p_end)
        if span:
            spans.append(span)
    return spans


def token_spans(text: str, tokenizer: Any | None = None) -> list[Span]:
    """Token boundaries: a Hugging Face fast tokenizer's offsets if given, else words and punctuation."""
    if tokenizer is not None:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [(a, b) for a, b in enc["offset_mapping"] if b > a]
    return [m.span() for m in _TOKEN.finditer(text)]


def _units(text: str, strategy: str, tokenizer: Any | None) -> list[Span]:
    if strategy == "sentence":
        return sentence_spans(text)
    if strategy == "paragraph":
        return paragraph_spans(text)
    return token_spans(text, tokenizer)


def windows(n_units: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """[first, last) unit indexes of each chunk; the last window is not allowed to be pure overlap."""
    if n_units <= 0:
        return []
    step = size - overlap
    out = []
    first = 0
    while True:
        last = min(first + size, n_units)
        out.append((first, last))
        if last >= n_units:
            break
        first += step
    return out


def chunk_document(doc: Document, config: ChunkConfig, *, tokenizer: Any | None = None,
                   max_chunk_chars: int = 4000) -> list[Chunk]:
    """Split one document into chunks (ids are local; :func:`renumber` makes them global)."""
    config.validate()
    chunks: list[Chunk] = []
    for page_no, page in enumerate(doc.pages, start=1):
        units = _units(page, config.strategy, tokenizer)
        for first, last in windows(len(units), config.size, config.overlap):
            start, end = units[first][0], units[last - 1][1]
            for s, e in _split_long(page, start, end, max_chunk_chars):
                chunks.append(Chunk(len(chunks), doc.name, page_no if doc.paged else None, page[s:e], s, e))
    return chunks


def _split_long(text: str, start: int, end: int, limit: int) -> list[Span]:
    """Very long units (a paragraph of 20 pages, a table dump) are cut at whitespace near the limit."""
    spans = []
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = cut if cut > start else start + limit
        spans.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        spans.append((start, end))
    return spans


def renumber(chunks: Sequence[Chunk], offset: int = 0) -> list[Chunk]:
    return [Chunk(offset + i, c.doc, c.page, c.text, c.start, c.end, c.meta) for i, c in enumerate(chunks)]


def chunk_documents(docs: Sequence[Document], config: ChunkConfig,
                    tokenizer: Any | None = None) -> list[Chunk]:
    out: list[Chunk] = []
    for doc in docs:
        out.extend(renumber(chunk_document(doc, config, tokenizer=tokenizer), len(out)))
    return out


#: Chunk-text normaliser used by the evaluation (passage containment) and by tests.
def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


Tokenize = Callable[[str], list[str]]
