"""The file itself: where it is, its size, and its kind sniffed from its first bytes.

:func:`check_file` is the first step of every reader: it raises :class:`~core.errors.InvalidUpload`
with one sentence saying what is wrong (missing, empty, too big, wrong kind) and what to do.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

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
