"""Topic Explorer (book ch. 5): upload a CSV, get topics you can see and steer with BERTopic.

Layout and wiring only; the pipeline lives in :mod:`core.topics`. Run alone with
``python -m apps.topics``.
"""
from __future__ import annotations

import os
import sys
from typing import Any

import gradio as gr

from apps.topics import MANIFEST
from apps.common import HEAVY, app_title, heavy_limit, user_errors
from core.errors import LabError

SLUG = "topics"

CSS = MANIFEST.css

NONE = "(none)"
EMPTY_SUMMARY = ('<div class="topics-empty">Pick a corpus or upload a CSV, choose the text column, '
                 "then press <b>Find topics</b>. The first run embeds the documents (the slow part); "
                 "changing the clustering settings afterwards reuses those embeddings.</div>")


def _source_choices() -> list[tuple[str, str]]:
    from core.topics.data import BUILTINS

    return [(label, key) for key, label in BUILTINS.items()] + [("Upload a CSV file", "upload")]


def _embed_choices() -> list[tuple[str, str]]:
    from core import catalogue
    from core.settings import get_settings

    mode = get_settings().mode
    out = []
    for e in catalogue.entries("sentence-embedding"):
        if e.available_in(mode):
            shown = e.label if mode == "hub" else f"{e.label} → {e.display(mode)}"
            out.append((shown, e.name))
    return out


def _col(value: Any) -> str | None:
    return None if value in (None, "", NONE) else str(value)


# --------------------------------------------------------------------------------------------
# handlers (thin: core.topics does the work)
# --------------------------------------------------------------------------------------------

def _table_outputs(table: Any) -> tuple:
    from core.topics.data import preview
    from core.topics.views import preview_html

    cols = table.columns
    optional = [NONE] + cols
    html = preview_html(preview(table, table.text_column), table.name, table.notes)
    return (table,
            gr.Dropdown(choices=cols, value=table.text_column),
            gr.Dropdown(choices=optional, value=table.time_column or NONE),
            gr.Dropdown(choices=optional, value=table.class_column or NONE),
            html)


@user_errors
def load_source(source: str, file: Any) -> tuple:
    """Load a built-in corpus or the uploaded CSV; guess the columns; show a preview."""
    from core.topics.data import load_builtin, load_upload

    if source == "upload":
        if not file:
            raise LabError("Upload a CSV file (or pick a built-in corpus).")
        table = load_upload(file)
    else:
        table = load_builtin(source)
    return _table_outputs(table)


@user_errors
def preview_columns(table: Any, text_col: str, time_col: str, class_col: str) -> str:
    from core.topics.data import preview, prepare
    from core.topics.views import preview_html

    if table is None:
        raise LabError("Load a corpus first.")
    corpus = prepare(table, _col(text_col), _col(time_col), _col(class_col))  # validates the columns
    return preview_html(preview(table, _col(text_col)), table.name, corpus.notes)


def _config(embed: str, n_neighbors: float, n_components: float, min_dist: float, metric: str, seed: float,
            min_cluster_size: float, min_samples: float, selection: str, stop_words: str, ngram_max: float,
            min_df: float, representation: str, diversity: float) -> Any:
    from core.topics.model import TopicConfig

    return TopicConfig(embedding_model=embed or "embed-gte-small", n_neighbors=int(n_neighbors),
                       n_components=int(n_components), min_dist=float(min_dist), umap_metric=metric,
                       seed=int(seed), min_cluster_size=int(min_cluster_size), min_samples=int(min_samples or 0),
                       cluster_selection=selection, stop_words=stop_words, ngram_max=int(ngram_max),
                       min_df=int(min_df), representation=representation, diversity=float(diversity)).validate()


def _main_views(run: Any) -> tuple:
    from core.topics import views

    return (views.summary_html(run), views.safe(views.document_map, run), run.topic_table(),
            views.safe(views.barchart, run))


