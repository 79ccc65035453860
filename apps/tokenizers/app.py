"""🔤 Tokenizer Arena — how real tokenizers cut the same text (book ch. 2). Layout and wiring only;
the logic lives in :mod:`core.tokenizers`."""
from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import app_title, errors_inline, section_link, themed, user_errors
from apps.tokenizers import MANIFEST, takehome_row, views
from core.settings import get_settings
from core.tokenizers import available_specs, default_selection
from core.tokenizers import compare as core_arena
from core.tokenizers.charts import counts_figure, language_cost_figure

SLUG = "tokenizers"
CSS = MANIFEST.css


def _choices() -> list[tuple[str, str]]:
    return [(s.label, s.id) for s in available_specs()]


@user_errors
def run_compare(text: str, selected: list[str], extra: str, show_ids: bool) -> tuple[str, Any, str, str]:
    """Tokenize ``text`` with every selected tokenizer: columns, summary rows, boundary diff, notes."""
    text = text or ""
    ids = core_arena.resolve_selection(selected, extra)
    if not text:
        return views.EMPTY, [], "", ""
    result = core_arena.compare(text, ids)
    return (views.arena_html(result, bool(show_ids)), core_arena.summary_rows(result), views.diff_html(result),
            views.notes_html(result.notes))


def counts_plot(summary: Any) -> Any:
    """The bar chart beside the summary table, drawn from the table itself (tokenizer, tokens)."""
    rows = summary.values.tolist() if hasattr(summary, "values") else (summary or [])
    if not rows:
        return None
    return themed(counts_figure([r[0] for r in rows], [r[1] for r in rows]))


@user_errors
def load_example(name: str) -> str:
    return core_arena.examples().get(name, core_arena.book_sample())


@user_errors
def run_chat(tokenizer_id: str, system: str, user: str, assistant: str, gen_prompt: bool) -> tuple[str, str, str]:
    view = core_arena.chat_view(tokenizer_id, system, user, assistant, add_generation_prompt=bool(gen_prompt))
    return view.prompt, views.chat_body(view), views.chat_summary(view)


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
    return frame, themed(language_cost_figure(result)), cost, note


def prices_edited(_: Any) -> str:
    return f"Prices last edited: {core_arena.today()} (by you, in this session)"


@user_errors
def run_decode(raw: str, selected: list[str], extra: str) -> Any:
    rows = core_arena.decode_many(raw, core_arena.resolve_selection(selected, extra))
    return [[r.tokenizer, r.text if not r.error else "", r.pieces, r.error] for r in rows]


