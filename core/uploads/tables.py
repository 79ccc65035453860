"""CSV/TSV uploads: delimiter detection, :func:`read_csv` into a DataFrame, required columns."""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from core.errors import InvalidUpload
from core.settings import get_settings
from core.uploads.files import check_file
from core.uploads.text import decode_bytes


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
