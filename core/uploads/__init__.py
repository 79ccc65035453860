"""Validation of every file a user gives the lab, with clear messages.

Each reader either returns a small result object or raises :class:`~core.errors.InvalidUpload`
with one sentence saying what is wrong and what to do. Limits come from ``settings.limits``.

* :mod:`~core.uploads.files` — :func:`check_file` (exists, size, kind sniffed from the bytes), :func:`sniff`;
* :mod:`~core.uploads.text` — :func:`decode_bytes` (encodings), :func:`read_text`;
* :mod:`~core.uploads.tables` — :func:`detect_delimiter`, :func:`read_csv`, :func:`require_columns`;
* :mod:`~core.uploads.pdf` — :func:`read_pdf`;
* :mod:`~core.uploads.images` — :func:`open_image`.
"""
from __future__ import annotations

from core.errors import InvalidUpload
from core.uploads.files import IMAGE_KINDS, TEXT_EXTENSIONS, CheckedFile, bomless_utf16, check_file, sniff
from core.uploads.images import LoadedImage, open_image
from core.uploads.pdf import PDF_PAGE_CONTENT_BYTES, PdfText, read_pdf
from core.uploads.tables import CSV_DELIMITERS, CsvTable, detect_delimiter, read_csv, require_columns
from core.uploads.text import DecodedText, decode_bytes, read_text

__all__ = [
    "CSV_DELIMITERS", "IMAGE_KINDS", "PDF_PAGE_CONTENT_BYTES", "TEXT_EXTENSIONS", "CheckedFile", "CsvTable",
    "DecodedText", "InvalidUpload", "LoadedImage", "PdfText", "bomless_utf16", "check_file", "decode_bytes",
    "detect_delimiter", "open_image", "read_csv", "read_pdf", "read_text", "require_columns", "sniff",
]
