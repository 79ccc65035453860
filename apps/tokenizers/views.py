"""The Tokenizer Arena's HTML: token columns, legend, boundary diff, notes, chat summary, explainers,
and the two small browser-side scripts (share link, id view)."""
from __future__ import annotations

import re

from apps.common import error_html, esc, warn_html
from core.tokenizers import compare as core_arena

#: Special tokens named in a column before the rest is folded away (Llama 3 has 256, most reserved).
SPECIALS_SHOWN = 8
SPECIALS_FOLDED_MAX = 400
_RESERVED = re.compile(r"reserved|^\[?PAD\d*\]?$|^<\|?unused|^\[unused", re.IGNORECASE)

EXPLAINERS = {
    "Three things decide how text is cut": (
        "A tokenizer is shaped by **its method** (BPE for GPT models, WordPiece for BERT, SentencePiece for T5/"
        "Llama), **its settings** (vocabulary size, special tokens, whether it lower-cases) and **the data it was "
        "trained on** (English prose, code, many languages). Compare GPT-2 and StarCoder on the code example: the "
        "code tokenizer has single tokens for runs of spaces. Typical vocabularies were 30k–50k; newer ones are "
        "100k–200k. (Ch. 2, §2.1.3 and §2.1.6)"),
    "Why ## (WordPiece)": (
        "BERT's WordPiece marks a piece that **continues** the previous one with `##`: `capitalization` → "
        "`capital ##ization`. Words start without a marker, and spaces themselves are thrown away (they show "
        "faintly here as gaps). Characters missing from the vocabulary become `[UNK]` — the emoji and 鸟 in the "
        "book's sample. (§2.1.5)"),
    "Why Ġ and ▁": (
        "Byte-level BPE (GPT-2, GPT-4, Llama 3, Qwen2) keeps the space *inside* the next token; in the vocabulary "
        "the space byte is stored as `Ġ` (U+0120: byte 32 shifted by 256) and a newline as `Ċ`. SentencePiece "
        "(Llama 2, Phi-3, Mistral, T5) writes a word-initial space as `▁`. Hover a chip to see its vocabulary "
        "piece. (§2.1.5, §9.3.2)"),
    "Byte fallback and byte-level BPE": (
        "When no piece covers a character, byte-level tokenizers use its UTF-8 bytes: 🎵 is 3 tokens in GPT-2 "
        "(ids 8582, 236, 113). SentencePiece with *byte fallback* (Llama 2, Mistral) uses `<0xF0>`-style byte "
        "tokens. No bytes are lost, so every text round-trips — unlike BERT's `[UNK]`. The arena groups the byte "
        "tokens of one character (or emoji sequence) into one chip carrying all their ids, underlined in blue, "
        "instead of showing `�` fragments. (§2.1.4–2.1.5)"),
    "Special tokens and chat templates": (
        "Special tokens are not text: `[CLS]`/`[SEP]` wrap BERT input, `<s>` starts a Llama/Phi-3 sequence, "
        "`<|endoftext|>` separates GPT documents. Chat models mark turns with them (`<|user|>`, `<|im_start|>`): "
        "that is how a model tells user from assistant (preface Q5). The *Chat template* tab shows them. Dark "
        "chips are special tokens."),
    "Is tokenization unique? (Q4)": (
        "For a given vocabulary many segmentations spell the same text (`show` could be `s`+`how`); the "
        "tokenizer's algorithm (merge order for BPE, longest-match for WordPiece, the most likely split for "
        "Unigram) picks one. The *boundary diff* shows where tokenizers disagree."),
}

LEGEND_CHIPS = ('<span class="tk tk-legend-sp">special</span> tokens are dark; '
                '<span class="tk tk-legend-multi">underlined</span> chips are one character made of several '
                "byte tokens")


