"""Classifier Zoo (book ch. 4 and 11): every way the book classifies text, side by side.

Layout and wiring only: handlers in :mod:`apps.classifiers.handlers`, HTML and figures in
:mod:`apps.classifiers.views`, the methods, metrics and caches in :mod:`core.classifiers`.
"""
from __future__ import annotations

import logging
import threading

import gradio as gr

from apps.classifiers import MANIFEST
from apps.classifiers import handlers as h
from apps.classifiers import takehome_row
from apps.classifiers import finetune_tab
from apps.common import app_title, labsession
from apps.common.backend import backend_picker
from apps.common.jobs import job_on
from core.classifiers import data as cdata
from core.classifiers.methods import DEFAULT_PROMPT, METHOD_INFO, OFFLINE_DEFAULT, PARSE_RULE, ZooConfig

log = logging.getLogger(__name__)

SLUG = "classifiers"
UPLOAD = h.UPLOAD
CSS = MANIFEST.css
SETFIT_NOTE = (
    "**Why offline SetFit scores lower than the book:** the book fine-tunes all-mpnet-base-v2 (110 M parameters) "
    "on 16 examples per class for 3 epochs of 20 pair iterations and reports F1 0.84. Offline, the lab fine-tunes "
    "the small packaged MiniLM (22 M) on 8 per class for one epoch of unique pairs (about 10 contrastive steps, "
    "so a click stays under a minute on a laptop CPU); measured on the built-in split that lands near 0.55–0.60. "
    "To see the method work, raise *k* to 16–32 and the steps to 60+ (each step is about 2–3 s on 2 CPU cores), "
    "or run in Hub mode on a GPU.")
_warm: dict[str, threading.Thread] = {}


def startup() -> None:
    """Train (or find on disk) the offline task model of the built-in data, in the background.

    Stored under ``models_dir/classifiers/task/<training-data hash>-…``: a restart reuses it, and a
    click while it trains waits for this run instead of training a second copy."""
    from core.classifiers.methods import task_model
    from core.settings import get_settings

    if not get_settings().classifiers_warmup:
        return

    def run() -> None:
        from core.priority import as_model_work

        as_model_work(after_start=True)
        try:
            trained = task_model.warm()
            log.info("classifiers warm start: task model %s", "trained" if trained else "already stored")
        except Exception:  # noqa: BLE001 - warm-up is best effort; a click trains it then
            log.exception("classifiers warm start failed")

    if "task" not in _warm or not _warm["task"].is_alive():
        _warm["task"] = threading.Thread(target=run, name="classifiers-warm-task", daemon=True)
        _warm["task"].start()


