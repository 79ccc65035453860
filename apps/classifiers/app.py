"""Classifier Zoo (book ch. 4 and 11): every way the book classifies text, side by side.

Layout and wiring only; the methods, metrics and caches live in :mod:`core.classifiers`.
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from apps.classifiers import MANIFEST
from apps.common import HEAVY, app_title, esc, heavy_limit, user_errors, warn_html
from core.classifiers import data as cdata
from core.classifiers.methods import DEFAULT_PROMPT, METHOD_INFO, OFFLINE_DEFAULT, PARSE_RULE, ZooConfig
from core.errors import InvalidUpload, LabError

SLUG = "classifiers"
UPLOAD = "Upload a CSV"

CSS = MANIFEST.css


# --------------------------------------------------------------------------------------------
# handlers (thin: everything real is in core.classifiers)
# --------------------------------------------------------------------------------------------

def _load_data(source: str, file: Any, text_col: str, label_col: str, test_size: float,
               train_size: float) -> cdata.LabelledData:
    test_size, train_size = int(test_size or cdata.DEFAULT_TEST), int(train_size or cdata.DEFAULT_TRAIN)
    if source != UPLOAD:
        return cdata.builtin(test_size=test_size, train_size=train_size)
    if file is None:
        raise InvalidUpload("Upload a CSV file first (or pick the built-in Rotten Tomatoes data).")
    preview = cdata.preview_csv(file)
    if not text_col or not label_col:
        raise InvalidUpload("Choose the text column and the label column.")
    return cdata.from_frame(preview.frame, text_col, label_col, name=_name(file), test_size=test_size,
                            train_size=train_size, notes=preview.notes)


def _name(file: Any) -> str:
    from pathlib import Path

    path = file.get("path") if isinstance(file, dict) else getattr(file, "path", None) or file
    return Path(str(path)).name


def _config(data: cdata.LabelledData, descriptions: str, words: str, prompt: str, calibrate: bool,
            base_url: str, model: str, key: str, k: float, pick: str, steps: float) -> ZooConfig:
    rows: list[int] | None = None
    if pick and pick.strip():
        try:
            rows = [int(x) for x in pick.replace(";", ",").replace(" ", ",").split(",") if x.strip()]
        except ValueError:
            raise LabError("Picked training rows must be numbers separated by commas, e.g. 3, 17, 42.") from None
    return ZooConfig(
        descriptions=cdata.parse_mapping(descriptions, data.classes, data.descriptions, "description"),
        words=cdata.parse_mapping(words, data.classes, data.words, "answer word"),
        prompt=prompt or DEFAULT_PROMPT, calibrate=bool(calibrate),
        openai_base_url=(base_url or "").strip(), openai_model=(model or "").strip(), openai_key=key or "",
        setfit_k=int(k or 8), setfit_pick=rows, setfit_steps=int(steps or 0))


def _counts_html(data: cdata.LabelledData, extra: list[str] | None = None) -> str:
    counts = data.counts()
    rows = "".join(f'<tr><td title="{esc(c)}">{esc(c)}</td><td>{tr:,}</td><td>{te:,}</td></tr>'
                   for c, (tr, te) in counts.items())
    notes = "".join(f"<li>{esc(n)}</li>" for n in [*(extra or []), *data.notes])
    return (f'<div class="classifiers-counts"><b>{esc(data.name)}</b> · {len(data.classes)} classes'
            f"<table><tr><th>class</th><th>train</th><th>test</th></tr>{rows}</table>"
            + (f"<ul class='lab-note'>{notes}</ul>" if notes else "") + "</div>")


def _defaults(data: cdata.LabelledData) -> tuple[str, str]:
    return (cdata.format_mapping(data.descriptions, data.classes), cdata.format_mapping(data.words, data.classes))


@user_errors
def on_upload(file: Any, test_size: float, train_size: float) -> tuple[Any, ...]:
    if file is None:
        return gr.update(choices=[], value=None), gr.update(choices=[], value=None), "", gr.update(), gr.update()
    preview = cdata.preview_csv(file)
    choices = preview.columns
    html, desc, words = _describe_columns(file, preview.text_column, preview.label_column, test_size, train_size)
    return (gr.update(choices=choices, value=preview.text_column), gr.update(choices=choices, value=preview.label_column),
            html, desc, words)


def _describe_columns(file: Any, text_col: str, label_col: str, test_size: float,
                      train_size: float) -> tuple[str, Any, Any]:
    try:
        data = _load_data(UPLOAD, file, text_col, label_col, test_size, train_size)
    except LabError as exc:
        preview = cdata.preview_csv(file)
        if label_col in preview.columns:
            counts, warnings = cdata.class_counts(preview.frame, label_col,
                                                  text_col if text_col in preview.columns else None)
            top = ", ".join(f"{esc(c)}: {n:,}" for c, n in counts.most_common(12))
            return (warn_html(str(exc)) + f"<div class='lab-note'>Label counts: {top}</div>"
                    + "".join(warn_html(w) for w in warnings), gr.update(), gr.update())
        return warn_html(str(exc)), gr.update(), gr.update()
    desc, words = _defaults(data)
    return _counts_html(data), desc, words


@user_errors
def on_columns(file: Any, text_col: str, label_col: str, test_size: float, train_size: float) -> tuple[Any, ...]:
    if file is None:
        return "", gr.update(), gr.update()
    return _describe_columns(file, text_col, label_col, test_size, train_size)


@user_errors
def on_source(source: str, test_size: float, train_size: float) -> tuple[Any, ...]:
    upload = source == UPLOAD
    if upload:
        return (gr.update(visible=True), gr.update(visible=True), gr.update(visible=True),
                "<div class='lab-note'>Upload a CSV with a header row; then pick the text and label columns. "
                "Class counts appear here before anything is trained.</div>", gr.update(), gr.update())
    data = cdata.builtin(test_size=int(test_size), train_size=int(train_size))
    desc, words = _defaults(data)
    return (gr.update(visible=False), gr.update(visible=False), gr.update(visible=False),
            _counts_html(data), desc, words)


def _bars(classes: list[str], row: Any) -> str:
    out = []
    order = sorted(range(len(classes)), key=lambda i: -float(row[i]))[:6]
    for i in order:
        v = float(row[i])
        out.append(f'<div class="classifiers-bar"><span class="name" title="{esc(classes[i])}">{esc(classes[i])}</span>'
                   f'<span class="track"><span class="fill" style="display:block;width:{max(0.0, min(1.0, v)) * 100:.1f}%">'
                   f'</span></span><span class="val">{v:.2f}</span></div>')
    return "".join(out)


def _cards(results: list[Any], classes: list[str]) -> str:
    cards = []
    for r in results:
        if not r.ok:
            body = f'<div class="err">⚠ {esc(r.error)}</div>'
            lat = ""
        else:
            label = esc(r.labels[0])
            body = f'<div class="label" title="{label}">{label}</div>{_bars(classes, r.scores[0])}'
            if r.raw:
                body += f'<div class="classifiers-reply">{esc(r.raw[0][:200])}</div>'
            lat = f"{r.predict_s * 1000:,.0f} ms" + (f" · trained {r.fit_s:.1f} s" if r.fit_s > 0.05 else "")
        cards.append(f'<div class="classifiers-card"><span class="lat">{esc(lat)}</span><h4>{esc(r.title)}</h4>'
                     f'<div class="model">{esc(r.model or METHOD_INFO[r.key].offline_model)}</div>{body}</div>')
    return f'<div class="classifiers-cards">{"".join(cards)}</div>'


@user_errors
def on_classify(text: str, source: str, file: Any, text_col: str, label_col: str, test_size: float,
                train_size: float, methods: list[str], descriptions: str, words: str, prompt: str,
                calibrate: bool, base_url: str, model: str, key: str, k: float, pick: str, steps: float,
                progress: gr.Progress = gr.Progress()) -> str:
    from core.classifiers import classify_text

    data = _load_data(source, file, text_col, label_col, test_size, train_size)
    config = _config(data, descriptions, words, prompt, calibrate, base_url, model, key, k, pick, steps)
    results = classify_text(text, methods or [], data, config, progress=lambda f, d: progress(f, desc=d))
    return _cards(results, data.classes)


def _frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows)


@user_errors
def on_evaluate(source: str, file: Any, text_col: str, label_col: str, test_size: float, train_size: float,
                methods: list[str], descriptions: str, words: str, prompt: str, calibrate: bool, base_url: str,
                model: str, key: str, k: float, pick: str, steps: float,
                progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
    from core.classifiers import confusion_figure, evaluate, per_class_rows

    data = _load_data(source, file, text_col, label_col, test_size, train_size)
    config = _config(data, descriptions, words, prompt, calibrate, base_url, model, key, k, pick, steps)
    ev = evaluate(data, methods or [], config, progress=lambda f, d: progress(f, desc=d))
    ok = ev.ok()
    best = max(ok, key=lambda r: r.metrics.f1) if ok else None
    summary = (f"<div class='classifiers-summary'><b>{len(data.test_texts):,}</b> test and "
               f"<b>{len(data.train_texts):,}</b> training examples from {esc(data.name)} · "
               f"{len(ok)}/{len(ev.results)} methods ran in {ev.seconds:.1f} s"
               + (f" · best weighted F1: <b>{esc(best.title)}</b> ({best.metrics.f1:.3f})" if best else "")
               + ". The book's figures are on rotten_tomatoes' 1,066 test reviews with larger models.</div>")
    for r in ev.results:
        if not r.ok:
            summary += warn_html(f"{r.title}: {r.error}")
        for note in r.notes:
            summary += f"<div class='lab-note'>{esc(r.title)}: {esc(note)}</div>"
    titles = [r.title for r in ok]
    first = ok[0] if ok else None
    return (summary, _frame(ev.comparison()),
            gr.update(choices=titles, value=first.title if first else None),
            _frame(per_class_rows(first)) if first else _frame([]),
            confusion_figure(first) if first else None,
            _frame(ev.disagreements("disagree")),
            str(ev.write_predictions()) if ok else None, ev)


@user_errors
def on_report(title: str, ev: Any) -> tuple[Any, Any]:
    from core.classifiers import confusion_figure, per_class_rows

    if ev is None:
        return _frame([]), None
    r = next((r for r in ev.ok() if r.title == title), None)
    if r is None:
        return _frame([]), None
    return _frame(per_class_rows(r)), confusion_figure(r)


@user_errors
def on_disagree(which: str, ev: Any) -> Any:
    if ev is None:
        return _frame([])
    return _frame(ev.disagreements(which))


@user_errors
def on_train_rows(source: str, file: Any, text_col: str, label_col: str, test_size: float,
                  train_size: float) -> Any:
    data = _load_data(source, file, text_col, label_col, test_size, train_size)
    return _frame([{"row": i, "label": lab, "text": t}
                   for i, (t, lab) in enumerate(zip(data.train_texts[:1000], data.train_labels[:1000]))])


# --------------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------------

def build() -> gr.Blocks:
    method_choices = [(info.title, key) for key, info in METHOD_INFO.items()]
    rt_desc = cdata.format_mapping(cdata.RT_DESCRIPTIONS, cdata.RT_CLASSES)
    rt_words = cdata.format_mapping(cdata.RT_WORDS, cdata.RT_CLASSES)
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        with gr.Row(equal_height=False):
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
                    test_size = gr.Slider(20, 1000, value=cdata.DEFAULT_TEST, step=10, label="Test examples")
                    train_size = gr.Slider(20, 5000, value=cdata.DEFAULT_TRAIN, step=10, label="Training examples (max)")
                counts = gr.HTML(elem_id="classifiers-counts")
            with gr.Column(scale=6):
                gr.Markdown("#### 2 · Methods")
                methods = gr.CheckboxGroup(method_choices, value=list(OFFLINE_DEFAULT), show_label=False,
                                           elem_id="classifiers-methods")
                with gr.Accordion("Zero-shot label descriptions · answer words", open=False):
                    descriptions = gr.Textbox(rt_desc, lines=3, label="Label descriptions (class: description)",
                                              info="Zero-shot compares each text's embedding with these.")
                    words = gr.Textbox(rt_words, lines=3, label="Answer words (class: word)",
                                       info="What generative models answer; also maps classes for the Hub sentiment model.")
                with gr.Accordion("Generative prompt and parsing rule", open=False):
                    prompt = gr.Textbox(DEFAULT_PROMPT, lines=5, label="Prompt ([DOCUMENT] = the text, [LABELS] = the answer words)")
                    calibrate = gr.Checkbox(True, label="Calibrate the local model (contextual calibration)")
                    gr.Markdown(PARSE_RULE, elem_classes="lab-note")
                with gr.Accordion("OpenAI-compatible endpoint (key stays in this browser session)", open=False):
                    with gr.Row():
                        base_url = gr.Textbox(label="Base URL", placeholder="http://localhost:11434/v1")
                        api_model = gr.Textbox(label="Model", placeholder="gpt-4o-mini")
                    api_key = gr.Textbox(label="API key", type="password", placeholder="never stored or logged")
                with gr.Accordion("SetFit few-shot", open=False):
                    with gr.Row():
                        k = gr.Slider(2, 64, value=8, step=1, label="Examples per class (k)")
                        steps = gr.Slider(0, 300, value=0, step=5, label="Contrastive steps (0 = all pairs, 1 epoch)")
                    pick = gr.Textbox(label="Or pick training rows yourself (see the Training data tab)",
                                      placeholder="e.g. 3, 17, 42, 108 — blank = k random per class")
        settings = [source, upload, text_col, label_col, test_size, train_size, methods, descriptions, words,
                    prompt, calibrate, base_url, api_model, api_key, k, pick, steps]
        ev_state = gr.State(None)
        with gr.Tabs():
            with gr.Tab("Single text", id="single"):
                with gr.Row():
                    text = gr.Textbox("unpretentious , charming , quirky , original", lines=2, scale=5,
                                      label="Text", elem_id="classifiers-text")
                    classify_btn = gr.Button("Classify with every method", variant="primary", scale=1)
                cards = gr.HTML(elem_id="classifiers-cards")
            with gr.Tab("Evaluate", id="evaluate"):
                with gr.Row():
                    eval_btn = gr.Button("Evaluate the chosen methods", variant="primary",
                                         elem_id="classifiers-evaluate")
                summary = gr.HTML(elem_id="classifiers-summary")
                comparison = gr.Dataframe(label="Comparison (weighted averages; book F1 = the book's figure)",
                                          interactive=False, wrap=True, elem_id="classifiers-comparison")
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
                disagreements = gr.Dataframe(interactive=False, wrap=True, label="Examples (✓/✗ label (top score))")
            with gr.Tab("Training data", id="train"):
                gr.Markdown("Row numbers for picking SetFit examples by hand.", elem_classes="lab-note")
                train_btn = gr.Button("Show the training split")
                train_rows = gr.Dataframe(interactive=False, wrap=True)

        source.change(on_source, [source, test_size, train_size],
                      [upload, text_col, label_col, counts, descriptions, words], api_name=f"{SLUG}_source")
        upload.change(on_upload, [upload, test_size, train_size], [text_col, label_col, counts, descriptions, words],
                      api_name=f"{SLUG}_upload")
        for col in (text_col, label_col):
            col.input(on_columns, [upload, text_col, label_col, test_size, train_size],
                      [counts, descriptions, words], api_visibility="private")
        gr.Button("counts", visible=False).click(
            on_columns, [upload, text_col, label_col, test_size, train_size], [counts, descriptions, words],
            api_name=f"{SLUG}_columns")
        demo.load(on_source, [source, test_size, train_size], [upload, text_col, label_col, counts, descriptions, words],
                  api_visibility="private")
        classify_btn.click(on_classify, [text, *settings], cards, api_name=f"{SLUG}_classify",
                           concurrency_id=HEAVY, concurrency_limit=heavy_limit())
        text.submit(on_classify, [text, *settings], cards, api_visibility="private",
                    concurrency_id=HEAVY, concurrency_limit=heavy_limit())
        eval_btn.click(on_evaluate, settings,
                       [summary, comparison, which, report, confusion, disagreements, download, ev_state],
                       api_name=f"{SLUG}_evaluate", concurrency_id=HEAVY, concurrency_limit=heavy_limit())
        which.input(on_report, [which, ev_state], [report, confusion], api_visibility="private")
        disagree_filter.change(on_disagree, [disagree_filter, ev_state], disagreements, api_visibility="private")
        train_btn.click(on_train_rows, [source, upload, text_col, label_col, test_size, train_size], train_rows,
                        api_name=f"{SLUG}_train_rows")
    return demo

