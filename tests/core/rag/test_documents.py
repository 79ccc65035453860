"""Reading uploads for RAG Chat: PDFs the tests generate, text encodings, and every refusal."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InvalidUpload
from core.rag.chunking import ChunkConfig, chunk_document
from core.rag.documents import builtin_corpus, read_document, read_documents
from core.settings import Limits, get_settings, override_settings


def make_pdf(path: Path, pages: list[str]) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for page in pages:
        y = 780
        for line in page.split("\n"):
            c.setFont("Helvetica", 11)
            c.drawString(60, y, line)
            y -= 16
        c.showPage()
    c.save()
    return path


def test_pdf_pages_and_page_numbers_in_chunks(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "report.pdf", ["Page one talks about apples.\nApples are red.",
                                              "Page two talks about the Café naïve résumé.",
                                              "Page three: bananas are yellow."])
    doc = read_document(str(pdf))
    assert doc.kind == "pdf" and len(doc.pages) == 3 and doc.name == "report.pdf"
    assert "Café naïve résumé" in doc.pages[1]
    chunks = chunk_document(doc, ChunkConfig("sentence", 1, 0))
    assert [c.page for c in chunks] == [1, 1, 2, 3]
    assert chunks[3].where() == "report.pdf, p. 3"


def test_pdf_made_with_fpdf2(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "The fpdf2 page mentions zebras. Zebras have stripes.")
    path = tmp_path / "fpdf.pdf"
    pdf.output(str(path))
    assert "zebras" in read_document(str(path)).pages[0]


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    src = make_pdf(tmp_path / "plain.pdf", ["secret text"])
    w = PdfWriter(clone_from=str(src))
    w.encrypt(user_password="pw", owner_password="owner", algorithm="AES-256")
    w.write(str(tmp_path / "locked.pdf"))
    with pytest.raises(InvalidUpload, match="password-protected"):
        read_document(str(tmp_path / "locked.pdf"))


def test_scanned_pdf_says_ocr_not_supported(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(tmp_path / "scan.pdf"))
    c.rect(100, 100, 300, 400, fill=1)  # an "image" of a page: shapes, no text layer
    c.showPage()
    c.save()
    with pytest.raises(InvalidUpload, match="OCR is not supported"):
        read_document(str(tmp_path / "scan.pdf"))


def test_corrupted_truncated_and_empty(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", ["some text"]).read_bytes()
    (tmp_path / "half.pdf").write_bytes(good[: len(good) // 2])
    with pytest.raises(InvalidUpload, match="not a readable PDF"):
        read_document(str(tmp_path / "half.pdf"))
    (tmp_path / "fake.pdf").write_text("hello, not a pdf")
    with pytest.raises(InvalidUpload, match="not a PDF"):
        read_document(str(tmp_path / "fake.pdf"))
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(InvalidUpload, match="empty"):
        read_document(str(tmp_path / "empty.txt"))
    (tmp_path / "blank.md").write_text("  \n\n ")
    with pytest.raises(InvalidUpload, match="no text"):
        read_document(str(tmp_path / "blank.md"))
    (tmp_path / "prog.bin").write_bytes(b"\x7fELF\x00\x00binary")
    with pytest.raises(InvalidUpload, match="binary"):
        read_document(str(tmp_path / "prog.bin"))


def test_page_and_size_limits(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "long.pdf", [f"page {i}" for i in range(6)])
    with override_settings(limits=Limits(pdf_pages=5)):
        with pytest.raises(InvalidUpload, match="6 pages; the limit is 5"):
            read_document(str(pdf))
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (1024 * 1024 + 10))
    with override_settings(limits=Limits(upload_mb=1)):
        with pytest.raises(InvalidUpload, match="limit is 1 MB"):
            read_document(str(big))
    assert get_settings().limits.upload_mb == Limits.upload_mb


def test_non_utf8_text_is_decoded_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Le café de la gare est très célèbre à Genève, près du lac Léman. ".encode("cp1252") * 4)
    doc = read_document(str(path))
    assert "café" in doc.pages[0] and doc.kind == "text"
    assert any("not UTF-8" in n for n in doc.notes)


def test_markdown_kind_and_unknown_extension(tmp_path: Path) -> None:
    (tmp_path / "n.md").write_text("# Title\n\nBody text.")
    assert read_document(str(tmp_path / "n.md")).kind == "markdown"
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InvalidUpload, match="PDF, TXT and Markdown"):
        read_document(str(tmp_path / "data.csv"))


def test_read_documents_keeps_good_files_and_reports_bad(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("Fine text here.")
    (tmp_path / "empty.txt").write_bytes(b"")
    res = read_documents([str(tmp_path / "ok.txt"), str(tmp_path / "empty.txt")])
    assert [d.name for d in res.docs] == ["ok.txt"] and len(res.errors) == 1 and "empty" in res.errors[0]
    with pytest.raises(InvalidUpload, match="No file"):
        read_documents([])


def test_gradio_file_dicts_keep_the_original_name(tmp_path: Path) -> None:
    (tmp_path / "tmpab12.txt").write_text("Text.")
    doc = read_document({"path": str(tmp_path / "tmpab12.txt"), "orig_name": "notes.txt"})
    assert doc.name == "notes.txt"


def test_builtin_corpus_and_sources() -> None:
    docs = builtin_corpus()
    assert [d.name for d in docs][0] == "interstellar.md" and len(docs) == 4
    sources = (Path(__file__).resolve().parents[3] / "assets" / "rag" / "SOURCES.md").read_text()
    for d in docs:
        assert d.name in sources and d.chars > 1000
