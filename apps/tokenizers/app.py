"""🔤 Tokenizer Arena — how real tokenizers cut the same text (book ch. 2). Layout and wiring only;
the logic lives in :mod:`core.tokenizers`."""
from __future__ import annotations

from typing import Any

import gradio as gr

from apps.tokenizers import MANIFEST
from apps.common import app_title, error_html, esc, user_errors, warn_html
from core.settings import get_settings
from core.tokenizers import HUB_PREFIX, SPEC_BY_ID, available_specs, default_selection
from core.tokenizers import compare as core_arena

SLUG = "tokenizers"
BOOK_CH2 = "https://github.com/HandsOnLLM/Hands-On-Large-Language-Models/tree/main/chapter02"

CSS = MANIFEST.css

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


def _choices() -> list[tuple[str, str]]:
    return [(s.label, s.id) for s in available_specs()]


def _column_html(col: core_arena.Column) -> str:
    if col.error:
        return (f'<div class="tokenizers-col"><div class="tokenizers-head"><b>{esc(col.label)}</b></div>'
                f"{error_html(col.error)}</div>")
    s = col.stats
    assert s is not None
    specials = col.special_tokens_defined
    more = f" … +{len(specials) - 24}" if len(specials) > 24 else ""
    special_list = "".join(f"<code>{esc(t)}</code>" for t in specials[:24]) + esc(more)
    shown = f" · showing {col.shown_tokens:,}" if col.shown_tokens < s.tokens else ""
    return (f'<div class="tokenizers-col" data-tokenizer="{esc(col.tokenizer)}">'
            f'<div class="tokenizers-head"><b>{esc(col.label)}</b>'
            f'<span class="tokenizers-n">{s.tokens:,} tokens</span></div>'
            f'<div class="tokenizers-meta">{esc(s.algorithm)} · vocabulary {s.vocab_size:,} · '
            f"{s.tokens_per_word} tokens/word · {s.chars_per_token} chars/token{esc(shown)}<br>{esc(col.family)}</div>"
            f'<div class="tokenizers-body">{col.html}</div>'
            f'<div class="tokenizers-specials">special tokens ({len(specials)}): {special_list or "none"}</div>'
            "</div>")


def arena_html(result: core_arena.CompareResult, show_ids: bool) -> str:
    cls = "tokenizers-arena tokenizers-ids" if show_ids else "tokenizers-arena"
    c = result.counts
    legend = (f'<div class="tokenizers-legend">{c.characters:,} characters (code points; {c.utf16_units:,} UTF-16 '
              f"units) · {c.bytes:,} UTF-8 bytes · {c.words:,} words. Same id = same colour in every column; "
              '<span class="tk" style="background:#334155;color:#fff">special</span> tokens are dark; '
              '<span class="tk" style="box-shadow:inset 0 -2px 0 #6366f1;background:#e0e7ff">underlined</span> '
              "chips are one character made of several byte tokens; · space, → tab, ↵ newline. "
              "Hover a chip for its ids and vocabulary pieces.</div>")
    return legend + f'<div class="{cls}">' + "".join(_column_html(col) for col in result.columns) + "</div>"


def diff_html(result: core_arena.CompareResult) -> str:
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


@user_errors
def run_compare(text: str, selected: list[str], extra: str, show_ids: bool) -> tuple[str, Any, str, str]:
    text = text or ""
    ids = core_arena.resolve_selection(selected, extra)
    if not text.strip() and not text:
        empty = '<div class="lab-note">Type or paste some text, or load an example.</div>'
        return empty, [], "", ""
    result = core_arena.compare(text, ids)
    return (arena_html(result, bool(show_ids)), core_arena.summary_rows(result), diff_html(result),
            notes_html(result.notes))


@user_errors
def load_example(name: str) -> str:
    return core_arena.examples().get(name, core_arena.book_sample())


def restore_from_url(request: gr.Request) -> tuple[str, list[str], str, bool]:
    """Read ``?text=…&tok=a,b&ids=1`` (a shared link) into the inputs."""
    params = dict(request.query_params) if request is not None else {}
    text = params.get("text") or core_arena.book_sample()
    text = text[:get_settings().limits.text_chars]
    known = {s.id for s in available_specs()}
    hub = not get_settings().offline
    selected, extra = [], []
    for raw in (params.get("tok") or "").split(","):
        raw = raw.strip()[:100]
        if raw in known:
            selected.append(raw)
        elif raw.startswith(HUB_PREFIX) and hub:
            extra.append(raw[len(HUB_PREFIX):])
    if not selected and not extra:
        selected = default_selection()
    show_ids = params.get("ids", "") in ("1", "true", "yes")
    return text, selected[:core_arena.MAX_TOKENIZERS], ", ".join(extra), show_ids


