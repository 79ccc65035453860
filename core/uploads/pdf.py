"""PDF uploads: :func:`read_pdf` extracts text per page, with a budget on what pypdf parses."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import InvalidUpload
from core.settings import get_settings
from core.uploads.files import check_file


@dataclass(frozen=True)
class PdfText:
    name: str
    pages: list[str]  # text of each page ("" for pages without a text layer)
    notes: tuple[str, ...] = ()


#: Decoded page content (drawing instructions) read per page (per file: ``Limits.pdf_content_mb``):
#: pypdf's text extraction is pure Python, so a few KB of compressed content could otherwise keep a
#: worker busy for many minutes.
PDF_PAGE_CONTENT_BYTES = 1_000_000


def _content_bytes(page: Any) -> int:
    """Decoded size of a page's content stream and of its form XObjects (what extract_text parses)."""
    contents = page.get_contents()
    total = len(contents.get_data()) if contents is not None else 0
    try:
        xobjects = page["/Resources"].get_object()["/XObject"].get_object()
        forms = [x.get_object() for x in xobjects.values()]
    except (KeyError, TypeError, AttributeError):  # no (usable) XObjects
        return total
    for form in forms:
        if getattr(form, "get", None) and form.get("/Subtype") == "/Form" and hasattr(form, "get_data"):
            total += len(form.get_data())
    return total


def read_pdf(file: Any, *, max_pages: int | None = None) -> PdfText:
    """Extract text per page with pypdf; encrypted, broken or text-less PDFs get a clear message."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    checked = check_file(file, {"pdf"})
    name = checked.name
    limit = max_pages or get_settings().limits.pdf_pages
    try:
        reader = PdfReader(checked.path)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except (DependencyError, NotImplementedError):
                ok = 0
            if not ok:
                raise InvalidUpload(f"'{name}' is password-protected; remove the password and upload it again.")
        n_pages = len(reader.pages)
        if n_pages > limit:
            raise InvalidUpload(f"'{name}' has {n_pages:,} pages; the limit is {limit:,} (LLM_LAB_PDF_PAGES).")
        file_budget = get_settings().limits.pdf_content_mb * 1_000_000
        pages, skipped, budget = [], [], file_budget
        for number, page in enumerate(reader.pages, start=1):
            size = _content_bytes(page)
            if size > min(PDF_PAGE_CONTENT_BYTES, budget):  # pypdf parses it in pure Python: ~0.1–1 MB/s
                skipped.append(number)
                pages.append("")
                continue
            budget -= size
            pages.append((page.extract_text() or "").replace("\x00", ""))
    except InvalidUpload:
        raise
    except FileNotDecryptedError:
        raise InvalidUpload(f"'{name}' is password-protected; remove the password and upload it again.") from None
    except LimitReachedError:
        raise InvalidUpload(f"'{name}' expands to far more data than a document needs (a decompression bomb?); "
                            "the lab does not read it.") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        raise InvalidUpload(f"'{name}' is not a readable PDF (it may be truncated or corrupted): "
                            f"{type(exc).__name__}.") from None
    too_big = (f"page(s) {', '.join(map(str, skipped[:10]))}{' …' if len(skipped) > 10 else ''} were not read: "
               f"their drawing instructions exceed what the lab reads ({PDF_PAGE_CONTENT_BYTES // 1_000_000} MB a "
               f"page, {file_budget // 1_000_000} MB a file)")
    if not any(p.strip() for p in pages):
        if skipped:
            raise InvalidUpload(f"'{name}' has no readable text: {too_big}, and the other pages have no text layer.")
        raise InvalidUpload(f"'{name}' has no text layer (it is probably scanned); OCR is not supported.")
    notes = [f"In '{name}', {too_big}."] if skipped else []
    empty = sum(1 for p in pages if not p.strip()) - len(skipped)
    if empty:
        notes.append(f"{empty} of {len(pages)} pages have no extractable text (images or scans).")
    return PdfText(name=name, pages=pages, notes=tuple(notes))
