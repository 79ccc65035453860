"""Topic Explorer corpora: built-ins, CSV uploads and every kind of bad input (no models here)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.errors import InvalidUpload, LabError
from core.settings import get_settings, override_settings
from core.topics.config import TopicConfig
from core.topics.data import (
    MAX_DOC_CHARS,
    SAMPLE_CSV,
    load_builtin,
    load_upload,
    min_docs_needed,
    prepare,
    preview,
)


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_builtin_news_has_suggested_columns() -> None:
    table = load_builtin("news", limit=50)
    assert len(table.frame) == 50
    assert (table.text_column, table.time_column, table.class_column) == ("text", "publish_date", "source")
    corpus = prepare(table, "text", "publish_date", "source", hover_column="title")
    assert len(corpus) == len(corpus.hover) == len(corpus.timestamps) == len(corpus.classes)
    assert {ts.year for ts in corpus.timestamps if ts == ts} <= {2016, 2017}
    assert "abcnews" in set(load_builtin("news").frame["source"])


def test_builtin_healthtweets_sample_has_accounts_and_dates() -> None:
    table = load_builtin("healthtweets")
    assert len(table.frame) == 2500
    corpus = prepare(table, table.text_column, table.time_column, table.class_column)
    assert len(set(corpus.classes)) >= 10
    assert all("http" not in d for d in corpus.docs)
    years = {ts.year for ts in corpus.timestamps if ts == ts}
    assert years and min(years) >= 2010 and max(years) <= 2016


def test_sample_csv_loads_with_guessed_columns() -> None:
    table = load_upload(str(SAMPLE_CSV))
    assert (table.text_column, table.time_column, table.class_column, table.hover_column) == \
        ("text", "date", "source", "title")
    assert len(prepare(table, "text")) == 239


def test_semicolon_latin1_csv(tmp_path: Path) -> None:
    rows = "\n".join(f"{i};Le café numéro {i} est très bon et la crème brûlée aussi;{i * 3}" for i in range(30))
    path = _write(tmp_path, "fr.csv", "id;texte;score\n" + rows, encoding="latin-1")
    table = load_upload(path)
    assert table.text_column == "texte"
    assert any("delimiter" in n for n in table.notes) and any("UTF-8" in n for n in table.notes)
    assert "café" in prepare(table, "texte").docs[0]


def test_no_text_column_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "nums.csv", "a,b\n" + "\n".join(f"{i},{i * 2.5}" for i in range(40)))
    with pytest.raises(InvalidUpload, match="no column with text"):
        load_upload(path)


def test_numeric_text_column_is_refused() -> None:
    table = load_builtin("news", limit=40)
    table.frame["n"] = [str(i) for i in range(40)]
    with pytest.raises(InvalidUpload, match="holds numbers"):
        prepare(table, "n")
    with pytest.raises(InvalidUpload, match="not in the table"):
        prepare(table, "missing")
    with pytest.raises(InvalidUpload, match="Choose the column"):
        prepare(table, None)


def test_empty_duplicate_and_long_rows_are_reported(tmp_path: Path) -> None:
    long = "word " * (MAX_DOC_CHARS // 4)
    lines = (["id,text"] + [f"{i},document number {i} about things" for i in range(25)]
             + ["90,", '91,"  "', "92,document number 3 about things", f"93,{long}"])
    table = load_upload(_write(tmp_path, "d.csv", "\n".join(lines)))
    p = preview(table, "text")
    assert (p.empty, p.duplicates, p.long_docs) == (2, 1, 1)
    corpus = prepare(table, "text")
    assert (corpus.dropped_empty, corpus.dropped_duplicates, corpus.truncated) == (2, 1, 1)
    assert len(corpus) == 26 and max(len(d) for d in corpus.docs) == MAX_DOC_CHARS
    joined = " ".join(corpus.notes)
    assert "2 empty" in joined and "1 duplicate" in joined and "Cut 1" in joined


def test_bad_timestamp_and_class_columns() -> None:
    table = load_builtin("news", limit=60)
    with pytest.raises(InvalidUpload, match="dates or times"):
        prepare(table, "text", time_column="title")
    table.frame["uid"] = [f"u{i}" for i in range(60)]
    prepare(table, "text", class_column="uid")  # 60 classes is fine
    big = load_builtin("news", limit=300)
    big.frame["uid"] = [f"u{i}" for i in range(300)]
    with pytest.raises(InvalidUpload, match="at most 200"):
        prepare(big, "text", class_column="uid")


def test_too_few_documents_says_how_many() -> None:
    assert min_docs_needed(15, 15) == 30
    with pytest.raises(LabError, match="at least 30 documents"):
        TopicConfig(min_cluster_size=15).validate(12)
    with pytest.raises(LabError, match="n_components"):
        TopicConfig(n_components=1).validate()


def test_the_embedding_model_must_be_a_catalogue_embedder() -> None:
    """Offline the dropdown lists one embedder but takes every catalogue one (API callers): others are refused."""
    for name in ("embed-minilm", "embed-mpnet", "embed-gte-small", "embed-bge-small", "session:abc:embedder:1"):
        assert TopicConfig(embedding_model=name).validate().embedding_model == name
    for name in ("chat-phi3-mini", "no-such-model"):
        with pytest.raises(LabError, match="embedding model must be one of embed-minilm"):
            TopicConfig(embedding_model=name).validate()


def test_row_and_size_caps(tmp_path: Path) -> None:
    path = _write(tmp_path, "many.csv", "text\n" + "\n".join(f"row {i} has words" for i in range(80)))
    limits = get_settings().limits
    with override_settings(limits=dataclasses.replace(limits, csv_rows=50)):
        with pytest.raises(InvalidUpload, match="limit is 50"):
            load_upload(path)
    with override_settings(limits=dataclasses.replace(limits, upload_mb=0)):
        with pytest.raises(InvalidUpload, match="limit is 0 MB"):
            load_upload(path)
    table = load_upload(path)
    with pytest.raises(InvalidUpload, match="at most 40"):
        prepare(table, "text", max_docs=40)


def test_binary_and_empty_uploads(tmp_path: Path) -> None:
    with pytest.raises(InvalidUpload):
        load_upload(_write(tmp_path, "e.csv", ""))
    bad = tmp_path / "b.csv"
    bad.write_bytes(b"\x7fELF\x00\x00binary")
    with pytest.raises(InvalidUpload, match="binary"):
        load_upload(str(bad))