SHARE_JS = """
(text, selected, extra, showIds) => {
  const p = new URLSearchParams();
  if (text && text.length <= 1500) p.set("text", text);
  const toks = [...(selected || [])];
  (extra || "").split(",").map(s => s.trim()).filter(Boolean).forEach(s => toks.push("hub:" + s));
  p.set("tok", toks.join(","));
  if (showIds) p.set("ids", "1");
  const url = window.location.origin + window.location.pathname + "?" + p.toString();
  const note = text && text.length > 1500 ? "  (text too long for a link: only the selection is kept)" : "";
  return url + note;
}
"""

IDS_JS = """
(show) => { document.querySelectorAll('.tokenizers-arena').forEach(e => e.classList.toggle('tokenizers-ids', !!show)); return show; }
"""


@user_errors
def run_chat(tokenizer_id: str, system: str, user: str, assistant: str, gen_prompt: bool) -> tuple[str, str, str]:
    view = core_arena.chat_view(tokenizer_id, system, user, assistant, add_generation_prompt=bool(gen_prompt))
    overhead = view.tokens - view.content_tokens
    summary = (f"**{view.tokens} tokens** in the rendered prompt, **{view.special_tokens} special**; the messages' "
               f"text alone is {view.content_tokens} tokens, so the template adds **{overhead}**.")
    body = f'<div class="tokenizers-col"><div class="tokenizers-body">{view.html}</div></div>'
    return view.prompt, body, summary


@user_errors
def run_cost(selected: list[str], extra: str, prices: Any) -> tuple[Any, Any, Any, str]:
    ids = core_arena.resolve_selection(selected, extra)
    if not ids:
        raise gr.Error("Pick at least one tokenizer above.")
    rows = prices.values.tolist() if hasattr(prices, "values") else (prices or [])
    result = core_arena.language_cost(ids, rows)
    table = [[lang, *[f"{t} ({r:.2f}×)" for t, r in zip(result.tokens[i], result.relative[i])]]
             for i, lang in enumerate(result.languages)]
    import pandas as pd

    frame = pd.DataFrame(table, columns=["language", *result.tokenizers])
    cost = pd.DataFrame(result.cost_rows, columns=["tokenizer", "model", "$ / M input tokens",
                                                   "$ per 1,000 English words", "costliest language ($/1,000 words)"])
    note = (f"The English text has {result.english_words} words; other languages say the same thing. "
            "Cost per 1,000 words = tokens per English word × 1,000 × price; the last column prices the same "
            "content in the language that needs the most tokens.")
    if result.errors:
        note += " " + " ".join(result.errors)
    return frame, core_arena.language_cost_figure(result), cost, note


def prices_edited(_: Any) -> str:
    return f"Prices last edited: {core_arena.today()} (by you, in this session)"


@user_errors
def run_decode(raw: str, selected: list[str], extra: str) -> Any:
    rows = core_arena.decode_many(raw, core_arena.resolve_selection(selected, extra))
    return [[r.tokenizer, r.text if not r.error else "", r.pieces, r.error] for r in rows]


