"""Text files of unknown encoding: decoding (BOMs, BOM-less UTF-16, detection) and :func:`read_text`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import InvalidUpload
from core.settings import get_settings
from core.uploads.files import bomless_utf16, check_file


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    notes: tuple[str, ...] = ()


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