@user_errors
def run_topics(table: Any, text_col: str, time_col: str, class_col: str, embed: str, n_neighbors: float,
               n_components: float, min_dist: float, metric: str, seed: float, min_cluster_size: float,
               min_samples: float, selection: str, stop_words: str, ngram_max: float, min_df: float,
               representation: str, diversity: float, progress: gr.Progress = gr.Progress()) -> tuple:
    """Embed (cached), fit BERTopic, return the summary, map, topic table and top-words chart."""
    from core.topics.data import prepare
    from core.topics.model import fit_topics

    if table is None:
        raise LabError("Load a corpus or upload a CSV first.")
    config = _config(embed, n_neighbors, n_components, min_dist, metric, seed, min_cluster_size, min_samples,
                     selection, stop_words, ngram_max, min_df, representation, diversity)
    corpus = prepare(table, _col(text_col), _col(time_col), _col(class_col), hover_column=table.hover_column)
    run = fit_topics(corpus, config, progress=lambda f, d: progress(f, desc=d))
    return (run, *_main_views(run))


@user_errors
def extra_views(run: Any) -> tuple:
    """The slower views: similarity heatmap, hierarchy, topics over time, topics per class."""
    from core.topics import views

    return (views.safe(views.heatmap, run), views.safe(views.hierarchy, run), views.safe(views.over_time, run),
            views.safe(views.per_class, run))


def _need_run(run: Any) -> Any:
    if run is None:
        raise LabError("Run the topic model first (press Find topics).")
    return run


@user_errors
def search_topics(run: Any, query: str) -> Any:
    from core.topics.model import find

    return find(_need_run(run), query)


@user_errors
def outliers(run: Any, strategy: str, threshold: float, use_target: bool, target_pct: float,
             progress: gr.Progress = gr.Progress()) -> tuple:
    from core.topics import views
    from core.topics.model import reduce_outliers

    report = reduce_outliers(_need_run(run), strategy, threshold=float(threshold),
                             target_pct=float(target_pct) if use_target else None,
                             progress=lambda f, d: progress(f, desc=d))
    return (views.outlier_html(report), run, *_main_views(run))


@user_errors
def check_stability(run: Any, progress: gr.Progress = gr.Progress()) -> str:
    from core.topics import views
    from core.topics.model import stability

    return views.stability_html(stability(_need_run(run), progress=lambda f, d: progress(f, desc=d)))


@user_errors
def rename_topic(run: Any, topic: float, label: str) -> tuple:
    from core.topics.model import rename

    rename(_need_run(run), int(topic), label)
    return (run, *_main_views(run))


@user_errors
def merge_topics(run: Any, ids: str) -> tuple:
    from core.topics.model import merge, parse_ids

    merge(_need_run(run), parse_ids(ids))
    return (run, *_main_views(run))


@user_errors
def label_with_llm(run: Any, backend_kind: str, base_url: str, model: str, api_key: str, max_topics: float,
                   progress: gr.Progress = gr.Progress()) -> tuple:
    from core.generation import LocalBackend, OpenAIBackend
    from core.topics.model import llm_labels

    run = _need_run(run)
    if backend_kind == "openai":
        backend: Any = OpenAIBackend(base_url=(base_url or "").strip(), model=(model or "").strip(),
                                     api_key=(api_key or "").strip())
    else:
        backend = LocalBackend("chat-qwen2.5-0.5b")  # SmolLM2-135M offline, Qwen2.5-0.5B on the Hub
    llm_labels(run, backend, max_topics=int(max_topics), progress=lambda f, d: progress(f, desc=d))
    return (run, *_main_views(run))


@user_errors
def export_all(run: Any) -> list[str]:
    import tempfile
    from pathlib import Path

    from core.topics.model import export_documents, export_model, export_topic_table

    run = _need_run(run)
    folder = Path(tempfile.mkdtemp(prefix="topics-export-"))
    return [str(export_topic_table(run, folder)), str(export_documents(run, folder)), str(export_model(run, folder))]


def toggle_upload(source: str) -> Any:
    return gr.File(visible=source == "upload")


# --------------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------------

