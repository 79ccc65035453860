"""Classifier Zoo event handlers: read the UI's values, call :mod:`core.classifiers`, render with :mod:`.views`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from apps.classifiers import views
from apps.common import esc, themed, user_errors, warn_html
from core.classifiers import data as cdata
from core.classifiers.methods import DEFAULT_PROMPT, ZooConfig
from core.errors import InvalidUpload, LabError

UPLOAD = "Upload a CSV"


def load_data(source: str, file: Any, text_col: str, label_col: str, test_size: float,
              train_size: float) -> cdata.LabelledData:
    """The built-in split, or the uploaded CSV's split with the chosen columns."""
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
    path = file.get("path") if isinstance(file, dict) else getattr(file, "path", None) or file
    return Path(str(path)).name


def config(data: cdata.LabelledData, descriptions: str, words: str, prompt: str, calibrate: bool,
           base_url: str, model: str, key: str, k: float, pick: str, steps: float) -> ZooConfig:
    """Per-request method settings from the UI's values."""
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
        setfit_k=int(k or ZooConfig.setfit_k), setfit_pick=rows, setfit_steps=int(steps or 0))


def _defaults(data: cdata.LabelledData) -> tuple[str, str]:
    return (cdata.format_mapping(data.descriptions, data.classes), cdata.format_mapping(data.words, data.classes))


def split_sliders(n_rows: int | None) -> tuple[Any, Any]:
    """Test/train slider updates that fit a file of ``n_rows`` rows (None: the built-in data's range)."""
    if n_rows is None:
        return (gr.update(minimum=20, maximum=1000, value=cdata.DEFAULT_TEST, step=10),
                gr.update(minimum=20, maximum=5000, value=cdata.DEFAULT_TRAIN, step=10))
    n = max(4, int(n_rows))
    step = 1 if n < 200 else 10
    test = min(cdata.DEFAULT_TEST, max(2, n // 4))
    train = min(cdata.DEFAULT_TRAIN, n - test)
    return (gr.update(minimum=2, maximum=max(2, n // 2), value=test, step=step),
            gr.update(minimum=2, maximum=max(2, n - 2), value=train, step=step))


@user_errors
def on_upload(file: Any, test_size: float, train_size: float) -> tuple[Any, ...]:
    """A new file: guess its columns, fit the sliders to its size, show its class counts."""
    if file is None:
        return gr.update(choices=[], value=None), gr.update(choices=[], value=None), "", gr.update(), gr.update()
    preview = cdata.preview_csv(file)
    test_up, train_up = split_sliders(len(preview.frame))
    html, desc, words = describe_columns(file, preview.text_column, preview.label_column, test_up["value"],
                                         train_up["value"])
    return (gr.update(choices=preview.columns, value=preview.text_column),
            gr.update(choices=preview.columns, value=preview.label_column), html, desc, words)


@user_errors
def on_upload_sizes(file: Any) -> tuple[Any, Any]:
    """After an upload: the test/train sliders fitted to the file's row count (built-in range without one)."""
    return split_sliders(None if file is None else len(cdata.preview_csv(file).frame))


def describe_columns(file: Any, text_col: str, label_col: str, test_size: float,
                     train_size: float) -> tuple[str, Any, Any]:
    try:
        data = load_data(UPLOAD, file, text_col, label_col, test_size, train_size)
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
    return views.counts_html(data), desc, words


@user_errors
def on_columns(file: Any, text_col: str, label_col: str, test_size: float, train_size: float) -> tuple[Any, ...]:
    if file is None:
        return "", gr.update(), gr.update()
    return describe_columns(file, text_col, label_col, test_size, train_size)


@user_errors
def on_source(source: str, test_size: float, train_size: float) -> tuple[Any, ...]:
    """Built-in data or upload: show the right inputs and the built-in split's counts."""
    if source == UPLOAD:
        return (gr.update(visible=True), gr.update(visible=True), gr.update(visible=True),
                "<div class='lab-note'>Upload a CSV with a header row; then pick the text and label columns. "
                "Class counts appear here before anything is trained.</div>", gr.update(), gr.update(),
                gr.update(), gr.update())
    test_up, train_up = split_sliders(None)
    data = cdata.builtin(test_size=cdata.DEFAULT_TEST, train_size=cdata.DEFAULT_TRAIN)
    desc, words = _defaults(data)
    return (gr.update(visible=False), gr.update(visible=False), gr.update(visible=False),
            views.counts_html(data), desc, words, test_up, train_up)


def _report(fraction: float, text: str) -> None:
    """Core progress → the job runner's one status line."""
    from core import jobs

    jobs.report(fraction, text)


def on_classify(text: str, source: str, file: Any, text_col: str, label_col: str, test_size: float,
                train_size: float, methods: list[str], descriptions: str, words: str, prompt: str,
                calibrate: bool, base_url: str, model: str, key: str, k: float, pick: str, steps: float) -> str:
    """Every chosen method on one text (a job: Stop, one status line; training methods may train first)."""
    from core.classifiers import classify_text

    data = load_data(source, file, text_col, label_col, test_size, train_size)
    cfg = config(data, descriptions, words, prompt, calibrate, base_url, model, key, k, pick, steps)
    results = classify_text(text, methods or [], data, cfg, progress=_report)
    return views.cards_html(results, data.classes)


def frame(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows)


def on_evaluate(source: str, file: Any, text_col: str, label_col: str, test_size: float, train_size: float,
                methods: list[str], descriptions: str, words: str, prompt: str, calibrate: bool, base_url: str,
                model: str, key: str, k: float, pick: str, steps: float) -> tuple[Any, ...]:
    """Every chosen method on the test split: metrics, the comparison and its chart, reports, the CSV (a job)."""
    from core.classifiers import confusion_figure, evaluate, per_class_rows

    data = load_data(source, file, text_col, label_col, test_size, train_size)
    cfg = config(data, descriptions, words, prompt, calibrate, base_url, model, key, k, pick, steps)
    ev = evaluate(data, methods or [], cfg, progress=_report)
    builtin = source != UPLOAD
    ok = ev.ok()
    first = ok[0] if ok else None
    return (views.summary_html(ev, builtin), frame(views.comparison_rows(ev, builtin)), views.f1_chart(ev.results, builtin),
            gr.update(choices=[r.title for r in ok], value=first.title if first else None),
            frame(per_class_rows(first)) if first else frame([]),
            themed(confusion_figure(first)) if first else None,
            frame(ev.disagreements("disagree")), str(ev.write_predictions()) if ok else None, ev)


@user_errors
def on_report(title: str, ev: Any) -> tuple[Any, Any]:
    from core.classifiers import confusion_figure, per_class_rows

    r = next((r for r in ev.ok() if r.title == title), None) if ev is not None else None
    if r is None:
        return frame([]), None
    return frame(per_class_rows(r)), themed(confusion_figure(r))


@user_errors
def on_disagree(which: str, ev: Any) -> Any:
    return frame([]) if ev is None else frame(ev.disagreements(which))


@user_errors
def on_train_rows(source: str, file: Any, text_col: str, label_col: str, test_size: float,
                  train_size: float) -> Any:
    data = load_data(source, file, text_col, label_col, test_size, train_size)
    return frame([{"row": i, "label": lab, "text": t}
                  for i, (t, lab) in enumerate(zip(data.train_texts[:1000], data.train_labels[:1000]))])
