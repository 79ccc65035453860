import io

import pytest
from PIL import Image

from core.errors import InvalidUpload
from core.settings import Limits, override_settings
from core.uploads import check_file, decode_bytes, open_image, read_csv, read_pdf, read_text, sniff


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# ---- sniffing and generic checks -----------------------------------------------------------

@pytest.mark.parametrize("head,kind", [
    (b"%PDF-1.7\n", "pdf"), (b"\x89PNG\r\n\x1a\n....", "png"), (b"\xff\xd8\xff\xe0", "jpeg"),
    (b"GIF89a", "gif"), (b"PK\x03\x04", "zip"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
    (b"hello, world", "text"), (b"\x00\x01\x02\x03binary", "binary"), (b"", "empty"),
    ("naïve café".encode("utf-16"), "text"),
])
def test_sniff(head, kind):
    assert sniff(head) == kind


def test_extension_lies_are_caught(tmp_path):
    fake_pdf = write(tmp_path, "report.pdf", "just some text, not a PDF")
    with pytest.raises(InvalidUpload, match="looks like a text file, not pdf"):
        check_file(fake_pdf, {"pdf"})


def test_empty_and_oversized_files(tmp_path):
    with pytest.raises(InvalidUpload, match="empty"):
        check_file(write(tmp_path, "e.txt", b""), {"text"})
    big = write(tmp_path, "big.txt", b"a" * (2 * 1024 * 1024))
    with pytest.raises(InvalidUpload, match="limit is 1 MB"):
        check_file(big, {"text"}, max_mb=1)


def test_gradio_file_values_are_accepted(tmp_path):
    path = write(tmp_path, "a.txt", "hello")
    assert check_file({"path": str(path)}, {"text"}).name == "a.txt"
    assert check_file(str(path), {"text"}).kind == "text"
    with pytest.raises(InvalidUpload, match="No file"):
        check_file(None, {"text"})


# ---- text and CSV -----------------------------------------------------------------------------

def test_non_utf8_text_is_detected_and_said():
    decoded = decode_bytes("Ceci est un résumé très détaillé, naïf et élégant. " .encode("cp1252") * 20)
    assert "résumé" in decoded.text and decoded.notes


def test_read_text_enforces_the_character_limit(tmp_path):
    path = write(tmp_path, "long.md", "x" * 2000)
    with override_settings(limits=Limits(text_chars=1000)), pytest.raises(InvalidUpload, match="1,000"):
        read_text(path)


def test_csv_with_semicolons_and_latin1(tmp_path):
    data = "texte;étiquette\nTrès bon film;pos\nNul;neg\n".encode("latin-1")
    table = read_csv(write(tmp_path, "fr.csv", data))
    assert table.columns == ["texte", "étiquette"] and len(table.frame) == 2
    assert any("delimiter" in n for n in table.notes) and any("not UTF-8" in n for n in table.notes)


def test_csv_row_cap_is_a_clear_message(tmp_path):
    rows = "text,label\n" + "".join(f"row {i},a\n" for i in range(50))
    with override_settings(limits=Limits(csv_rows=10)), pytest.raises(InvalidUpload, match="more than 10 rows"):
        read_csv(write(tmp_path, "many.csv", rows))


def test_binary_posing_as_csv(tmp_path):
    with pytest.raises(InvalidUpload, match="not text"):
        read_csv(write(tmp_path, "x.csv", b"\x00\x01\x02\x03" * 100))


# ---- images -------------------------------------------------------------------------------------

def save(img, tmp_path, name, **kw):
    path = tmp_path / name
    img.save(path, **kw)
    return path


def test_image_modes_become_rgb(tmp_path):
    cmyk = open_image(save(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), tmp_path, "c.jpg"))
    assert cmyk.image.mode == "RGB" and cmyk.image.size == (40, 30)
    alpha = open_image(save(Image.new("RGBA", (10, 10), (255, 0, 0, 0)), tmp_path, "a.png"))
    assert alpha.image.getpixel((0, 0)) == (255, 255, 255) and any("Transparent" in n for n in alpha.notes)
    deep = open_image(save(Image.new("I;16", (10, 10), 4000), tmp_path, "d.png"))
    assert deep.image.mode == "RGB"
    gray = open_image(save(Image.new("L", (10, 10), 128), tmp_path, "g.png"))
    assert gray.image.getpixel((0, 0)) == (128, 128, 128)


