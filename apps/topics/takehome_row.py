"""The Topic Explorer's take-home row: a link to the corpus (an uploaded CSV is stored with the link),
its columns and every pipeline knob; the topics and document→topic CSVs with provenance (a zip);
and the BERTopic notebook (:mod:`core.topics.notebook`).

Opening a link (after the page's own room/corpus load): the knobs and corpus are set, the columns
applied again once the corpus's own change event has settled, and Find topics pressed, so the page
shows the same topics (the embeddings and UMAP come from the lab's caches when they are warm)."""
from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import error_html, esc
from apps.common.takehome import TakeHome, restore, takehome
from apps.topics import handlers as h
from core.errors import LabError
from core.topics import results as tres
from core.topics.runs import resolve
from apps.topics import MANIFEST

SLUG = "topics"
SETTLE_JS = "() => new Promise(resolve => setTimeout(() => resolve([]), 2500))"
RUN_JS = "(opened) => { if (opened) document.querySelector('#topics-run')?.click(); }"
#: TopicConfig fields in the order of the page's knobs (after embed)
KNOB_FIELDS = ("n_neighbors", "n_components", "min_dist", "umap_metric", "seed", "min_cluster_size", "min_samples",
               "cluster_selection", "stop_words", "ngram_max", "min_df", "representation", "diversity")


def _state(values: tuple[Any, ...]) -> dict[str, Any]:
    source, file, text_col, time_col, class_col = values[:5]
    config = h.make_config(*values[5:19])
    return tres.link_state(source, file, text_col, time_col, class_col, config)


def link_state(*values: Any) -> dict[str, Any]:
    return _state(values)


def results(*values: Any) -> tuple[str, bytes]:
    run = resolve(values[19], missing_ok=True)
    return tres.results(run, _state(values) if run is not None else None)


def make_notebook(*values: Any) -> Any:
    """The current run's notebook (its documents, settings and vectors), else the settings' on the corpus."""
    from core.topics.notebook import notebook

    state = _state(values)
    run = resolve(values[19], missing_ok=True)
    if run is not None:
        return notebook(state, run.corpus, run.config, run.embeddings, app=MANIFEST)
    return notebook(state, tres.corpus_of(state, values[1]), app=MANIFEST)


def on_load(request: gr.Request) -> list[Any]:
    """Source, upload, embed + knobs, the link state (None without one), whether one was opened, the message."""
    skip = [gr.skip()] * (3 + len(KNOB_FIELDS))
    try:
        state = restore(SLUG, request)
        if not state or "room" in state:  # no link, or a room's page (its corpus comes from the room)
            return [*skip, None, False, ""]
        config = tres.config_of(state)
    except LabError as exc:
        return [*skip, None, False, error_html(str(exc))]
    source = str(state.get("corpus") or "sample")
    path = tres.upload_file(state) if source == "upload" else None
    knobs = [getattr(config, f) for f in KNOB_FIELDS]
    return [source, gr.update(value=path, visible=True) if path else gr.skip(), config.embedding_model, *knobs,
            {**state, "file": path}, True, f'<div class="lab-note">Opened from a link: {esc(state.get("csv_name") or source)}'
            " — finding the topics with its settings.</div>"]


def apply_table(state: dict[str, Any] | None) -> tuple:
    """The link's corpus with its columns (table, text/time/class columns, preview)."""
    if not state:
        return (gr.skip(),) * 5
    from core.topics.data import load_builtin, load_upload

    try:
        table = load_upload(state["file"]) if state.get("corpus") == "upload" else load_builtin(state.get("corpus"))
    except LabError as exc:
        return (gr.skip(),) * 4 + (error_html(str(exc)),)
    table.text_column = state.get("text") or table.text_column
    table.time_column = state.get("time") or None
    table.class_column = state.get("cls") or None
    return h._table_outputs(table)


def build(demo: gr.Blocks, after: Any, source: Any, upload: Any, embed: Any, knobs: list[Any], columns: list[Any],
          table_outputs: list[Any], run_state: Any) -> TakeHome:
    """The row and the link restore chained ``after`` the page's own corpus load (``columns``: text,
    time, class column dropdowns; ``knobs``: the 13 pipeline controls after the embedding model)."""
    row = takehome(SLUG, [source, upload, *columns, embed, *knobs, run_state], link_state=link_state, results=results,
                   notebook=make_notebook)
    link = gr.State(None)
    opened = gr.Checkbox(False, visible=False)  # a link was opened (a State's value never reaches the page's JS)
    restored = after.then(on_load, None, [source, upload, embed, *knobs, link, opened, row.message],
                          api_visibility="private")
    restored.then(apply_table, link, table_outputs, api_visibility="private").then(
        None, js=SETTLE_JS).then(apply_table, link, table_outputs, api_visibility="private").then(
        None, opened, None, js=RUN_JS)
    return row
