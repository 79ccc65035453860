"""The ONE CSV writer for everything the lab exports (arena votes, topics, per-example predictions…).

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula, and a leading tab or carriage return can hide such a prefix from a naive check
(OWASP "CSV Injection"). Every cell therefore goes through :func:`safe_cell`, which prefixes a single
quote to such *strings*, as OWASP advises; the quote shows in the cell and disarms the formula.

Decision on numbers: values the lab itself writes as numbers (``int``, ``float``, ``Decimal``,
numpy scalars) stay numbers, so ``-0.5`` is written as ``-0.5`` and sorts as a number. Only strings
are neutralised — a *string* ``"-1+2"`` (user text) becomes ``'-1+2``. ``None`` is an empty cell,
booleans are ``True``/``False``.

    write_csv("out.csv", rows, header=["text", "score"])
    data = to_csv_bytes(rows, header)          # for a download (UTF-8 with a BOM for Excel: bom=True)
"""
from __future__ import annotations

import csv
import io
import numbers
from pathlib import Path
from typing import IO, Any, Iterable, Mapping, Sequence

#: Leading characters that make a spreadsheet treat a cell as a formula (or hide such a start).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Row = Sequence[Any] | Mapping[str, Any]


def safe_cell(value: Any) -> Any:
    """``value`` safe to put in a CSV cell: strings starting with = + - @ tab or CR get a leading ``'``.

    Numbers (not bool) are returned unchanged, ``None`` becomes ``""``, anything else is ``str()``-ed
    and checked like a string.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Number):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _cells(row: Row, header: Sequence[str] | None) -> list[Any]:
    if isinstance(row, Mapping):
        if header is None:
            raise ValueError("rows given as mappings need a header")
        return [safe_cell(row.get(h)) for h in header]
    return [safe_cell(v) for v in row]


def write_csv(path_or_buffer: str | Path | IO[str], rows: Iterable[Row], header: Sequence[str] | None = None,
              *, bom: bool = False) -> int:
    """Write ``header`` (if given) and ``rows`` (sequences, or mappings keyed by ``header``) with every
    cell through :func:`safe_cell`; return the number of data rows. A path is written as UTF-8
    (with a BOM when ``bom``, which Excel needs to read UTF-8); a text buffer is written as is."""
    if isinstance(path_or_buffer, (str, Path)):
        with open(path_or_buffer, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            return _write(fh, rows, header)
    return _write(path_or_buffer, rows, header)


def _write(fh: IO[str], rows: Iterable[Row], header: Sequence[str] | None) -> int:
    # RFC 4180 line ends: with "\r\n" as terminator the writer also quotes cells holding a bare "\r"
    writer = csv.writer(fh, lineterminator="\r\n")
    if header is not None:
        writer.writerow([safe_cell(h) for h in header])
    n = 0
    for row in rows:
        writer.writerow(_cells(row, header))
        n += 1
    return n


def to_csv_text(rows: Iterable[Row], header: Sequence[str] | None = None) -> str:
    """The CSV as a string (see :func:`write_csv`)."""
    buf = io.StringIO()
    _write(buf, rows, header)
    return buf.getvalue()


def to_csv_bytes(rows: Iterable[Row], header: Sequence[str] | None = None, *, bom: bool = False) -> bytes:
    """The CSV as UTF-8 bytes (with a BOM when ``bom``), for downloads."""
    return (("\ufeff" if bom else "") + to_csv_text(rows, header)).encode("utf-8")


def frame_to_csv(frame: Any, path_or_buffer: str | Path | IO[str] | None = None, *, index: bool = False) -> Any:
    """A pandas DataFrame through the safe writer: writes to ``path_or_buffer`` or returns the text."""
    header = ([frame.index.name or ""] if index else []) + [str(c) for c in frame.columns]
    rows = ([i, *r] if index else list(r) for i, r in zip(frame.index, frame.itertuples(index=False, name=None)))
    if path_or_buffer is None:
        return to_csv_text(rows, header)
    return write_csv(path_or_buffer, rows, header)
