"""What the Tokenizer Arena app asks of core: compare, chat template view, language cost, decode.

Results are small dataclasses; the app only lays them out.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from core.errors import LabError
from core.settings import get_settings

from .registry import HUB_PREFIX, SPEC_BY_ID, available_specs, get_tokenizer, label_of
from .render import (DIFF_CHARS, RENDER_LIMIT, BoundaryDiff, Group, TextCounts, TokenStats, boundary_diff,
                     decode_safely, grapheme_boundaries, group_tokens, parse_ids, render_tokens, sanitize, text_counts,
                     token_stats)

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "tokenizers"
MAX_TOKENIZERS = 12


@lru_cache(maxsize=None)
def _asset_json(name: str) -> Any:
    return json.loads((ASSETS / name).read_text(encoding="utf-8"))


def examples() -> dict[str, str]:
    """Built-in example texts (name → text); the first is the book's §2.1.5 sample."""
    return {e["name"]: e["text"] for e in _asset_json("examples.json")["examples"]}


def book_sample() -> str:
    return next(iter(examples().values()))


def language_sentences() -> list[dict[str, str]]:
    return list(_asset_json("language_cost.json")["sentences"])


def price_table() -> dict[str, Any]:
    return dict(_asset_json("prices.json"))


# ------------------------------------------------------------------------------------------------
# compare
# ------------------------------------------------------------------------------------------------

@dataclass
class Column:
    tokenizer: str
    label: str
    html: str  # chips
    stats: TokenStats | None
    error: str = ""
    shown_tokens: int = 0
    special_tokens_defined: list[str] = field(default_factory=list)
    family: str = ""


@dataclass
class CompareResult:
    text: str
    counts: TextCounts
    columns: list[Column]
    diff: BoundaryDiff
    notes: list[str]
    limit: int

    @property
    def ok_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.error]


def resolve_selection(selected: Sequence[str] | None, extra_hub_ids: str = "") -> list[str]:
    """Arena ids from the checkbox selection plus comma-separated Hub ids a user typed."""
    ids: list[str] = []
    for s in selected or []:
        s = str(s).strip()
        if s and s not in ids:
            ids.append(s)
    for raw in (extra_hub_ids or "").replace("\n", ",").split(","):
        raw = raw.strip()
        if raw:
            key = raw if raw in SPEC_BY_ID else HUB_PREFIX + raw
            if key not in ids:
                ids.append(key)
    return ids[:MAX_TOKENIZERS]


def compare(text: str, tokenizer_ids: Sequence[str], *, limit: int = RENDER_LIMIT,
            diff_chars: int = DIFF_CHARS) -> CompareResult:
    """Tokenize ``text`` with every tokenizer; a tokenizer that fails becomes a one-line column error."""
    text, notes = sanitize(text)
    max_chars = get_settings().limits.text_chars * 2
    if len(text) > max_chars:
        raise LabError(f"The text has {len(text):,} characters; the arena takes up to {max_chars:,}.")
    counts = text_counts(text)
    if not tokenizer_ids:
        raise LabError("Pick at least one tokenizer.")
    columns: list[Column] = []
    groups: dict[str, list[Group]] = {}
    labels: dict[str, str] = {}
    encoded: list[tuple[str, Any, Any]] = []
    for tid in tokenizer_ids:
        try:
            tok = get_tokenizer(tid)
        except LabError as exc:
            encoded.append((tid, None, str(exc)))
            continue
        encoded.append((tid, tok, tok.encode(text)))
    reach = max((max(enc.ends[:limit], default=0) for _, tok, enc in encoded if tok is not None), default=0)
    bounds = grapheme_boundaries(text, reach)  # shared by every column
    for tid, tok, enc in encoded:
        label = label_of(tid)
        spec = SPEC_BY_ID.get(tid)
        if tok is None:
            columns.append(Column(tid, label, "", None, error=enc))
            continue
        g = group_tokens(enc, limit, bounds)
        groups[tid] = g
        labels[tid] = label
        columns.append(Column(tid, label, render_tokens(enc, tok, limit, g), token_stats(enc, tok, label, counts),
                              shown_tokens=min(len(enc.ids), limit), special_tokens_defined=tok.special_tokens(),
                              family=spec.family if spec else "Hugging Face Hub tokenizer"))
    if any(c.stats and c.stats.tokens > limit for c in columns):
        notes.append(f"Long text: each column draws its first {limit:,} tokens; all counts cover the whole text "
                     f"({counts.characters:,} characters).")
    diff = boundary_diff(text, groups, labels, diff_chars) if len(groups) >= 2 else BoundaryDiff("", 0, 0, [])
    return CompareResult(text, counts, columns, diff, notes, limit)


def summary_rows(result: CompareResult) -> list[list[Any]]:
    """The counts table (the book's summary table, §2.1.5)."""
    rows = []
    for c in result.columns:
        if c.stats is None:
            rows.append([c.label, None, None, None, None, "—", None, c.error[:80]])
            continue
        s = c.stats
        rows.append([s.label, s.tokens, s.special_tokens, s.tokens_per_word, s.chars_per_token, s.algorithm,
                     s.vocab_size, s.library])
    return rows


SUMMARY_HEADERS = ["tokenizer", "tokens", "special", "tokens / word", "chars / token", "algorithm",
                   "vocabulary", "library"]


# ------------------------------------------------------------------------------------------------
# chat template view
# ------------------------------------------------------------------------------------------------

