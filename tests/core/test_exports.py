"""The one safe CSV writer: formula neutralisation (incl. leading tab / CR), numbers stay numbers."""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from core.exports import frame_to_csv, safe_cell, to_csv_bytes, to_csv_text, write_csv

HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "\t", "\r"]


@pytest.mark.parametrize("text", HOSTILE)
def test_strings_that_start_a_formula_are_neutralised(text: str):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["plain", " =not first", "a=b", "", "'already", "1e5", "−1 (unicode minus)"])
def test_harmless_strings_unchanged(value: str):
    assert safe_cell(value) == value


def test_numbers_stay_numbers_and_none_is_empty():
    assert safe_cell(-1) == -1 and safe_cell(-0.5) == -0.5 and safe_cell(Decimal("-2")) == Decimal("-2")
    assert safe_cell("-1") == "'-1"  # a *string* from user text is neutralised
    assert safe_cell(None) == "" and safe_cell(True) == "True"
    np = pytest.importorskip("numpy")
    assert safe_cell(np.float32(-1.5)) == np.float32(-1.5)


def test_every_cell_header_and_mapping_rows(tmp_path: Path):
    rows = [{"text": "=cmd|' /C calc'!A0", "score": -0.25}, {"text": "\tx", "score": 3}]
    path = tmp_path / "out.csv"
    assert write_csv(path, rows, ["text", "score"]) == 2
    back = list(csv.reader(path.open(encoding="utf-8", newline="")))
    assert back == [["text", "score"], ["'=cmd|' /C calc'!A0", "-0.25"], ["'\tx", "3"]]
    assert to_csv_text([["@a", "-"]], ["=h", "ok"]).splitlines() == ["'=h,ok", "'@a,'-"]
    buf = io.StringIO()
    write_csv(buf, [["\r\n=1"]])
    assert next(csv.reader(io.StringIO(buf.getvalue()))) == ["'\r\n=1"]


def test_bytes_and_bom():
    data = to_csv_bytes([["é", 1]], ["a", "b"], bom=True)
    assert data.startswith(b"\xef\xbb\xbf") and data.decode("utf-8-sig") == "a,b\r\né,1\r\n"
    with pytest.raises(ValueError):
        to_csv_text([{"a": 1}])  # mappings need a header


def test_dataframe_through_the_writer():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"doc": ["+SUM(1)", "fine"], "prob": [-0.1, 0.9]})
    assert frame_to_csv(frame).splitlines() == ["doc,prob", "'+SUM(1),-0.1", "fine,0.9"]
