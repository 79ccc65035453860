"""Display helpers: grapheme-safe token groups, coloured chips, stats, boundary diff.

Everything user-supplied that ends up in HTML goes through :func:`core.escape.esc`.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

from core.escape import esc

from .backends import ArenaTokenizer, Encoding

RENDER_LIMIT = 1000  # tokens drawn per column; counts always cover the whole text
DIFF_CHARS = 2000  # characters shown in the boundary diff

_VISIBLE = {" ": "·", "\t": "→", "\n": "↵", "\r": "␍", "\x7f": "␡", "\u00a0": "⍽", "\u200b": "⟨ZWSP⟩",
            "\ufeff": "⟨BOM⟩"}
_VISIBLE.update({chr(c): chr(0x2400 + c) for c in range(0x20) if chr(c) not in _VISIBLE})
_TABLE = str.maketrans(_VISIBLE)



_WS = re.compile("([\\s\x00-\x1f\x7f\u200b\ufeff]+)")


def visible(text: str) -> str:
    """HTML-escaped text with whitespace and control characters as faint symbols (· → ↵ ␀ …)."""
    return _visible_short(text) if len(text) <= 48 else _visible(text)


@lru_cache(maxsize=200_000)
def _visible_short(text: str) -> str:
    return _visible(text)


def _visible(text: str) -> str:
    if not _WS.search(text):
        return esc(text)
    parts = _WS.split(text)
    out = []
    for i, part in enumerate(parts):
        if not part:
            continue
        if i % 2:
            out.append(f'<span class="ws">{esc(part.translate(_TABLE))}</span>')
        else:
            out.append(esc(part))
    return "".join(out)


def sanitize(text: str | None) -> tuple[str, list[str]]:
    """Make any str encodable: lone surrogates (possible from JSON clients) become U+FFFD."""
    notes: list[str] = []
    text = text or ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        fixed = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        lone = sum(1 for a, b in zip(text, fixed) if a != b) or 1
        notes.append(f"{lone} lone surrogate code unit(s) were replaced with U+FFFD (�): they are not valid "
                     "Unicode text and no tokenizer can encode them.")
        text = fixed
    controls = sum(1 for ch in text[:200_000] if ord(ch) < 32 and ch not in "\n\t\r")
    if controls:
        notes.append(f"The text contains {controls} control character(s); they are shown as symbols like ␀ ␇.")
    return text, notes


@lru_cache(maxsize=65536)
def token_colour(token_id: int, special: bool = False) -> str:
    """A stable light colour per token id (golden-angle hues), the same in every column."""
    if special:
        return "#334155"
    hue = (token_id * 0.6180339887498949) % 1.0 * 360
    sat = 70 + (token_id % 3) * 8
    light = 84 + (token_id % 2) * 4
    return f"hsl({hue:.0f} {sat}% {light}%)"


@dataclass
class Group:
    """One displayed chip: one or more tokens covering whole graphemes (or a special token)."""

    start: int
    end: int
    tokens: list[int] = field(default_factory=list)  # indices into the encoding
    special: bool = False


def grapheme_boundaries(text: str, end: int) -> set[int] | None:
    """Character offsets (up to ``end``) where a user-perceived character starts or ends;
    ``None`` when every offset is one (ASCII text without CR LF)."""
    import regex

    head = text[: min(len(text), end + 16)]
    if head.isascii() and "\r\n" not in head:
        return None

    bounds = {0}
    pos = 0
    for m in regex.finditer(r"\X", head):
        pos = m.end()
        bounds.add(pos)
        if pos > end:
            break
    return bounds


def group_tokens(enc: Encoding, limit: int = RENDER_LIMIT, bounds: set[int] | None | bool = False) -> list[Group]:
    """Group tokens so that no chip shows part of a character: byte tokens of one emoji/CJK
    character (or of one grapheme cluster such as 👍🏽 or a ZWJ family) become one chip."""
    n = min(len(enc.ids), limit)
    if n == 0:
        return []
    if bounds is False:  # not given: compute (``compare`` shares one set between tokenizers)
        bounds = grapheme_boundaries(enc.text, max(enc.ends[:n]))
    groups: list[Group] = []
    cur: Group | None = None
    pending: list[int] = []
    starts, ends, special = enc.starts, enc.ends, enc.special
    for k in range(n):
        s, e, sp = starts[k], ends[k], special[k]
        if s == e:
            if sp:  # inserted by the tokenizer ([CLS], <s>): covers no text
                if cur is not None:
                    groups.append(cur)
                    cur = None
                groups.append(Group(s, s, pending + [k], True))
                pending = []
            elif cur is not None and s < cur.end:
                cur.tokens.append(k)
            else:
                pending.append(k)  # leading byte pieces: they belong to the next chip
            continue
        if cur is not None and s <= cur.end and (s < cur.end or (bounds is not None and cur.end not in bounds)):
            cur.end = max(cur.end, e)
            cur.tokens.extend(pending)
            cur.tokens.append(k)
            cur.special = cur.special and sp
        else:
            if cur is not None:
                groups.append(cur)
            cur = Group(s, e, pending + [k], sp)
        pending = []
    if cur is not None:
        groups.append(cur)
    if pending:
        groups.append(Group(starts[pending[0]], starts[pending[0]], pending, False))
    return groups


def _chip_head(tok: ArenaTokenizer, token_id: int, special: bool) -> str:
    """``<span …>`` of a one-token chip, cached per tokenizer (colour, ids, hover text)."""
    cache = tok.__dict__.setdefault("_chip_heads", {})
    key = (token_id, special)
    head = cache.get(key)
    if head is None:
        piece = tok.id_to_piece(token_id)
        cls = "tk tk-sp" if special else "tk"
        head = (f'<span class="{cls}" style="--c:{token_colour(token_id, special)}" data-i="{token_id}" '
                f'title="{esc(f"id {token_id} · {piece!r}")}">')
        if len(cache) < 200_000:
            cache[key] = head
    return head


def render_tokens(enc: Encoding, tok: ArenaTokenizer, limit: int = RENDER_LIMIT,
                  groups: list[Group] | None = None) -> str:
    """The chips of one encoding as HTML (gaps — text a tokenizer drops — shown faintly)."""
    groups = group_tokens(enc, limit) if groups is None else groups
    unknown = tok.unknown_ids()
    text = enc.text
    ids = enc.ids
    out: list[str] = []
    pos = 0
    for g in groups:
        if g.start > pos:  # text no token covers (e.g. spaces BERT drops)
            gap = text[pos:g.start]
            out.append(f'<span class="tk-gap">{visible(gap)}</span>')
            if "\n" in gap:
                out.append("<br>" * gap.count("\n"))
        seg = text[g.start:g.end] if g.start < g.end else ""
        if len(g.tokens) == 1 and seg and ids[g.tokens[0]] not in unknown:  # the common case, fast
            out.append(_chip_head(tok, ids[g.tokens[0]], g.special))
            out.append(visible(seg))
            out.append("</span>")
        else:
            gid = [ids[k] for k in g.tokens]
            pieces = [enc.piece(k) for k in g.tokens]
            id_text = " ".join(map(str, gid))
            title = f"{'id' if len(gid) == 1 else 'ids'} {id_text} · {' '.join(map(repr, pieces))}"
            cls = "tk tk-sp" if g.special else "tk"
            shown = seg
            if not seg:
                shown = pieces[0] if g.special else "".join(pieces)
            elif any(i in unknown for i in gid):
                cls += " tk-unk"
                shown = pieces[0] if len(pieces) == 1 else seg
                title += f" · unknown: {seg!r} is not in the vocabulary"
            if len(gid) > 1 and not g.special:
                cls += " tk-multi"
                title += f" · {len(gid)} tokens form this one character"
            out.append(f'<span class="{cls}" style="--c:{token_colour(gid[0], g.special)}" data-i="{id_text}" '
                       f'title="{esc(title)}">{visible(shown)}</span>')
        if seg and "\n" in seg:
            out.append("<br>" * seg.count("\n"))
        pos = max(pos, g.end)
    return "".join(out)


# ------------------------------------------------------------------------------------------------
# stats
# ------------------------------------------------------------------------------------------------

@dataclass
class TextCounts:
    characters: int  # Unicode code points
    utf16_units: int
    bytes: int  # UTF-8
    words: int  # whitespace-separated


def text_counts(text: str) -> TextCounts:
    return TextCounts(len(text), len(text.encode("utf-16-le")) // 2, len(text.encode("utf-8")), len(text.split()))


@dataclass
class TokenStats:
    tokenizer: str
    label: str
    tokens: int
    special_tokens: int
    tokens_per_word: float
    chars_per_token: float
    algorithm: str
    vocab_size: int
    library: str


def token_stats(enc: Encoding, tok: ArenaTokenizer, label: str, counts: TextCounts) -> TokenStats:
    n = len(enc.ids)
    n_special = sum(enc.special)
    content = max(n - n_special, 0)
    return TokenStats(enc.tokenizer, label, n, n_special,
                      round(content / counts.words, 2) if counts.words else 0.0,
                      round(counts.characters / content, 2) if content else 0.0,
                      tok.algorithm, tok.vocab_size, tok.library)


# ------------------------------------------------------------------------------------------------
# boundary diff
# ------------------------------------------------------------------------------------------------

@dataclass
class BoundaryDiff:
    html: str
    agree_chars: int  # characters inside spans every tokenizer cuts the same way
    total_chars: int
    spans: list[tuple[int, int, bool]]  # (start, end, agree)

    @property
    def agreement(self) -> float:
        return self.agree_chars / self.total_chars if self.total_chars else 1.0


def boundary_diff(text: str, groups_by_tok: dict[str, list[Group]], labels: dict[str, str],
                  max_chars: int = DIFF_CHARS) -> BoundaryDiff:
    """Spans where all tokenizers agree on token boundaries vs where they disagree.

    A boundary is where a token's first non-space character sits, so `` and`` (GPT-2), ``▁and``
    (SentencePiece) and ``and`` (BERT, which drops spaces) count as the same cut.
    """
    if not groups_by_tok:
        return BoundaryDiff("", 0, 0, [])
    covered = [max((g.end for g in gs), default=0) for gs in groups_by_tok.values()]
    limit = min(min(covered), max_chars, len(text))
    cuts: dict[str, set[int]] = {}
    for name, gs in groups_by_tok.items():
        b = {0, limit}
        for g in gs:  # a cut = where a token's visible content starts (spaces are compared apart)
            if g.start < g.end and g.start < limit:
                p = g.start
                while p < g.end and text[p].isspace():
                    p += 1
                if p < g.end and p < limit:
                    b.add(p)
        cuts[name] = b
    common = sorted(set.intersection(*cuts.values()))
    spans: list[tuple[int, int, bool]] = []
    out: list[str] = []
    agree_chars = 0
    ordered = {n: sorted(c) for n, c in cuts.items()}
    for a, b in zip(common, common[1:]):
        inner = {n: c[bisect.bisect_right(c, a):bisect.bisect_left(c, b)] for n, c in ordered.items()}
        agree = not any(inner.values())
        spans.append((a, b, agree))
        seg = text[a:b]
        if agree:
            agree_chars += b - a
            out.append(f'<span class="bd-ok">{visible(seg)}</span>')
        else:
            detail = "; ".join(f"{labels.get(n, n)}: {' | '.join(text[p:q] for p, q in zip([a] + c, c + [b]))}"
                               for n, c in inner.items())
            out.append(f'<span class="bd-no" title="{esc(detail)}">{visible(seg)}</span>')
        out.append("<br>" * seg.count("\n"))
    return BoundaryDiff("".join(out), agree_chars, limit, spans)


def parse_ids(raw: str) -> list[int]:
    """Token ids typed by a user: ``[1, 2, 3]``, ``1 2 3`` or ``1,2,3``."""
    import re

    from core.errors import LabError

    raw = (raw or "").strip()
    if not raw:
        return []
    parts = [p for p in re.split(r"[\s,;\[\]()]+", raw) if p]
    ids: list[int] = []
    for p in parts[:100_000]:
        if not re.fullmatch(r"-?\d{1,12}", p):
            raise LabError(f"'{p[:30]}' is not a token id: type whole numbers separated by spaces or commas.")
        ids.append(int(p))
    return ids


def decode_safely(tok: ArenaTokenizer, ids: Sequence[int]) -> str:
    """Decode ids, refusing ones outside the vocabulary with a clear sentence."""
    from core.errors import LabError

    bad = [i for i in ids if i < 0 or i >= tok.vocab_size]
    if bad:
        raise LabError(f"id {bad[0]} is outside this vocabulary (0–{tok.vocab_size - 1}).")
    try:
        return tok.decode(ids)
    except Exception as exc:  # noqa: BLE001 - unassigned ids in sparse rank tables
        raise LabError(f"These ids cannot be decoded by this tokenizer ({type(exc).__name__}).") from None