def build() -> gr.Blocks:
    if os.environ.get("LLM_LAB_TOPICS_WARMUP", "1") != "0" and "pytest" not in sys.modules:
        from core.topics.model import warm_in_background

        warm_in_background()  # compile numba once so the first click does not pay ~8 s

    heavy = dict(concurrency_id=HEAVY, concurrency_limit=heavy_limit())
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        table_state = gr.State(None)
        run_state = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=330, elem_classes="topics-side"):
                gr.HTML('<div class="topics-step">1 · Documents</div>')
                source = gr.Radio(_source_choices(), value="news", label="Corpus", elem_id="topics-source")
                upload = gr.File(label="CSV file (header row; any delimiter or encoding)",
                                 file_types=[".csv", ".tsv", ".txt"], visible=False, elem_id="topics-upload")
                load_btn = gr.Button("Load corpus", size="sm", elem_id="topics-load")
                text_col = gr.Dropdown([], label="Text column", elem_id="topics-text-col")
                with gr.Row():
                    time_col = gr.Dropdown([NONE], value=NONE, label="Timestamp column (optional)")
                    class_col = gr.Dropdown([NONE], value=NONE, label="Class column (optional)")
                preview_out = gr.HTML()
                gr.HTML('<div class="topics-step">2 · Pipeline</div>')
                embed = gr.Dropdown(_embed_choices(), value="embed-gte-small", label="Embedding model")
                with gr.Accordion("UMAP (reduce)", open=False):
                    n_neighbors = gr.Slider(2, 100, value=15, step=1, label="n_neighbors")
                    n_components = gr.Slider(2, 10, value=5, step=1, label="n_components",
                                             info="5–10 keeps global structure (book)")
                    min_dist = gr.Slider(0.0, 0.99, value=0.0, step=0.01, label="min_dist",
                                         info="0 = tighter clusters")
                    metric = gr.Dropdown(["cosine", "euclidean", "manhattan", "correlation"], value="cosine",
                                         label="metric")
                    seed = gr.Number(42, precision=0, label="random_state (seed)")
                with gr.Accordion("HDBSCAN (cluster)", open=True):
                    min_cluster_size = gr.Slider(2, 200, value=15, step=1, label="min_cluster_size",
                                                 info="lower → more, smaller topics")
                    min_samples = gr.Slider(0, 100, value=0, step=1, label="min_samples (0 = same as min_cluster_size)")
                    selection = gr.Radio(["eom", "leaf"], value="eom", label="cluster_selection_method")
                with gr.Accordion("Keywords and representation", open=False):
                    stop_words = gr.Radio([("English stop words removed", "english"), ("keep all words", "none")],
                                          value="english", label="CountVectorizer stop words")
                    ngram_max = gr.Slider(1, 3, value=1, step=1, label="n-gram range (1, n)")
                    min_df = gr.Slider(1, 20, value=1, step=1, label="min_df (topics a word must occur in)")
                    representation = gr.Radio([("c-TF-IDF", "c-tf-idf"), ("KeyBERTInspired", "keybert"),
                                               ("MaximalMarginalRelevance", "mmr")], value="c-tf-idf",
                                              label="Representation")
                    diversity = gr.Slider(0.0, 1.0, value=0.3, step=0.05, label="MMR diversity")
                run_btn = gr.Button("Find topics", variant="primary", elem_id="topics-run")
            with gr.Column(scale=3, min_width=520):
                summary = gr.HTML(EMPTY_SUMMARY, elem_id="topics-summary")
                with gr.Tabs():
                    with gr.Tab("Document map"):
                        doc_map = gr.Plot(label="Documents (2-D UMAP) — hover for the text", elem_id="topics-map")
                    with gr.Tab("Topics"):
                        topic_table = gr.Dataframe(label="Topics (−1 = outliers)", wrap=True, max_height=560,
                                                   interactive=False, elem_id="topics-table")
                    with gr.Tab("Top words"):
                        bars = gr.Plot(label="Top words per topic")
                    with gr.Tab("Similarity"):
                        heat = gr.Plot(label="Topic similarity")
                    with gr.Tab("Hierarchy"):
                        tree = gr.Plot(label="Hierarchy")
                    with gr.Tab("Over time"):
                        over_time = gr.Plot(label="Topics over time")
                    with gr.Tab("Per class"):
                        per_class = gr.Plot(label="Topics per class")
                    with gr.Tab("Search"):
                        with gr.Row():
                            query = gr.Textbox(label="Find topics like…", placeholder="e.g. election campaign",
                                               scale=4)
                            search_btn = gr.Button("Search", scale=1)
                        found = gr.Dataframe(label="Most similar topics", interactive=False)
                    with gr.Tab("Outliers"):
                        gr.Markdown("Documents HDBSCAN could not place are topic **−1**. Reassign them to their "
                                    "nearest topic (BERTopic `reduce_outliers`), with a threshold or a target share.")
                        with gr.Row():
                            strategy = gr.Radio(["c-tf-idf", "embeddings", "distributions"], value="c-tf-idf",
                                                label="Strategy")
                            threshold = gr.Slider(0.0, 1.0, value=0.1, step=0.01, label="Threshold (similarity)")
                        with gr.Row():
                            use_target = gr.Checkbox(True, label="Aim for a target outlier share instead")
                            target_pct = gr.Slider(0, 50, value=10, step=1, label="Target outlier %")
                        outlier_btn = gr.Button("Reassign outliers")
                        outlier_out = gr.HTML()
                    with gr.Tab("Stability"):
                        gr.Markdown("Re-cluster the same embeddings with three UMAP seeds and compare the "
                                    "clusterings with the adjusted Rand index.")
                        stability_btn = gr.Button("Check stability (3 seeds)")
                        stability_out = gr.HTML()
                    with gr.Tab("Edit & label"):
                        with gr.Row():
                            rename_id = gr.Number(0, precision=0, label="Topic id")
                            rename_text = gr.Textbox(label="New label", scale=3)
                            rename_btn = gr.Button("Rename")
                        with gr.Row():
                            merge_ids = gr.Textbox(label="Merge topics (ids, e.g. 2, 5)", scale=4)
                            merge_btn = gr.Button("Merge")
                        gr.Markdown("**LLM labels** — a generation model names each topic from its keywords "
                                    "and representative documents (the book's prompt).")
                        with gr.Row():
                            backend_kind = gr.Radio([("Local model", "local"), ("OpenAI-compatible API", "openai")],
                                                    value="local", label="Backend")
                            max_label_topics = gr.Slider(1, 40, value=10, step=1, label="Topics to label")
                        with gr.Row():
                            base_url = gr.Textbox(label="Base URL", placeholder="https://api.openai.com/v1")
                            api_model = gr.Textbox(label="Model", placeholder="gpt-4o-mini")
                            api_key = gr.Textbox(label="API key (kept in this session only)", type="password")
                        label_btn = gr.Button("Label topics with the LLM")
                    with gr.Tab("Export"):
                        export_btn = gr.Button("Export topic table, document→topic CSV and the model")
                        exports = gr.File(label="Downloads", file_count="multiple", interactive=False)

        main_outputs = [summary, doc_map, topic_table, bars]
        extra_outputs = [heat, tree, over_time, per_class]
        table_outputs = [table_state, text_col, time_col, class_col, preview_out]
        source.change(toggle_upload, source, upload, queue=False, api_visibility="private")
        source.change(lambda s: gr.skip() if s == "upload" else load_source(s, None), source, table_outputs,
                      api_visibility="private")
        load_btn.click(load_source, [source, upload], table_outputs, api_name="topics_load")
        upload.upload(lambda f: load_source("upload", f), upload, table_outputs, api_visibility="private")
        for dd in (text_col, time_col, class_col):
            dd.input(preview_columns, [table_state, text_col, time_col, class_col], preview_out,
                     api_visibility="private")
        demo.load(load_source, [source, upload], table_outputs, api_visibility="private")

        run_btn.click(run_topics, [table_state, text_col, time_col, class_col, embed, n_neighbors, n_components,
                                   min_dist, metric, seed, min_cluster_size, min_samples, selection, stop_words,
                                   ngram_max, min_df, representation, diversity],
                      [run_state, *main_outputs], api_name="topics_run", **heavy
                      ).success(extra_views, run_state, extra_outputs, api_name="topics_views")
        search_btn.click(search_topics, [run_state, query], found, api_name="topics_search")
        query.submit(search_topics, [run_state, query], found, api_visibility="private")
        outlier_btn.click(outliers, [run_state, strategy, threshold, use_target, target_pct],
                          [outlier_out, run_state, *main_outputs], api_name="topics_outliers", **heavy
                          ).success(extra_views, run_state, extra_outputs, api_visibility="private")
        stability_btn.click(check_stability, run_state, stability_out, api_name="topics_stability", **heavy)
        rename_btn.click(rename_topic, [run_state, rename_id, rename_text], [run_state, *main_outputs],
                         api_name="topics_rename")
        merge_btn.click(merge_topics, [run_state, merge_ids], [run_state, *main_outputs], api_name="topics_merge"
                        ).success(extra_views, run_state, extra_outputs, api_visibility="private")
        label_btn.click(label_with_llm, [run_state, backend_kind, base_url, api_model, api_key, max_label_topics],
                        [run_state, *main_outputs], api_name="topics_label", **heavy)
        export_btn.click(export_all, run_state, exports, api_name="topics_export")
    return demo