def specials_html(specials: list[str]) -> str:
    """The special tokens a tokenizer defines: the named ones first, the rest (reserved slots) folded."""
    if not specials:
        return '<div class="tokenizers-specials">special tokens: none</div>'
    named = [t for t in specials if not _RESERVED.search(t)]
    reserved = [t for t in specials if _RESERVED.search(t)]
    ordered = named + reserved
    shown, rest = ordered[:SPECIALS_SHOWN], ordered[SPECIALS_SHOWN:]
    head = "".join(f"<code>{esc(t)}</code>" for t in shown)
    folded = ""
    if rest:
        listed = "".join(f"<code>{esc(t)}</code>" for t in rest[:SPECIALS_FOLDED_MAX])
        more = f" … +{len(rest) - SPECIALS_FOLDED_MAX:,}" if len(rest) > SPECIALS_FOLDED_MAX else ""
        note = f", {len(reserved):,} of them reserved" if reserved else ""
        folded = (f'<details class="tokenizers-fold"><summary>+{len(rest):,} more{esc(note)}</summary>'
                  f"{listed}{esc(more)}</details>")
    return f'<div class="tokenizers-specials">special tokens ({len(specials):,}): {head}{folded}</div>'


def column_html(col: core_arena.Column) -> str:
    """One tokenizer's column: name and count, statistics, chips, special tokens."""
    if col.error:
        return (f'<div class="tokenizers-col"><div class="tokenizers-head"><b>{esc(col.label)}</b></div>'
                f"{error_html(col.error)}</div>")
    s = col.stats
    assert s is not None
    shown = f" · showing {col.shown_tokens:,}" if col.shown_tokens < s.tokens else ""
    return (f'<div class="tokenizers-col" data-tokenizer="{esc(col.tokenizer)}">'
            f'<div class="tokenizers-head"><b>{esc(col.label)}</b>'
            f'<span class="tokenizers-n">{s.tokens:,} tokens</span></div>'
            f'<div class="tokenizers-meta">{esc(s.algorithm)} · vocabulary {s.vocab_size:,} · '
            f"{s.tokens_per_word} tokens/word · {s.chars_per_token} chars/token{esc(shown)}<br>{esc(col.family)}</div>"
            f'<div class="tokenizers-body">{col.html}</div>'
            f"{specials_html(col.special_tokens_defined)}</div>")


def arena_html(result: core_arena.CompareResult, show_ids: bool) -> str:
    """Legend + one column per tokenizer."""
    cls = "tokenizers-arena tokenizers-ids" if show_ids else "tokenizers-arena"
    c = result.counts
    legend = (f'<div class="tokenizers-legend">{c.characters:,} characters (code points; {c.utf16_units:,} UTF-16 '
              f"units) · {c.bytes:,} UTF-8 bytes · {c.words:,} words. Same id = same colour in every column; "
              f"{LEGEND_CHIPS}; · space, → tab, ↵ newline. Hover a chip for its ids and vocabulary pieces.</div>")
    return legend + f'<div class="{cls}">' + "".join(column_html(col) for col in result.columns) + "</div>"


def diff_html(result: core_arena.CompareResult) -> str:
    """Where the tokenizers cut the same way (green) and differently (orange)."""
    d = result.diff
    if len(result.ok_columns) < 2:
        return '<div class="lab-note">Pick at least two tokenizers to see where they cut differently.</div>'
    if d.total_chars == 0:
        return '<div class="lab-note">Nothing to compare.</div>'
    head = (f'<div class="tokenizers-legend"><b>{d.agreement:.0%}</b> of the first {d.total_chars:,} characters lie '
            f"in spans that all {len(result.ok_columns)} tokenizers cut the same way "
            '(<span class="bd-ok">green</span>); <span class="bd-no">orange</span> spans are cut differently — '
            "hover one to see each tokenizer's pieces.</div>")
    return head + f'<div class="tokenizers-diff">{d.html}</div>'


def notes_html(notes: list[str]) -> str:
    return "".join(warn_html(n) for n in notes)


EMPTY = '<div class="lab-note">Type or paste some text, or load an example.</div>'


def chat_summary(view: core_arena.ChatView) -> str:
    """Markdown: how many tokens the chat template adds."""
    overhead = view.tokens - view.content_tokens
    return (f"**{view.tokens} tokens** in the rendered prompt, **{view.special_tokens} special**; the messages' "
            f"text alone is {view.content_tokens} tokens, so the template adds **{overhead}**.")


def chat_body(view: core_arena.ChatView) -> str:
    return f'<div class="tokenizers-col"><div class="tokenizers-body">{view.html}</div></div>'


IDS_JS = """
(show) => { document.querySelectorAll('.tokenizers-arena').forEach(e => e.classList.toggle('tokenizers-ids', !!show)); return show; }
"""