@dataclass
class ChatView:
    tokenizer: str
    prompt: str  # the rendered template
    html: str
    tokens: int
    special_tokens: int
    content_tokens: int  # the same messages' text alone, without the template


def chat_tokenizers() -> list[tuple[str, str]]:
    return [(s.label, s.id) for s in available_specs() if s.chat]


def chat_view(tokenizer_id: str, system: str, user: str, assistant: str, *,
              add_generation_prompt: bool = False) -> ChatView:
    tok = get_tokenizer(tokenizer_id)
    chat_tok = tok.chat_tokenizer() if hasattr(tok, "chat_tokenizer") else None
    if chat_tok is None or not getattr(chat_tok, "chat_template", None):
        raise LabError(f"{label_of(tokenizer_id)} has no chat template; pick one of "
                       f"{', '.join(label for label, _ in chat_tokenizers())}.")
    messages = []
    for role, content in (("system", system), ("user", user), ("assistant", assistant)):
        content, _ = sanitize(content)
        if content.strip():
            messages.append({"role": role, "content": content})
    if not messages:
        raise LabError("Write at least one message.")
    try:
        prompt = chat_tok.apply_chat_template(messages, tokenize=False,
                                              add_generation_prompt=add_generation_prompt)
    except Exception as exc:  # noqa: BLE001 - templates raise on role orders they do not support
        raise LabError(f"{label_of(tokenizer_id)}'s chat template refused these messages: "
                       f"{str(exc).splitlines()[0][:160]}") from None
    enc = tok.encode(prompt, add_special_tokens=False)
    content = sum(len(tok.encode(m["content"], add_special_tokens=False).ids) for m in messages)
    return ChatView(tokenizer_id, prompt, render_tokens(enc, tok, 4000), len(enc.ids), sum(enc.special), content)


# ------------------------------------------------------------------------------------------------
# language cost
# ------------------------------------------------------------------------------------------------

@dataclass
class LanguageCost:
    languages: list[str]
    tokenizers: list[str]  # labels
    tokens: list[list[int]]  # [language][tokenizer]
    relative: list[list[float]]  # tokens / English tokens
    english_words: int
    cost_rows: list[list[Any]]  # [tokenizer, model, $/M, $ per 1,000 English words, worst language $]
    errors: list[str]


def language_cost(tokenizer_ids: Sequence[str], prices: Sequence[Sequence[Any]] | None = None) -> LanguageCost:
    """Tokens for the same sentences in many languages, relative to English, and cost per 1,000 words.

    ``prices`` rows are [tokenizer label or id, model, USD per million input tokens].
    """
    sentences = language_sentences()
    english = next(s["text"] for s in sentences if s["language"] == "English")
    words_en = len(english.split())
    labels, columns, errors = [], [], []
    index: dict[str, int] = {}
    for tid in tokenizer_ids:
        try:
            tok = get_tokenizer(tid)
        except LabError as exc:
            errors.append(f"{label_of(tid)}: {exc}")
            continue
        index[tid] = index[label_of(tid)] = len(labels)
        labels.append(label_of(tid))
        columns.append([len(tok.encode_ids(s["text"], add_special_tokens=False)) for s in sentences])
    langs = [s["language"] for s in sentences]
    en_index = langs.index("English")
    tokens = [[col[i] for col in columns] for i in range(len(langs))]
    relative = [[round(col[i] / col[en_index], 2) if col[en_index] else 0.0 for col in columns]
                for i in range(len(langs))]
    cost_rows: list[list[Any]] = []
    for row in prices or []:
        if len(row) < 3:
            continue
        name, model, raw_price = str(row[0] or "").strip(), str(row[1] or "").strip(), row[2]
        try:
            price = float(raw_price)
        except (TypeError, ValueError):
            continue
        key = index.get(name)
        if key is None:
            continue
        col = columns[key]
        per_word_en = col[en_index] / words_en
        worst = max(range(len(langs)), key=lambda i: col[i] if langs[i] != "Python code" else -1)
        cost_en = per_word_en * 1000 * price / 1e6
        cost_worst = col[worst] / words_en * 1000 * price / 1e6
        cost_rows.append([labels[key], model, price, round(cost_en, 5), f"{langs[worst]}: {cost_worst:.5f}"])
    return LanguageCost(langs, labels, tokens, relative, words_en, cost_rows, errors)


def today() -> str:
    return _dt.date.today().isoformat()


# ------------------------------------------------------------------------------------------------
# decode
# ------------------------------------------------------------------------------------------------

@dataclass
class DecodeRow:
    tokenizer: str
    text: str
    pieces: str
    error: str = ""


def decode_many(raw_ids: str, tokenizer_ids: Sequence[str]) -> list[DecodeRow]:
    ids = parse_ids(raw_ids)
    if not ids:
        raise LabError("Type some token ids, e.g. 8582 236 113.")
    if not tokenizer_ids:
        raise LabError("Pick at least one tokenizer.")
    rows = []
    for tid in tokenizer_ids:
        label = label_of(tid)
        try:
            tok = get_tokenizer(tid)
            text = decode_safely(tok, ids)
            pieces = " ".join(repr(tok.id_to_piece(i)) for i in ids[:200])
            rows.append(DecodeRow(label, text, pieces))
        except LabError as exc:
            rows.append(DecodeRow(label, "", "", str(exc)))
    return rows