def build() -> gr.Blocks:
    settings = get_settings()
    sample = core_arena.book_sample()
    price_data = core_arena.price_table()
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                text = gr.Textbox(value=sample, label="Text", lines=7, max_lines=16,
                                  elem_id="tokenizers-text")
            with gr.Column(scale=2, min_width=300):
                example = gr.Dropdown(list(core_arena.examples()), value=None, label="Load an example")
                show_ids = gr.Checkbox(False, label="Show token ids instead of text", elem_id="tokenizers-ids")
                with gr.Row():
                    go = gr.Button("Compare", variant="primary", elem_id="tokenizers-compare")
                    share = gr.Button("Share link", variant="secondary")
                share_url = gr.Textbox(label="Link to this comparison", interactive=False, max_lines=2,
                                       buttons=["copy"], elem_id="tokenizers-share")
        with gr.Row(equal_height=False):
            selected = gr.CheckboxGroup(_choices(), value=default_selection(), label="Tokenizers (oldest first)",
                                        elem_id="tokenizers-select", scale=4)
            extra = gr.Textbox(label="Hub tokenizer ids (comma-separated)",
                               placeholder="e.g. google/flan-t5-small, facebook/galactica-1.3b"
                               + (" (needs hub mode)" if settings.offline else ""), max_lines=1, scale=1,
                               min_width=240)
        notes = gr.HTML(elem_classes=["tokenizers-notes"])
        arena = gr.HTML(elem_id="tokenizers-arena")
        summary = gr.Dataframe(headers=core_arena.SUMMARY_HEADERS, label="Counts (the book's summary table)",
                               interactive=False, wrap=True)
        with gr.Accordion("Boundary diff — where do the tokenizers cut differently?", open=True):
            diff = gr.HTML()

        with gr.Tabs():
            with gr.Tab("Chat template"):
                chat_choices = core_arena.chat_tokenizers()
                with gr.Row():
                    with gr.Column(scale=2):
                        chat_tok = gr.Dropdown(chat_choices, value=chat_choices[0][1] if chat_choices else None,
                                               label="Model's chat template")
                        sys_msg = gr.Textbox("You are a helpful assistant.", label="system", lines=1)
                        user_msg = gr.Textbox("Write an email apologizing to Sarah for the tragic gardening mishap.",
                                              label="user", lines=2)
                        asst_msg = gr.Textbox("Dear Sarah, I am so sorry about your roses…", label="assistant",
                                              lines=2)
                        gen_prompt = gr.Checkbox(False, label="add generation prompt (as when asking for a reply)")
                        chat_go = gr.Button("Render and tokenize", variant="primary")
                    with gr.Column(scale=3):
                        chat_summary = gr.Markdown("Pick a model and press **Render and tokenize** to see the "
                                                   "prompt its chat template builds, token by token.")
                        chat_html = gr.HTML()
                        chat_prompt = gr.Code(label="The prompt the model really gets", language=None,
                                              interactive=False)
            with gr.Tab("Language cost"):
                gr.Markdown("The same sentence (UDHR article 1) in twelve languages and as code, tokenized by the "
                            "tokenizers picked above. Non-English text often costs several times more tokens — "
                            "so more money and less context. Edit the prices (USD per million input tokens).")
                with gr.Row():
                    prices = gr.Dataframe(value=[r[:3] for r in price_data["rows"]],
                                          headers=["tokenizer", "model", "USD / M input tokens"],
                                          datatype=["str", "str", "number"], interactive=True,
                                          label="Prices", scale=3)
                    with gr.Column(scale=2):
                        prices_date = gr.Markdown(f"Prices last edited: **{price_data['edited']}**. "
                                                  f"{price_data['note']}")
                        cost_go = gr.Button("Compute language cost", variant="primary")
                cost_note = gr.Markdown()
                cost_table = gr.Dataframe(label="Tokens per language (× English)", interactive=False)
                cost_plot = gr.Plot(label="Tokens relative to English")
                cost_money = gr.Dataframe(label="Cost per 1,000 words", interactive=False)
            with gr.Tab("Decode ids"):
                ids_in = gr.Textbox("8582, 236, 113", label="Token ids (spaces or commas)", lines=1)
                decode_go = gr.Button("Decode with each selected tokenizer", variant="primary")
                decoded = gr.Dataframe(headers=["tokenizer", "text", "pieces", "problem"], interactive=False,
                                       wrap=True)
            with gr.Tab("Explainers"):
                gr.Markdown(f"Concepts from chapter 2, *Tokens and Embeddings* ([book notebook]({BOOK_CH2})).")
                for title, body in EXPLAINERS.items():
                    with gr.Accordion(title, open=False):
                        gr.Markdown(body)

        compare_inputs = [text, selected, extra, show_ids]
        compare_outputs = [arena, summary, diff, notes]
        go.click(run_compare, compare_inputs, compare_outputs, api_name="tokenizers_compare")
        text.submit(run_compare, compare_inputs, compare_outputs, api_name=False)
        example.change(load_example, example, text, api_name="tokenizers_example").then(
            run_compare, compare_inputs, compare_outputs, api_name=False)
        show_ids.change(None, show_ids, show_ids, js=IDS_JS)
        share.click(None, [text, selected, extra, show_ids], share_url, js=SHARE_JS)
        demo.load(restore_from_url, None, [text, selected, extra, show_ids], api_name=False).then(
            run_compare, compare_inputs, compare_outputs, api_name=False)
        chat_go.click(run_chat, [chat_tok, sys_msg, user_msg, asst_msg, gen_prompt],
                      [chat_prompt, chat_html, chat_summary], api_name="tokenizers_chat")
        cost_go.click(run_cost, [selected, extra, prices], [cost_table, cost_plot, cost_money, cost_note],
                      api_name="tokenizers_cost")
        prices.input(prices_edited, prices, prices_date, api_name=False)
        decode_go.click(run_decode, [ids_in, selected, extra], decoded, api_name="tokenizers_decode")
    return demo

