"""Property-based fuzzing of every upload path: any bytes, any name → a result or InvalidUpload.

Never another exception type (which would reach the user as a traceback), never a hang, and
memory stays bounded (pixel/row/page/size limits are checked before the expensive work).
"""
import io
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.errors import InvalidUpload
from core.settings import Limits, override_settings
from core.uploads import open_image, read_csv, read_pdf, read_text

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NAMES = st.sampled_from(["data.csv", "doc.pdf", "notes.txt", "photo.png", "photo.jpg", "x", "weird name.md"])
READERS = [read_csv, read_pdf, read_text, open_image]


def _png_bytes(size=(64, 48)):
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buf, "PNG")
    return buf.getvalue()


def _pdf_bytes():
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "Fuzzing seed page with some text.")
    c.showPage()
    c.save()
    return buf.getvalue()


SEEDS = [_png_bytes(), _pdf_bytes(), "text,label\nhello,pos\nbye,neg\n".encode()]


def _only_clear_errors(reader, path):
    try:
        reader(path)
    except InvalidUpload as exc:
        assert str(exc) and "Traceback" not in str(exc)


@FUZZ
@given(data=st.binary(max_size=4096), name=NAMES)
def test_random_bytes(tmp_path, data, name):
    path = tmp_path / name
    path.write_bytes(data)
    for reader in READERS:
        _only_clear_errors(reader, path)


@FUZZ
@given(seed=st.sampled_from(SEEDS), cut=st.floats(0, 1), flips=st.lists(st.integers(0, 10**6), max_size=8),
       name=NAMES)
def test_truncated_and_corrupted_real_files(tmp_path, seed, cut, flips, name):
    data = bytearray(seed[: int(len(seed) * cut)])
    for position in flips:
        if data:
            data[position % len(data)] ^= 0xFF
    path = tmp_path / name
    path.write_bytes(bytes(data))
    for reader in READERS:
        _only_clear_errors(reader, path)


@FUZZ
@given(text=st.text(max_size=2000), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1251", "gb18030"]))
def test_odd_encodings(tmp_path, text, encoding):
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    for reader in (read_csv, read_text):
        _only_clear_errors(reader, path)


def test_png_claiming_gigapixels_is_refused_before_decoding(tmp_path):
    """A decompression bomb: a tiny file whose header claims 100,000 × 100,000 pixels."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    with pytest.raises(InvalidUpload, match="pixels"):
        open_image(path)


def test_giant_header_line_and_wide_csv(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"col{i}" for i in range(20_000)) + "\n" + ",".join("1" * 20_000) + "\n")
    with pytest.raises(InvalidUpload, match="20,000 columns; the limit is 500"):
        read_csv(path)  # refused before pandas parses it (Limits.csv_columns)
    assert len(read_csv(path, max_columns=20_000).columns) == 20_000
    one_line = tmp_path / "oneline.csv"
    one_line.write_text("x" * 3_000_000)
    with override_settings(limits=Limits(upload_mb=1)), pytest.raises(InvalidUpload, match="limit is 1 MB"):
        read_csv(one_line)


def test_zip_disguised_as_csv_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "data.csv"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("huge.txt", "0" * 10_000_000)  # 10 MB of zeros, ~10 KB compressed
    with pytest.raises(InvalidUpload, match="ZIP archive"):
        read_csv(path)


def test_deeply_nested_pdf_is_a_clear_message(tmp_path):
    nested = b"[" * 50_000 + b"]" * 50_000
    data = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /X " + nested + b" >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
    path = tmp_path / "nested.pdf"
    path.write_bytes(data)
    with pytest.raises(InvalidUpload):
        read_pdf(path)