def build() -> gr.Blocks:
    settings = get_settings()
    price_data = core_arena.price_table()
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        with gr.Row(equal_height=False, elem_classes="tokenizers-top"):
            with gr.Column(scale=3, min_width=280):
                text = gr.Textbox(value=core_arena.book_sample(), label="Text", lines=5, max_lines=16,
                                  elem_id="tokenizers-text")
                go = gr.Button("Compare", variant="primary", elem_id="tokenizers-compare", min_width=120)
                compare_status = gr.HTML(elem_id="tokenizers-compare-status")
            with gr.Column(scale=2, min_width=280):
                example = gr.Dropdown(list(core_arena.examples()), value=None, label="Load an example")
                show_ids = gr.Checkbox(False, label="Show token ids instead of text", elem_id="tokenizers-ids")
        with gr.Row(equal_height=False):
            selected = gr.CheckboxGroup(_choices(), value=default_selection(), label="Tokenizers (oldest first)",
                                        elem_id="tokenizers-select", scale=4, min_width=280)
            extra = gr.Textbox(label="Hub tokenizer ids (comma-separated)", max_lines=1, scale=1, min_width=240,
                               interactive=not settings.offline, elem_id="tokenizers-extra",
                               placeholder="needs hub mode" if settings.offline
                               else "e.g. google/flan-t5-small, facebook/galactica-1.3b",
                               info="Off offline: Hub tokenizers download from the Hugging Face Hub "
                               "(LLM_LAB_MODE=hub)." if settings.offline else None)
        notes = gr.HTML(elem_classes=["tokenizers-notes"])

        with gr.Tabs() as tabs:
            with gr.Tab("Compare", id="tokenizers-compare-tab"):
                section_link(MANIFEST, "§2.1.5 Comparing trained LLM tokenizers")
                arena = gr.HTML(elem_id="tokenizers-arena")
                with gr.Row(equal_height=False):
                    summary = gr.Dataframe(headers=core_arena.SUMMARY_HEADERS, label="Counts (the book's summary "
                                           "table)", interactive=False, wrap=True, elem_id="tokenizers-summary",
                                           scale=3, min_width=300)
                    counts = gr.Plot(label="Tokens per tokenizer", elem_id="tokenizers-counts", scale=2,
                                     min_width=280)
                with gr.Accordion("Boundary diff — where do the tokenizers cut differently?", open=True):
                    diff = gr.HTML()
            with gr.Tab("Chat template", id="tokenizers-chat-tab"):
                section_link(MANIFEST, "§2.1.5 Special tokens: how a chat model tells the turns apart")
                chat_choices = core_arena.chat_tokenizers()
                with gr.Row():
                    with gr.Column(scale=2, min_width=280):
                        chat_tok = gr.Dropdown(chat_choices, value=chat_choices[0][1] if chat_choices else None,
                                               label="Model's chat template")
                        sys_msg = gr.Textbox("You are a helpful assistant.", label="system", lines=1)
                        user_msg = gr.Textbox("Write an email apologizing to Sarah for the tragic gardening mishap.",
                                              label="user", lines=2)
                        asst_msg = gr.Textbox("Dear Sarah, I am so sorry about your roses…", label="assistant",
                                              lines=2)
                        gen_prompt = gr.Checkbox(False, label="add generation prompt (as when asking for a reply)")
                        chat_go = gr.Button("Render and tokenize", variant="primary")
                        chat_status = gr.HTML()
                    with gr.Column(scale=3, min_width=280):
                        chat_summary = gr.Markdown("Pick a model and press **Render and tokenize** to see the "
                                                   "prompt its chat template builds, token by token.")
                        chat_html = gr.HTML()
                        chat_prompt = gr.Code(label="The prompt the model really gets", language=None,
                                              interactive=False)
            with gr.Tab("Language cost", id="tokenizers-cost-tab"):
                section_link(MANIFEST, "§2.1.6 Tokenizer properties: the data it was trained on")
                gr.Markdown("The same sentence (UDHR article 1) in twelve languages and as code, tokenized by the "
                            "tokenizers picked above. Non-English text often costs several times more tokens — "
                            "so more money and less context. Edit the prices (USD per million input tokens).")
                with gr.Row():
                    prices = gr.Dataframe(value=[r[:3] for r in price_data["rows"]],
                                          headers=["tokenizer", "model", "USD / M input tokens"],
                                          datatype=["str", "str", "number"], interactive=True,
                                          label="Prices", scale=3, min_width=280)
                    with gr.Column(scale=2, min_width=260):
                        prices_date = gr.Markdown(f"Prices last edited: **{price_data['edited']}**. "
                                                  f"{price_data['note']}")
                        cost_go = gr.Button("Compute language cost", variant="primary")
                        cost_status = gr.HTML()
                cost_note = gr.Markdown()
                cost_table = gr.Dataframe(label="Tokens per language (× English)", interactive=False)
                cost_plot = gr.Plot(label="Tokens relative to English", elem_id="tokenizers-cost-plot")
                cost_money = gr.Dataframe(label="Cost per 1,000 words", interactive=False)
            with gr.Tab("Decode ids", id="tokenizers-decode-tab"):
                section_link(MANIFEST, "§2.1.3 How does the tokenizer break down text?")
                ids_in = gr.Textbox("8582, 236, 113", label="Token ids (spaces or commas)", lines=1)
                decode_go = gr.Button("Decode with each selected tokenizer", variant="primary")
                decode_status = gr.HTML()
                decoded = gr.Dataframe(headers=["tokenizer", "text", "pieces", "problem"], interactive=False,
                                       elem_id="tokenizers-decoded",
                                       wrap=True)
            with gr.Tab("Explainers", id="tokenizers-explain-tab"):
                gr.Markdown(f"Concepts from chapter 2, *Tokens and Embeddings* "
                            f"([book notebook]({MANIFEST.chapters[0].url})).")
                for title, body in views.EXPLAINERS.items():
                    with gr.Accordion(title, open=False):
                        gr.Markdown(body)

        compare_inputs = [text, selected, extra, show_ids]
        compare_outputs = [arena, summary, diff, notes]

        def after_compare(event: Any) -> None:
            event.then(counts_plot, summary, counts, api_visibility="private", show_progress="hidden")
            errors_inline(event, compare_status, run_compare)

        after_compare(gr.on([go.click, text.submit], run_compare, compare_inputs, compare_outputs,
                            api_name="tokenizers_compare"))
        after_compare(example.change(load_example, example, text, api_name="tokenizers_example").then(
            run_compare, compare_inputs, compare_outputs, api_visibility="private"))
        show_ids.change(None, show_ids, show_ids, js=views.IDS_JS)
        errors_inline(chat_go.click(run_chat, [chat_tok, sys_msg, user_msg, asst_msg, gen_prompt],
                                    [chat_prompt, chat_html, chat_summary], api_name="tokenizers_chat"),
                      chat_status, run_chat)
        errors_inline(cost_go.click(run_cost, [selected, extra, prices],
                                    [cost_table, cost_plot, cost_money, cost_note], api_name="tokenizers_cost"),
                      cost_status, run_cost)
        prices.input(prices_edited, prices, prices_date, api_visibility="private")
        errors_inline(gr.on([decode_go.click, ids_in.submit], run_decode, [ids_in, selected, extra], decoded,
                            api_name="tokenizers_decode"), decode_status, run_decode)
        takehome_row.build(demo, compare_inputs, tabs, lambda load: after_compare(load.then(
            run_compare, compare_inputs, compare_outputs, api_visibility="private")))  # link → inputs → compare
    return demo
