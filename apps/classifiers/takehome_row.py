"""The Classifier Zoo's take-home row: a link to the data choice (an uploaded CSV is stored with the
link), split sizes, methods and their settings (never the API key); the comparison as CSV with
provenance; and the notebook (:mod:`core.classifiers.notebook`).

Opening a link: the page's own source handler runs first (it used to run on load), then the link's
values are applied — twice for an uploaded file, because the upload's change events reset the
columns and sliders — and the evaluation starts, so the page shows the same comparison."""
from __future__ import annotations

from typing import Any

import gradio as gr

from apps.classifiers import handlers as h
from apps.common import error_html
from apps.common.takehome import TakeHome, restore, takehome
from core.classifiers import data as cdata
from core.classifiers import results as cres
from core.errors import LabError
from core.links import param_bool, param_float, param_list
from apps.classifiers import MANIFEST

SLUG = "classifiers"
#: after the upload's own change events (columns guessed, sliders fitted) have run
SETTLE_JS = "() => new Promise(resolve => setTimeout(() => resolve([]), 1500))"
EVALUATE_JS = "(opened) => { if (opened) document.querySelector('#classifiers-evaluate')?.click(); }"


def _state(values: tuple[Any, ...]) -> dict[str, Any]:
    (source, file, text_col, label_col, test_size, train_size, methods, descriptions, words, prompt, calibrate,
     base_url, model, _key, k, pick, steps) = values[:17]
    return cres.link_state(source, file, text_col, label_col, test_size, train_size, methods, descriptions, words,
                           prompt, calibrate, base_url, model, k, pick, steps)


def link_state(*values: Any) -> dict[str, Any]:
    return _state(values)


def results(*values: Any) -> tuple[str, bytes]:
    return cres.results(values[17], _state(values))


def make_notebook(*values: Any) -> Any:
    from core.classifiers.notebook import notebook

    state = _state(values)
    if not state["methods"]:
        raise LabError("Choose at least one method: the notebook reruns the chosen methods.")
    return notebook(state, cres.data_of(state, values[1]), app=MANIFEST)


def _values(state: dict[str, Any], file: str | None) -> list[Any]:
    """Updates for text_col, label_col, test_size, train_size, methods, descriptions, words, prompt,
    calibrate, base_url, model, k, pick, steps, counts."""
    counts: Any = gr.skip()
    if state.get("source") == "upload" and file:
        counts = h.describe_columns(file, state.get("text_col"), state.get("label_col"),
                                    param_float(state.get("test"), cdata.DEFAULT_TEST),
                                    param_float(state.get("train"), cdata.DEFAULT_TRAIN))[0]
        preview = cdata.preview_csv(file)
        sliders = h.split_sliders(len(preview.frame))
        cols = [gr.update(choices=preview.columns, value=state.get("text_col")),
                gr.update(choices=preview.columns, value=state.get("label_col"))]
    else:
        sliders = h.split_sliders(None)
        cols = [gr.skip(), gr.skip()]
    test = {**sliders[0], "value": int(param_float(state.get("test"), sliders[0]["value"]))}
    train = {**sliders[1], "value": int(param_float(state.get("train"), sliders[1]["value"]))}

    def text(key: str) -> Any:
        return str(state[key]) if state.get(key) not in (None, "") else gr.skip()

    methods = param_list(state.get("methods")) if "methods" in state else None
    return [*cols, test, train, methods if methods is not None else gr.skip(), text("descriptions"), text("words"),
            text("prompt"), param_bool(state.get("calibrate"), True) if "calibrate" in state else gr.skip(),
            text("base_url"), text("model"), int(param_float(state.get("k"), 8)) if "k" in state else gr.skip(),
            text("pick"), int(param_float(state.get("steps"), 0)) if "steps" in state else gr.skip(), counts]


def build(demo: gr.Blocks, settings: list[Any], ev_state: Any, counts: Any, source_out: list[Any],
          tabs: gr.Tabs) -> TakeHome:
    """The row and the page-load restore (``settings``: the Zoo's 17 inputs; ``source_out``: what the
    source handler fills)."""
    row = takehome(SLUG, [*settings, ev_state], link_state=link_state, results=results, notebook=make_notebook)
    source = settings[0]
    rest = [settings[i] for i in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16)] + [counts]
    link = gr.State(None)
    opened = gr.Checkbox(False, visible=False)  # a link was opened (a State's value never reaches the page's JS)

    def on_load(request: gr.Request) -> list[Any]:
        try:
            state = restore(SLUG, request)
        except LabError as exc:
            return [*h.on_source(cdata.BUILTIN, cdata.DEFAULT_TEST, cdata.DEFAULT_TRAIN), gr.skip(), None, False,
                    error_html(str(exc))]
        if not state:
            return [*h.on_source(cdata.BUILTIN, cdata.DEFAULT_TEST, cdata.DEFAULT_TRAIN), gr.skip(), None, False, ""]
        upload_source = state.get("source") == "upload"
        base = list(h.on_source(h.UPLOAD if upload_source else cdata.BUILTIN, cdata.DEFAULT_TEST, cdata.DEFAULT_TRAIN))
        path = cres.upload_file(state) if upload_source else None
        if path:
            base[0] = gr.update(visible=True, value=path)  # the upload component: the link's CSV
        return [*base, h.UPLOAD if upload_source else cdata.BUILTIN, {**state, "file": path}, bool(state.get("methods")),
                f'<div class="lab-note">Opened from a link: {len(param_list(state.get("methods")))} method(s) on '
                f'{"the uploaded " + str(state.get("csv_name")) if upload_source else "the built-in data"}.</div>']

    def apply(state: dict[str, Any] | None, early: bool = False) -> list[Any]:
        if not state:
            return [gr.skip()] * (len(rest) + 1)
        try:
            values = [*_values(state, state.get("file")), gr.Tabs(selected="evaluate")]
        except LabError:  # the file's problem already shows in the counts line (on_upload)
            return [gr.skip()] * (len(rest) + 1)
        if early and state.get("source") == "upload":  # the upload's own events fit columns and sliders first
            values[:4] = [gr.skip()] * 4
            values[-2] = gr.skip()
        return values

    load = demo.load(on_load, None, [*source_out, source, link, opened, row.message], api_visibility="private")
    load.then(lambda state: apply(state, early=True), link, [*rest, tabs], api_visibility="private").then(
        None, js=SETTLE_JS).then(apply, link, [*rest, tabs], api_visibility="private").then(
        None, opened, None, js=EVALUATE_JS)
    return row