def build() -> gr.Blocks:
    method_choices = [(info.title, key) for key, info in METHOD_INFO.items()]
    rt_desc = cdata.format_mapping(cdata.RT_DESCRIPTIONS, cdata.RT_CLASSES)
    rt_words = cdata.format_mapping(cdata.RT_WORDS, cdata.RT_CLASSES)
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        with gr.Column(elem_classes="classifiers-body"):  # phones: the text and Classify first, settings below
            with gr.Row(equal_height=False, elem_classes="classifiers-settings", elem_id="classifiers-settings"):
                with gr.Column(scale=5):
                    gr.Markdown("#### 1 · Data")
                    source = gr.Radio([cdata.BUILTIN, UPLOAD], value=cdata.BUILTIN, show_label=False,
                                      elem_id="classifiers-source")
                    upload = gr.File(label="CSV with a header row (text + label columns)", visible=False,
                                     file_types=[".csv", ".tsv", ".txt"], elem_id="classifiers-upload")
                    with gr.Row():
                        text_col = gr.Dropdown(label="Text column", choices=[], visible=False, allow_custom_value=True)
                        label_col = gr.Dropdown(label="Label column", choices=[], visible=False, allow_custom_value=True)
                    with gr.Row():
                        test_size = gr.Slider(20, 1000, value=cdata.DEFAULT_TEST, step=10, label="Test examples",
                                              elem_id="classifiers-test-size")
                        train_size = gr.Slider(20, 5000, value=cdata.DEFAULT_TRAIN, step=10,
                                               label="Training examples (max)", elem_id="classifiers-train-size")
                    counts = gr.HTML(elem_id="classifiers-counts")
                with gr.Column(scale=6):
                    gr.Markdown("#### 2 · Methods")
                    methods = gr.CheckboxGroup(method_choices, value=list(OFFLINE_DEFAULT), show_label=False,
                                               elem_id="classifiers-methods")
                    with gr.Accordion("Zero-shot label descriptions · answer words", open=False):
                        descriptions = gr.Textbox(rt_desc, lines=3, label="Label descriptions (class: description)",
                                                  info="Zero-shot compares each text's embedding with these.")
                        words = gr.Textbox(rt_words, lines=3, label="Answer words (class: word)",
                                           info="What generative models answer; also maps classes for the Hub "
                                                "sentiment model.")
                    with gr.Accordion("Generative prompt and parsing rule", open=False):
                        prompt = gr.Textbox(DEFAULT_PROMPT, lines=5,
                                            label="Prompt ([DOCUMENT] = the text, [LABELS] = the answer words)")
                        calibrate = gr.Checkbox(True, label="Calibrate the local model (contextual calibration)")
                        gr.Markdown(PARSE_RULE, elem_classes="lab-note")
                    with gr.Accordion("OpenAI-compatible endpoint (key stays in this browser session)", open=False):
                        server = backend_picker(SLUG, server_only=True)  # the lab's server when one is set
                        base_url, api_model, api_key = server.inputs()
                    with gr.Accordion("SetFit few-shot", open=False):
                        with gr.Row():
                            k = gr.Slider(2, 64, value=ZooConfig.setfit_k, step=1, label="Examples per class (k)")
                            steps = gr.Slider(0, 300, value=0, step=5, label="Contrastive steps (0 = all pairs, 1 epoch)")
                        pick = gr.Textbox(label="Or pick training rows yourself (see the Training data tab)",
                                          placeholder="e.g. 3, 17, 42, 108 — blank = k random per class")
                        gr.Markdown(SETFIT_NOTE, elem_classes="lab-note")
            settings = [source, upload, text_col, label_col, test_size, train_size, methods, descriptions, words,
                        prompt, calibrate, base_url, api_model, api_key, k, pick, steps]
            ev_state = gr.State(None)
            gr.HTML('<a class="lab-note" href="#classifiers-settings">⚙ Data and methods: below the results ↓</a>',
                    elem_classes="classifiers-phone-hint", padding=False)
            with gr.Tabs() as tabs:
                with gr.Tab("Single text", id="single"):
                    with gr.Row():
                        text = gr.Textbox("unpretentious , charming , quirky , original", lines=2, scale=5,
                                          label="Text", elem_id="classifiers-text")
                        with gr.Column(scale=1, min_width=160):
                            classify_btn = gr.Button("Classify with every method", variant="primary",
                                                  elem_id="classifiers-classify")
                            classify_stop = gr.Button("Stop", size="sm", variant="stop")
                    classify_status = gr.HTML(elem_id="classifiers-classify-status")
                    cards = gr.HTML(elem_id="classifiers-cards")
                with gr.Tab("Evaluate", id="evaluate"):
                    with gr.Row():
                        eval_btn = gr.Button("Evaluate the chosen methods", variant="primary",
                                             elem_id="classifiers-evaluate", scale=4)
                        eval_stop = gr.Button("Stop", variant="stop", scale=1, elem_id="classifiers-evaluate-stop")
                    eval_status = gr.HTML(elem_id="classifiers-evaluate-status")
                    summary = gr.HTML(elem_id="classifiers-summary")
                    with gr.Row(equal_height=False, elem_classes="classifiers-compare"):
                        with gr.Column(scale=7, min_width=320):
                            comparison = gr.Dataframe(label="Comparison (weighted averages over classes)",
                                                      interactive=False, wrap=True, elem_id="classifiers-comparison",
                                                      column_widths=h.views.COLUMN_WIDTHS, max_chars=60)
                        with gr.Column(scale=4, min_width=300):
                            chart = gr.Plot(label="F1 per method", elem_id="classifiers-f1-chart")
                    with gr.Row():
                        with gr.Column(scale=5):
                            which = gr.Dropdown(label="Per-class report of", choices=[])
                            report = gr.Dataframe(interactive=False, label="Per-class report")
                        with gr.Column(scale=5):
                            confusion = gr.Plot(label="Confusion matrix")
                    with gr.Row():
                        disagree_filter = gr.Radio(["disagree", "any wrong", "all wrong", "all"], value="disagree",
                                                   label="Disagreement browser: show examples where methods…")
                        download = gr.File(label="Per-example predictions (CSV)", interactive=False)
                    disagreements = gr.Dataframe(interactive=False, wrap=True, max_chars=140,
                                                 label="Examples (✓/✗ label (top score))")
                with gr.Tab("Training data", id="train"):
                    gr.Markdown("Row numbers for picking SetFit examples by hand.", elem_classes="lab-note")
                    train_btn = gr.Button("Show the training split")
                    train_rows = gr.Dataframe(interactive=False, wrap=True)
                finetune_tab.render([source, upload, text_col, label_col, test_size, train_size])

        source_out = [upload, text_col, label_col, counts, descriptions, words, test_size, train_size]
        gr.on([source.change], h.on_source, [source, test_size, train_size], source_out,
              api_name=f"{SLUG}_source")
        upload.change(h.on_upload, [upload, test_size, train_size], [text_col, label_col, counts, descriptions, words],
                      api_name=f"{SLUG}_upload").then(h.on_upload_sizes, upload, [test_size, train_size],
                                                      api_visibility="private")
        gr.on([text_col.input, label_col.input], h.on_columns, [upload, text_col, label_col, test_size, train_size],
              [counts, descriptions, words], api_name=f"{SLUG}_columns")
        job_on([classify_btn.click, text.submit], h.on_classify, [text, *settings], cards, slug=SLUG,
               kind="classify", status=classify_status, stop=classify_stop, expect_s=15.0,
               api_name=f"{SLUG}_classify")
        job_on(eval_btn.click, h.on_evaluate, settings,
               [summary, comparison, chart, which, report, confusion, disagreements, download, ev_state],
               slug=SLUG, kind="evaluate", status=eval_status, stop=eval_stop, expect_s=60.0,
               api_name=f"{SLUG}_evaluate")
        which.input(h.on_report, [which, ev_state], [report, confusion], api_visibility="private")
        disagree_filter.change(h.on_disagree, [disagree_filter, ev_state], disagreements, api_visibility="private")
        train_btn.click(h.on_train_rows, [source, upload, text_col, label_col, test_size, train_size], train_rows,
                        api_name=f"{SLUG}_train_rows")
        labsession.wire(demo, SLUG)  # trained models belong to the browser, across the lab's pages
        takehome_row.build(demo, settings, ev_state, counts, source_out, tabs)  # link / download / notebook; restore on load
    return demo
