"""Validation of every file a user gives the lab, with clear messages.

Each helper either returns a small result object or raises :class:`~core.errors.InvalidUpload`
with one sentence saying what is wrong and what to do. Limits come from ``settings.limits``.
"""
from __future__ import annotations

import csv
from collections import Counter
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from core.errors import InvalidUpload
from core.settings import get_settings

#: (magic bytes, kind) — checked in order against the first bytes of a file.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"), (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"),
    (b"PK\x03\x04", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\x7fELF", "binary"),
    (b"MZ", "binary"),
)
IMAGE_KINDS = {"png", "jpeg", "gif", "bmp", "tiff", "webp"}
TEXT_EXTENSIONS = {".txt", ".md", ".markdown", ".csv", ".tsv", ".json", ".jsonl", ".text", ".rst"}


@dataclass(frozen=True)
class CheckedFile:
    path: Path
    name: str  # the user's file name
    size: int
    kind: str  # sniffed: pdf, png, jpeg, gif, bmp, tiff, webp, zip, gzip, text, binary, empty


def _as_path(file: Any) -> Path:
    """Accept a path, a str, or a gradio file object/dict."""
    if file is None:
        raise InvalidUpload("No file was uploaded.")
    if isinstance(file, (str, os.PathLike)):
        return Path(file)
    if isinstance(file, dict):
        return Path(str(file.get("path") or file.get("name")))
    return Path(str(getattr(file, "path", None) or getattr(file, "name", None) or file))


def sniff(head: bytes) -> str:
    """The kind of a file from its first bytes (not its extension)."""
    if not head:
        return "empty"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if b"\x00" in head[:4096] and not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff")
                                        or bomless_utf16(head)):
        # UTF-16 has NULs too; anything else with NULs is binary
        return "binary"
    return "text"


def check_file(file: Any, allowed: Iterable[str], *, max_mb: float | None = None) -> CheckedFile:
    """Check that a file exists, is not empty, is within the size limit and is of an allowed kind.

    ``allowed`` holds sniffed kinds (``"pdf"``, ``"text"``, ``"image"`` for any image kind …).
    """
    path = _as_path(file)
    allowed = set(allowed)
    if "image" in allowed:
        allowed |= IMAGE_KINDS
    if not path.exists():
        raise InvalidUpload("The uploaded file could not be found on the server; upload it again.")
    size = path.stat().st_size
    limit_mb = max_mb if max_mb is not None else get_settings().limits.upload_mb
    name = path.name
    if size == 0:
        raise InvalidUpload(f"'{name}' is empty (0 bytes).")
    if size > limit_mb * 1024 * 1024:
        raise InvalidUpload(f"'{name}' is {size / 1024 / 1024:.1f} MB; the limit is {limit_mb:g} MB per file.")
    with path.open("rb") as f:
        head = f.read(8192)
    kind = sniff(head)
    if kind not in allowed:
        wanted = ", ".join(sorted(k for k in allowed if k not in IMAGE_KINDS or "image" not in allowed))
        raise InvalidUpload(f"'{name}' looks like {_describe(kind)}, not {wanted}. "
                            f"Upload a file of the right type.")
    return CheckedFile(path=path, name=name, size=size, kind=kind)


def _describe(kind: str) -> str:
    return {"text": "a text file", "binary": "a binary (program or unknown) file", "zip": "a ZIP archive",
            "gzip": "a gzip archive", "bzip2": "a bzip2 archive", "pdf": "a PDF", "empty": "an empty file"
            }.get(kind, f"a {kind.upper()} image" if kind in IMAGE_KINDS else kind)


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    notes: tuple[str, ...] = ()