def test_animated_gif_uses_the_first_frame(tmp_path):
    frames = [Image.new("RGB", (8, 8), c) for c in ("red", "green", "blue")]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    loaded = open_image(path)
    assert any("first frame" in n for n in loaded.notes)


def test_exif_rotation_is_honoured(tmp_path):
    img = Image.new("RGB", (60, 20), "red")
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    loaded = open_image(save(img, tmp_path, "rot.jpg", exif=exif))
    assert loaded.image.size == (20, 60)


def test_large_images_are_downscaled_and_bombs_refused(tmp_path):
    path = save(Image.new("RGB", (3000, 1000)), tmp_path, "wide.png")
    with override_settings(limits=Limits(image_side=1000)):
        loaded = open_image(path)
    assert max(loaded.image.size) == 1000 and loaded.original_size == (3000, 1000)
    with override_settings(limits=Limits(image_pixels=1_000_000)), pytest.raises(InvalidUpload, match="pixels"):
        open_image(path)


def test_truncated_and_fake_images(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), "blue").save(buf, "PNG")
    truncated = write(tmp_path, "t.png", buf.getvalue()[: len(buf.getvalue()) // 3])
    with pytest.raises(InvalidUpload, match="not a readable image"):
        open_image(truncated)
    with pytest.raises(InvalidUpload, match="not image"):
        open_image(write(tmp_path, "fake.png", "I am text"))


# ---- PDFs ------------------------------------------------------------------------------------------

def make_pdf(path, pages, *, encrypt=False, image_only=False):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    for text in pages:
        if image_only:
            c.rect(100, 100, 200, 200, fill=1)
        else:
            c.drawString(72, 750, text)
        c.showPage()
    c.save()
    if encrypt:
        from pypdf import PdfWriter

        w = PdfWriter(clone_from=str(path))
        w.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
        w.write(str(path))
    return path


def test_pdf_text_per_page(tmp_path):
    pdf = read_pdf(make_pdf(tmp_path / "ok.pdf", ["Page one: the quick fox.", "Page two: café ✓"]))
    assert [p.strip() for p in pdf.pages] == ["Page one: the quick fox.", "Page two: café ✓"]


def test_encrypted_scanned_broken_and_long_pdfs(tmp_path):
    with pytest.raises(InvalidUpload, match="password-protected"):
        read_pdf(make_pdf(tmp_path / "enc.pdf", ["secret"], encrypt=True))
    with pytest.raises(InvalidUpload, match="OCR is not supported"):
        read_pdf(make_pdf(tmp_path / "scan.pdf", ["x"], image_only=True))
    good = make_pdf(tmp_path / "good.pdf", ["a", "b", "c"]).read_bytes()
    with pytest.raises(InvalidUpload, match="not a readable PDF"):
        read_pdf(write(tmp_path, "cut.pdf", good[: len(good) // 2]))
    with override_settings(limits=Limits(pdf_pages=2)), pytest.raises(InvalidUpload, match="limit is 2"):
        read_pdf(tmp_path / "good.pdf")


def test_utf16_without_bom_is_text_not_binary(tmp_path):
    for encoding in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes("text,label\nnaïve café,1\nplain,0\n".encode(encoding))
        assert sniff(path.read_bytes()) == "text"
        table = read_csv(path)
        assert table.columns == ["text", "label"] and table.frame["text"][0] == "naïve café"
        assert table.encoding == encoding
    assert sniff(b"\x00\x01\x02\x03" * 100) == "binary"  # NULs without the UTF-16 pattern stay binary


def test_pdf_decompression_bomb_is_named(tmp_path):
    from tests.apps.test_upload_endpoints_fuzz import _deflate_repeated, _raw_pdf

    path = tmp_path / "bomb.pdf"
    path.write_bytes(_raw_pdf(_deflate_repeated(b"0", 80_000_000)))  # ~80 KB that inflates past pypdf's limit
    with pytest.raises(InvalidUpload, match="decompression bomb"):
        read_pdf(path)


# ---- robust CSV reading (issue 17): delimiter by consistent parsing, messages that say how to fix ----------

SEMICOLON_MULTILINE = (  # text last, quoted, with a line break and quoted words: csv.Sniffer said ','
    'id;sentiment;review\n'
    '1;positive;"Great film; loved it, ""truly"", would\nwatch again"\n'
    '2;negative;"Dull, long, ""clever"" only in the trailer"\n'
    + "".join(f'{i};{"positive" if i % 2 else "negative"};Review {i}, with a comma\n' for i in range(3, 30))
)


def test_semicolon_csv_with_a_quoted_line_break(tmp_path):
    """A spreadsheet export: ';' delimiter, a quoted field holding a line break in the sniffed sample."""
    import csv as _csv

    sample = SEMICOLON_MULTILINE[:8192]
    try:
        sniffed = _csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except _csv.Error:
        sniffed = None
    assert sniffed != ";"  # what the old reader relied on gets this file wrong
    table = read_csv(write(tmp_path, "export.csv", SEMICOLON_MULTILINE.encode()))
    assert table.delimiter == ";" and table.columns == ["id", "sentiment", "review"]
    assert len(table.frame) == 29
    assert table.frame["review"][0] == 'Great film; loved it, "truly", would\nwatch again'
    assert table.frame["review"][1] == 'Dull, long, "clever" only in the trailer'
    assert "';' as the delimiter" in " ".join(table.notes)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_common_delimiters_are_detected(tmp_path, delimiter):
    from core.uploads import detect_delimiter

    rows = [["text", "label"], ["a, b; c | d", "x"], ['said "hi"\nthen left', "y"], ["plain", "x"]]
    import csv as _csv
    import io as _io

    buf = _io.StringIO()
    _csv.writer(buf, delimiter=delimiter).writerows(rows * 3)
    assert detect_delimiter(buf.getvalue()) == delimiter
    table = read_csv(write(tmp_path, "d.csv", buf.getvalue().encode()))
    assert table.columns == ["text", "label"]


def test_unreadable_csv_names_delimiter_encoding_and_fix(tmp_path, monkeypatch):
    import pandas as pd

    def broken(*a, **k):
        raise pd.errors.ParserError("',' expected after '\"'")

    monkeypatch.setattr(pd, "read_csv", broken)
    with pytest.raises(InvalidUpload) as err:
        read_csv(write(tmp_path, "bad.csv", SEMICOLON_MULTILINE.encode()))
    message = str(err.value)
    assert "delimiter ';'" in message and "encoding utf-8" in message and "save it again" in message


def test_large_images_are_refused_before_decoding(tmp_path, monkeypatch):
    """A 40–80 MP image (below PIL's own 2× bomb threshold) is refused from its header, never decoded."""
    from PIL import Image, ImageFile

    from core.settings import Limits, override_settings
    from core.uploads import InvalidUpload, open_image

    path = tmp_path / "big.png"
    Image.new("L", (3000, 2000)).save(path)  # 6 MP
    decoded = []
    original = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size) or original(self))
    with override_settings(limits=Limits(image_pixels=4_000_000)):  # 1.5× the limit: PIL would only warn
        with pytest.raises(InvalidUpload, match="3000×2000"):
            open_image(str(path))
    assert decoded == []
