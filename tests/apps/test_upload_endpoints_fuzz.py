"""Fuzzing every app's own upload endpoint through gradio_client, not only the shared readers.

Hypothesis (derandomized: 8 generated examples per endpoint plus fixed ``@example`` cases; those
commented "was: …" are regressions this file found) sends random bytes, truncated and corrupted
real files, real files under the wrong extension, giant header lines, odd encodings, empty files
and bombs (PNG/GIF headers declaring gigapixels, a PNG that inflates to tens of MB,
PDFs whose few-KB streams expand to megabytes of drawing instructions or past pypdf's 75 MB cap,
deeply nested PDFs, ZIPs named .csv) to the Classifier Zoo, the Topic Explorer, RAG Chat and the
Multimodal Captioner (file and webcam inputs). Every case must end, within a time bound, in a
normal result or a specific message: never the generic "Something went wrong (…)" of
``apps.common.user_errors``, Gradio's "upstream … exception", a traceback or a server path. The app
must answer a normal request right after each case, and the process's memory (the apps run in
this process) must stay bounded.
"""
from __future__ import annotations

import functools
import io
import itertools
import struct
import tempfile
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import serve_blocks

FUZZ = settings(max_examples=8, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
CALL_TIMEOUT_S = 45.0  # one fuzzed request (they take ~0.2-2 s here; the slowest bombs ~3 s)
RSS_LIMIT_MB = 300.0  # peak growth of this process's memory during one endpoint's fuzzing
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
GENERIC = ("Something went wrong", "upstream Gradio app", "Traceback", "ComponentProcessingError",
           "/tmp/", "Error(")

# --------------------------------------------------------------------------------------------
# files: real seeds, bombs and other nasty inputs (built once, cached)
# --------------------------------------------------------------------------------------------

GOOD_CSV = ("text,label\n" + "\n".join(
    f"{w} review number {i} with a few words,{'pos' if i % 2 else 'neg'}"
    for i, w in enumerate(["great", "awful", "lovely", "boring"] * 6))).encode()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@functools.lru_cache(maxsize=None)
def _image(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    img = Image.new(mode, size, (10, 200, 30) if mode == "RGB" else None)
    if fmt == "GIF":
        frames = [img.convert("P"), Image.new("RGB", size, (200, 10, 30)).convert("P")]
        frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    else:
        img.save(buf, fmt)
    return buf.getvalue()


@functools.lru_cache(maxsize=None)
def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for text in ("Zebras have black and white stripes.", "Okapis live in the Congo."):
        c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def _raw_pdf(stream: bytes, *, flate: bool = True) -> bytes:
    """A one-page PDF whose page content is ``stream`` (compressed with FlateDecode if ``flate``)."""
    head = b"/Filter /FlateDecode " if flate else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< " + head + b"/Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _deflate_repeated(piece: bytes, total: int) -> bytes:
    """zlib of ``piece`` repeated up to ``total`` bytes, without building the big buffer."""
    comp = zlib.compressobj(9)
    block = piece * max(1, 1_000_000 // len(piece))
    out, done = [], 0
    while done < total:
        out.append(comp.compress(block))
        done += len(block)
    return b"".join(out) + comp.flush()


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
            + _chunk(b"IEND", b""))


def _png_inflating(side: int) -> bytes:
    """A valid RGBA PNG of side × side pixels, all zero: ~30 KB that decode to side² × 4 bytes."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    idat = _deflate_repeated(b"\x00" * (side * 4 + 1), side * (side * 4 + 1))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _gif_declaring(width: int, height: int) -> bytes:
    """A GIF whose logical screen is width × height with one 1×1 frame."""
    return (b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
            + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00" + b"\x3b")


def _zip_of_zeros() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("huge.csv", "0" * 10_000_000)
    return buf.getvalue()


def _many_pages(n: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(n):
        writer.add_blank_page(72, 72)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


#: Named nasty inputs, built lazily (some take a moment) and cached.
NASTY: dict[str, Callable[[], bytes]] = {
    "empty": lambda: b"",
    "png-gigapixel": lambda: _png_declaring(100_000, 100_000),
    "png-just-over-limit": lambda: _png_declaring(8_000, 6_000),  # 48 MP, PIL's own bomb limit is 2× higher
    "png-inflates-to-36mb": lambda: _png_inflating(3_000),
    "gif-huge-screen": lambda: _gif_declaring(65_535, 65_535),
    # 3 MB of text operators in a few KB of stream: pypdf would parse it for half a minute or more
    "pdf-operator-bomb": lambda: _raw_pdf(_deflate_repeated(b"BT /F1 12 Tf 72 720 Td (hello) Tj ET\n", 3_000_000)),
    # 80 MB of zeros in ~80 KB: pypdf stops at 75 MB with LimitReachedError
    "pdf-past-pypdf-limit": lambda: _raw_pdf(_deflate_repeated(b"0", 80_000_000)),
    "pdf-nested-arrays": lambda: (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R /X " + b"[" * 50_000
                                  + b"]" * 50_000 + b" >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>"
                                  b"\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"),
    "pdf-301-pages": lambda: _many_pages(301),
    "zip-of-zeros": _zip_of_zeros,
    "giant-header-line": lambda: b"x" * 1_500_000 + b"\n1\n",
    "20000-columns": lambda: (",".join(f"col{i}" for i in range(20_000)) + "\n"
                              + ",".join("1" for _ in range(20_000)) + "\n").encode(),
    # csv.Sniffer's quote regex is quadratic: 64 KB of these took 10-30 s to sniff
    "sniffer-quadratic": lambda: b'a,"b\n' * 13_000,
    "columns-equal-after-strip": lambda: b"text, text,label\n" + b"\n".join(
        b"some words %d,more words,%s" % (i, b"ab"[i % 2:i % 2 + 1]) for i in range(12)),
    "blank-column-names": lambda: b" ,  ,label\n" + b"\n".join(b"a text %d,x,%d" % (i, i % 2) for i in range(12)),
    "only-a-header": lambda: b"text,label\n",
    "nul-bytes": lambda: b"text,label\n\x00\x00\x00,pos\n" * 5,
    "utf16-le-no-bom": lambda: GOOD_CSV.decode().encode("utf-16-le"),
    "utf16-be-no-bom": lambda: GOOD_CSV.decode().encode("utf-16-be"),
    "utf16-bom": lambda: GOOD_CSV.decode().encode("utf-16"),
    "latin1-then-utf8": lambda: "text,label\ncafé crème,pos\n".encode("latin-1") + "naïve façade,neg\n".encode(),
    "bom-only": lambda: b"\xef\xbb\xbf",
    "whitespace-only": lambda: b" \n\t\n  \r\n",
}

SEEDS: dict[str, Callable[[], bytes]] = {
    "csv": lambda: GOOD_CSV,
    "txt": lambda: b"Zebras have black and white stripes. Okapis live in the Congo.\n",
    "md": lambda: b"# Title\n\nSome *markdown* text about telescopes.\n",
    "png": lambda: _image("PNG"),
    "png-rgba": lambda: _image("PNG", mode="RGBA"),
    "jpeg": lambda: _image("JPEG"),
    "gif": lambda: _image("GIF"),
    "tiff": lambda: _image("TIFF"),
    "webp": lambda: _image("WEBP"),
    "pdf": _pdf,
}


@functools.lru_cache(maxsize=None)
def _payload(kind: str, key: str) -> bytes:
    return (NASTY if kind == "nasty" else SEEDS)[key]()


# A case is (file name, recipe); recipes stay small and printable so hypothesis reports them well.
@st.composite
def _corrupted(draw: Any) -> tuple[str, ...]:
    seed = draw(st.sampled_from(sorted(SEEDS)))
    cut = draw(st.integers(0, 100))
    flips = draw(st.lists(st.integers(0, 10**6), max_size=6))
    return ("corrupt", seed, str(cut), ",".join(map(str, flips)))


_ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1251", "gb18030", "shift_jis"]


def uploads(names: list[str]) -> st.SearchStrategy[tuple[str, tuple[str, ...]]]:
    recipes = st.one_of(
        st.binary(max_size=3000).map(lambda b: ("bytes", b.hex())),
        _corrupted(),
        st.sampled_from(sorted(SEEDS)).map(lambda k: ("seed", k)),  # real file, maybe the wrong extension
        st.tuples(st.text(max_size=400), st.sampled_from(_ENCODINGS)).map(lambda t: ("text", t[0], t[1])),
        st.sampled_from(sorted(NASTY)).map(lambda k: ("nasty", k)),
    )
    return st.tuples(st.sampled_from(names), recipes)


def build_bytes(recipe: tuple[str, ...]) -> bytes:
    kind = recipe[0]
    if kind == "bytes":
        return bytes.fromhex(recipe[1])
    if kind in ("seed", "nasty"):
        return _payload(kind, recipe[1])
    if kind == "text":  # CSV-shaped text in an odd encoding
        text = "text,label\n" + "\n".join(f"{line},x" for line in (recipe[1] or "empty").splitlines() or [""])
        return text.encode(recipe[2], errors="replace")
    if kind == "corrupt":
        data = bytearray(_payload("seed", recipe[1]))
        data = data[: len(data) * int(recipe[2]) // 100]
        for position in filter(None, recipe[3].split(",")):
            if data:
                data[int(position) % len(data)] ^= 0xFF
        return bytes(data)
    raise AssertionError(recipe)


_counter = itertools.count()


def write_case(case: tuple[str, tuple[str, ...]]) -> str:
    name, recipe = case
    folder = Path(_TMP.name) / f"case{next(_counter)}"
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(build_bytes(recipe))
    return str(path)


_TMP = tempfile.TemporaryDirectory(prefix="llm-lab-upload-fuzz-")  # removed when the process ends

# --------------------------------------------------------------------------------------------
# serving, calling, memory
# --------------------------------------------------------------------------------------------


def call(client: Any, *args: Any, api_name: str) -> tuple[Any, str | None]:
    """(result, None) or (None, message): the message must be specific, never generic or a trace."""
    job = client.submit(*args, api_name=api_name)
    try:
        return job.result(timeout=CALL_TIMEOUT_S), None  # a hang fails here with TimeoutError
    except AppError as exc:
        message = str(exc)
        assert len(message) >= 15 and not any(g in message for g in GENERIC), f"unclear message: {message!r}"
        return None, message


class PeakRss:
    """The peak resident memory of this process while a block runs, sampled every 20 ms."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self.baseline = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 1e6


@pytest.fixture(scope="module")
def memory() -> Iterator[dict[str, PeakRss]]:
    """One running sampler per endpoint test, started after the app's warm-up request."""
    watches: dict[str, PeakRss] = {}
    yield watches
    for w in watches.values():
        w.__exit__()


def _watch(memory: dict[str, PeakRss], key: str) -> PeakRss:
    if key not in memory:
        memory[key] = PeakRss().__enter__()
    return memory[key]


def _check_memory(memory: dict[str, PeakRss], key: str) -> None:
    watch = memory[key]
    assert watch.growth_mb < RSS_LIMIT_MB, f"{key}: memory grew {watch.growth_mb:.0f} MB while fuzzing"


def _value(update: Any) -> Any:
    return update["value"] if isinstance(update, dict) else update


# --------------------------------------------------------------------------------------------
# Classifier Zoo: /classifiers_upload, then /classifiers_train_rows with the guessed columns
# --------------------------------------------------------------------------------------------

CSV_NAMES = ["data.csv", "data.csv", "reviews.tsv", "notes.txt", "photo.png", "doc.pdf"]


@pytest.fixture(scope="module")
def classifiers() -> Iterator[Any]:
    from apps.classifiers.app import CSS, build

    yield from serve_blocks(build(), CSS)


def _classifiers_normal(client: Any) -> None:
    good = handle_file(write_case(("good.csv", ("seed", "csv"))))
    text_col, label_col, counts, *_ = client.predict(good, 30, 80, api_name="/classifiers_upload")
    assert (_value(text_col), _value(label_col)) == ("text", "label") and "pos" in counts


@FUZZ
@given(case=uploads(CSV_NAMES))
@example(case=("dup.csv", ("nasty", "columns-equal-after-strip")))  # was: Something went wrong (AttributeError)
@example(case=("quotes.csv", ("nasty", "sniffer-quadratic")))  # was: ~30 s in csv.Sniffer
@example(case=("wide.csv", ("nasty", "20000-columns")))  # was: ~15 s of per-column guessing
@example(case=("data.csv", ("nasty", "utf16-le-no-bom")))
def test_classifier_zoo_csv_upload(classifiers: Any, memory: dict, case: tuple) -> None:
    if "classifiers" not in memory:
        _classifiers_normal(classifiers)  # warm-up before the memory baseline
    _watch(memory, "classifiers")
    file = handle_file(write_case(case))
    result, message = call(classifiers, file, 30, 80, api_name="/classifiers_upload")
    if result is not None:
        text_col, label_col, counts, descriptions, words = result
        rows, message = call(classifiers, "Upload a CSV", file, _value(text_col), _value(label_col), 30, 80,
                             api_name="/classifiers_train_rows")
        assert rows is not None or message
    _classifiers_normal(classifiers)
    _check_memory(memory, "classifiers")


# --------------------------------------------------------------------------------------------
# Topic Explorer: /topics_load with source "upload"
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def topics() -> Iterator[Any]:
    from apps.topics.app import CSS, build

    yield from serve_blocks(build(), CSS)


def _topics_normal(client: Any) -> None:
    good = handle_file(write_case(("good.csv", ("seed", "csv"))))
    text_col, _time, _cls, preview = client.predict("upload", good, api_name="/topics_load")
    assert _value(text_col) == "text" and "good.csv" in preview


@FUZZ
@given(case=uploads(CSV_NAMES))
@example(case=("dup.csv", ("nasty", "columns-equal-after-strip")))  # was: Something went wrong (AttributeError)
@example(case=("blank.csv", ("nasty", "blank-column-names")))
@example(case=("wide.csv", ("nasty", "20000-columns")))  # was: ~45 s of per-column guessing
@example(case=("quotes.csv", ("nasty", "sniffer-quadratic")))
def test_topic_explorer_csv_upload(topics: Any, memory: dict, case: tuple) -> None:
    if "topics" not in memory:
        _topics_normal(topics)
    _watch(memory, "topics")
    result, message = call(topics, "upload", handle_file(write_case(case)), api_name="/topics_load")
    assert result is not None or message
    if result is not None:
        assert len(result) == 4 and _value(result[0])  # a text column was chosen
    _topics_normal(topics)
    _check_memory(memory, "topics")


# --------------------------------------------------------------------------------------------
# RAG Chat: /rag_index (PDF, TXT, Markdown)
# --------------------------------------------------------------------------------------------

RAG_NAMES = ["doc.pdf", "doc.pdf", "notes.txt", "readme.md", "data.csv"]


@pytest.fixture(scope="module")
def rag() -> Iterator[Any]:
    from apps.rag.app import CSS, build

    yield from serve_blocks(build(), CSS)


def _rag_normal(client: Any) -> None:
    good = handle_file(write_case(("zebras.txt", ("seed", "txt"))))
    status, *_ = client.predict([good], "sentence", 2, 0, api_name="/rag_index")
    assert "Indexed" in status


@FUZZ
@given(case=uploads(RAG_NAMES))
@example(case=("bomb.pdf", ("nasty", "pdf-operator-bomb")))  # was: the worker busy for minutes
@example(case=("limit.pdf", ("nasty", "pdf-past-pypdf-limit")))  # was: Something went wrong (LimitReachedError)
@example(case=("nested.pdf", ("nasty", "pdf-nested-arrays")))
@example(case=("notes.txt", ("nasty", "utf16-bom")))
def test_rag_chat_document_upload(rag: Any, memory: dict, case: tuple) -> None:
    if "rag" not in memory:
        _rag_normal(rag)  # loads the embedder before the memory baseline
    _watch(memory, "rag")
    result, message = call(rag, [handle_file(write_case(case))], "sentence", 2, 0, api_name="/rag_index")
    if result is not None:
        assert "Indexed" in result[0]
    _rag_normal(rag)
    _check_memory(memory, "rag")


# --------------------------------------------------------------------------------------------
# Multimodal Captioner: the image files input and the webcam image, through /vision_ask
# (offline it reads the images like every vision endpoint, then explains that BLIP-2 is missing)
# --------------------------------------------------------------------------------------------

IMAGE_NAMES = ["photo.png", "photo.png", "photo.jpg", "anim.gif", "scan.tiff", "data.csv"]


@pytest.fixture(scope="module")
def vision() -> Iterator[Any]:
    from apps.vision.app import CSS, build

    yield from serve_blocks(build(), CSS)


def _vision_normal(client: Any) -> None:
    good = handle_file(write_case(("ok.png", ("seed", "png"))))
    html, _question = client.predict([], [good], good, "What is this?", api_name="/vision_ask")
    assert "BLIP-2" in html


@FUZZ
@given(case=uploads(IMAGE_NAMES))
@example(case=("shot.png", ("bytes", b"definitely not an image".hex())))  # webcam: was Gradio's generic error
@example(case=("bomb.png", ("nasty", "png-gigapixel")))  # webcam: was Gradio's generic error (PIL's bomb check)
@example(case=("big.png", ("nasty", "png-inflates-to-36mb")))
@example(case=("photo.png", ("bytes", (b"GIF89a" + b"x" * 3).hex())))  # was: the server path in the message
def test_captioner_image_files_and_webcam(vision: Any, memory: dict, case: tuple) -> None:
    if "vision" not in memory:
        _vision_normal(vision)
    _watch(memory, "vision")
    file = handle_file(write_case(case))
    for files, webcam in (([file], None), ([], file)):
        result, message = call(vision, [], files, webcam, "What is this?", api_name="/vision_ask")
        assert result is not None or message
    _vision_normal(vision)
    _check_memory(memory, "vision")