def bomless_utf16(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when ``head`` looks like UTF-16 saved without a byte-order mark (mostly
    Latin text: every other byte is NUL, always on the same side), else None."""
    sample = head[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even = sum(1 for i in range(0, 2 * pairs, 2) if sample[i] == 0)
    odd = sum(1 for i in range(1, 2 * pairs, 2) if sample[i] == 0)
    if odd >= 0.6 * pairs and even <= 0.02 * pairs:
        return "utf-16-le"
    if even >= 0.6 * pairs and odd <= 0.02 * pairs:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, name: str = "the file") -> DecodedText:
    """Decode text of unknown encoding: UTF-8 (with or without BOM), else detect with charset-normalizer."""
    notes: list[str] = []
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return DecodedText(data.decode(enc, errors="replace"), enc)
    utf16 = bomless_utf16(data)  # before UTF-8: NUL bytes are valid UTF-8
    if utf16:
        return DecodedText(data.decode(utf16, errors="replace"), utf16,
                           (f"{name} is UTF-16 without a byte-order mark; decoded it as {utf16}.",))
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data[:2_000_000]))
    best = _prefer_common(matches)
    if best is None or best.encoding is None:
        raise InvalidUpload(f"Could not work out the text encoding of {name}; save it as UTF-8 and upload again.")
    notes.append(f"{name} is not UTF-8; decoded it as {best.encoding}.")
    return DecodedText(data.decode(best.encoding, errors="replace"), best.encoding, tuple(notes))


#: Encodings people's files actually come in, preferred when detection finds several equally good.
_COMMON_ENCODINGS = ("cp1252", "cp1251", "gb18030", "gbk", "shift_jis", "euc_jp", "euc_kr", "big5",
                     "cp1250", "iso8859_15", "latin_1", "cp1256", "cp1253", "koi8_r")


def _prefer_common(matches: list[Any]) -> Any:
    if not matches:
        return None
    least_chaos = min(m.chaos for m in matches)
    tied = [m for m in matches if m.chaos <= least_chaos + 1e-9]
    for name in _COMMON_ENCODINGS:
        for m in tied:
            if m.encoding == name:
                return m
    return tied[0]


def read_text(file: Any, *, max_chars: int | None = None) -> DecodedText:
    """Read an uploaded text/Markdown file, decoding it and enforcing the character limit."""
    checked = check_file(file, {"text"})
    decoded = decode_bytes(checked.path.read_bytes(), f"'{checked.name}'")
    limit = max_chars or get_settings().limits.text_chars
    if len(decoded.text) > limit:
        raise InvalidUpload(f"'{checked.name}' has {len(decoded.text):,} characters; the limit is {limit:,}.")
    text = decoded.text.replace("\x00", "")
    return DecodedText(text, decoded.encoding, decoded.notes)


@dataclass
class CsvTable:
    """A parsed CSV: a pandas DataFrame and what was noticed while reading it."""

    frame: Any  # pandas.DataFrame
    delimiter: str
    encoding: str
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


CSV_DELIMITERS = (",", ";", "\t", "|")


def _delimiter_name(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else repr(delimiter)


def detect_delimiter(sample: str, candidates: Sequence[str] = CSV_DELIMITERS) -> str:
    """The delimiter (of ``candidates``) under which ``sample`` parses most consistently.

    Each candidate parses the sample with the csv module (quoted fields, line breaks inside quotes
    included; the last, possibly cut, record is dropped); the one whose records most often have the
    same number of fields (more than one) wins, ties going to more fields, then to the order of
    ``candidates``. Linear in the sample (``csv.Sniffer``'s quote regex is quadratic and, on a quoted
    field holding a line break, picked ',' for a ';' file)."""
    best, best_score = candidates[0], (False, 0.0, 0)
    for delimiter in candidates:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if len(counts) > 2:
            counts = counts[:-1]  # the sample may end inside a record
        if not counts:
            continue
        mode, n = Counter(counts).most_common(1)[0]
        score = (mode > 1, round(n / len(counts), 2), mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(file: Any, *, max_rows: int | None = None, max_columns: int | None = None) -> CsvTable:
    """Read an uploaded CSV/TSV: detect encoding and delimiter, enforce the row cap, explain problems.

    ``max_columns`` (default ``Limits.csv_columns``) refuses wider files before parsing them (pandas and per-column guessing cost
    about a millisecond per column, so a 200 KB header of 20,000 names would take tens of seconds).
    """
    import pandas as pd

    checked = check_file(file, {"text"})
    decoded = decode_bytes(checked.path.read_bytes(), f"'{checked.name}'")
    text = decoded.text
    if not text.strip():
        raise InvalidUpload(f"'{checked.name}' has no content.")
    # csv.Sniffer's quote regex is quadratic in the sample size (64 KB of 'a,"b' lines took ~10 s):
    # sniff a short sample; pandas still reads the whole text.
    delimiter = detect_delimiter(text[:65_536])
    max_columns = max_columns or get_settings().limits.csv_columns
    if max_columns:
        try:
            header = next(csv.reader(io.StringIO(text[:1_000_000]), delimiter=delimiter), [])
        except csv.Error:  # e.g. a giant quoted field: pandas will explain
            header = []
        if len(header) > max_columns:
            raise InvalidUpload(f"'{checked.name}' has {len(header):,} columns; the limit is {max_columns:,} "
                                "(LLM_LAB_CSV_COLUMNS). "
                                "Keep the columns you need and upload it again.")
    limit = max_rows or get_settings().limits.csv_rows
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, nrows=limit + 1, dtype=str,
                            keep_default_na=False, on_bad_lines="skip", engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise InvalidUpload(
            f"'{checked.name}' could not be read as CSV (tried delimiter {_delimiter_name(delimiter)} and encoding "
            f"{decoded.encoding}): {str(exc).splitlines()[0][:160]}. To fix it, save it again from your spreadsheet "
            "as 'CSV UTF-8' with a header row, and check that every quoted field closes its quote (a text with "
            'line breaks or the delimiter inside must be in double quotes, and a quote inside it doubled: "").'
        ) from None
    notes = list(decoded.notes)
    if delimiter != ",":
        notes.append(f"Detected {'tab' if delimiter == chr(9) else repr(delimiter)} as the delimiter.")
    if len(frame) > limit:
        raise InvalidUpload(f"'{checked.name}' has more than {limit:,} rows; the limit is {limit:,} "
                            "(LLM_LAB_CSV_ROWS). Upload a sample.")
    if frame.shape[1] == 0 or len(frame) == 0:
        raise InvalidUpload(f"'{checked.name}' has no data rows.")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed")]
    if frame.shape[1] == 1 and len(str(frame.columns[0])) > 60:
        notes.append("The file seems to have no header row or an unusual delimiter; check the columns.")
    elif unnamed:
        notes.append(f"{len(unnamed)} column(s) have no header name.")
    frame.columns = _unique_names([str(c).strip() for c in frame.columns])
    return CsvTable(frame=frame, delimiter=delimiter, encoding=decoded.encoding, notes=notes)


def _unique_names(names: list[str]) -> list[str]:
    """Column names after stripping can collide ("a" and " a") or be blank; make each one unique, as
    pandas does for duplicates, so ``frame[name]`` is always one column (never a DataFrame)."""
    seen: set[str] = set()
    out = []
    for i, name in enumerate(names):
        base = name or f"column {i + 1}"
        candidate, n = base, 0
        while candidate in seen:
            n += 1
            candidate = f"{base}.{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def require_columns(table: CsvTable, *columns: str | None) -> None:
    missing = [c for c in columns if c and c not in table.columns]
    if missing:
        raise InvalidUpload(f"Column(s) {', '.join(repr(c) for c in missing)} are not in the file; "
                            f"its columns are: {', '.join(table.columns[:30])}.")


@dataclass(frozen=True)
class LoadedImage:
    image: Any  # PIL.Image.Image, RGB, EXIF-rotated, downscaled to the side limit
    name: str
    original_size: tuple[int, int]
    notes: tuple[str, ...] = ()


def open_image(file: Any) -> LoadedImage:
    """Open an uploaded image safely: size and pixel limits, EXIF rotation, first frame, RGB."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    limits = get_settings().limits
    if hasattr(file, "size") and hasattr(file, "mode") and hasattr(file, "convert"):  # already a PIL image
        img, name = file, "image"
    else:
        checked = check_file(file, {"image"})
        name = checked.name
        Image.MAX_IMAGE_PIXELS = limits.image_pixels
        try:
            img = Image.open(checked.path)  # reads the header only: the size is known before decoding
            width, height = img.size
            if width * height > limits.image_pixels:
                img.close()
                raise InvalidUpload(f"'{name}' has {width}×{height} pixels; the limit is {limits.image_pixels:,}.")
            if img.format == "JPEG" and max(img.size) > 2 * limits.image_side:
                img.draft("RGB", (limits.image_side, limits.image_side))  # decode at a reduced scale
            img.load()
        except Image.DecompressionBombError:
            raise InvalidUpload(f"'{name}' is too large in pixels (limit {limits.image_pixels:,}).") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            detail = str(exc).replace(str(checked.path), name)  # PIL names the server path
            raise InvalidUpload(f"'{name}' is not a readable image (it may be truncated or corrupted): "
                                f"{detail[:120]}") from None
    notes: list[str] = []
    width, height = img.size
    if width * height > limits.image_pixels:
        raise InvalidUpload(f"'{name}' has {width}×{height} pixels; the limit is {limits.image_pixels:,}.")
    if getattr(img, "is_animated", False):
        notes.append(f"'{name}' is animated; using its first frame.")
        img.seek(0)
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - broken EXIF must not block the image
        notes.append("Ignored unreadable EXIF orientation data.")
    if img.mode not in ("RGB",):
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            background = Image.new("RGB", img.size, (255, 255, 255))
            rgba = img.convert("RGBA")
            background.paste(rgba, mask=rgba.split()[-1])
            img = background
            notes.append("Transparent areas were filled with white.")
        elif img.mode in ("I;16", "I;16B", "I;16L", "I"):
            import numpy as np

            arr = np.asarray(img, dtype=np.float64)
            span = float(arr.max() - arr.min()) or 1.0
            img = Image.fromarray(((arr - arr.min()) / span * 255).astype("uint8")).convert("RGB")
            notes.append("Converted a 16-bit image to 8-bit.")
        else:
            img = img.convert("RGB")
    if max(img.size) > limits.image_side:
        img = img.copy()
        img.thumbnail((limits.image_side, limits.image_side))
        notes.append(f"Downscaled from {width}×{height} to {img.size[0]}×{img.size[1]}.")
    return LoadedImage(image=img, name=name, original_size=(width, height), notes=tuple(notes))


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
