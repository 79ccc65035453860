"""Topic Explorer event handlers (thin: :mod:`core.topics` does the work, :mod:`.views` draws HTML).

Long ones (fit, outliers, stability, LLM labels) run through ``apps.common.jobs.job_on``: the core
reports progress and stops between stages and batches.
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import user_errors
from core.errors import LabError
from core.tempfiles import download_dir
from core.topics.runs import keep, resolve

NONE = "(none)"
#: seconds a first run adds to the embedding (model load, UMAP, HDBSCAN, c-TF-IDF, the map)
BASE_S = 8.0


def col(value: Any) -> str | None:
    """A dropdown value, None for the '(none)' choice."""
    return None if value in (None, "", NONE) else str(value)


def estimate_s(n_docs: int, median_chars: int) -> float:
    """A first run's duration in seconds (documents not embedded yet), at the measured embedding rate."""
    from core.topics.embed import estimate_embed_s

    return BASE_S + estimate_embed_s(n_docs, median_chars)


def _table_outputs(table: Any) -> tuple:
    from apps.topics.views import preview_html
    from core.topics.data import preview

    cols = table.columns
    optional = [NONE] + cols
    p = preview(table, table.text_column)
    html = preview_html(p, table.name, table.notes, estimate_s(p.usable, p.chars_median))
    return (table,
            gr.Dropdown(choices=cols, value=table.text_column),
            gr.Dropdown(choices=optional, value=table.time_column or NONE),
            gr.Dropdown(choices=optional, value=table.class_column or NONE),
            html)


def upload_prompt() -> tuple:
    """'Upload a CSV file' chosen: forget the previous table, so Find topics cannot run on it."""
    from apps.topics.views import UPLOAD_PROMPT

    return (None, gr.skip(), gr.skip(), gr.skip(), UPLOAD_PROMPT)  # columns follow once a file is loaded


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
    from apps.topics.views import preview_html
    from core.topics.data import prepare, preview

    if table is None:
        raise LabError("Load a corpus first.")
    corpus = prepare(table, col(text_col), col(time_col), col(class_col))  # validates the columns
    p = preview(table, col(text_col))
    return preview_html(p, table.name, corpus.notes, estimate_s(p.usable, p.chars_median))


def make_config(embed: str, n_neighbors: float, n_components: float, min_dist: float, metric: str, seed: float,
                min_cluster_size: float, min_samples: float, selection: str, stop_words: str, ngram_max: float,
                min_df: float, representation: str, diversity: float) -> Any:
    """A validated :class:`~core.topics.config.TopicConfig` from the controls."""
    from core.topics.config import TopicConfig

    return TopicConfig(embedding_model=embed or "embed-gte-small", n_neighbors=int(n_neighbors),
                       n_components=int(n_components), min_dist=float(min_dist), umap_metric=metric,
                       seed=int(seed), min_cluster_size=int(min_cluster_size), min_samples=int(min_samples or 0),
                       cluster_selection=selection, stop_words=stop_words, ngram_max=int(ngram_max),
                       min_df=int(min_df), representation=representation, diversity=float(diversity)).validate()


def main_views(run: Any) -> tuple:
    """Summary, document map, topic table, top-words chart."""
    from apps.common import themed
    from apps.topics.views import summary_html
    from core.topics import figures

    return (summary_html(run), themed(figures.safe(figures.document_map, run)), run.topic_table(),
            themed(figures.safe(figures.barchart, run)))


NO_DOCUMENTS = "Upload a CSV file first (or pick a built-in corpus): there are no documents to find topics in."


def check_run(table: Any) -> Any:
    """Run outside the queue on the same click: says at once, in the status line, that there is
    nothing to run on (the queued job refuses too, for API callers)."""
    from apps.common import error_html

    return error_html(NO_DOCUMENTS) if table is None else gr.skip()


@user_errors
def run_topics(table: Any, text_col: str, time_col: str, class_col: str, embed: str, n_neighbors: float,
               n_components: float, min_dist: float, metric: str, seed: float, min_cluster_size: float,
               min_samples: float, selection: str, stop_words: str, ngram_max: float, min_df: float,
               representation: str, diversity: float) -> tuple:
    """Embed (cached), fit BERTopic, return the run, summary, map, topic table and top-words chart."""
    from core.topics.data import prepare
    from core.topics.pipeline import fit_topics

    if table is None:
        raise LabError(NO_DOCUMENTS)
    config = make_config(embed, n_neighbors, n_components, min_dist, metric, seed, min_cluster_size, min_samples,
                         selection, stop_words, ngram_max, min_df, representation, diversity)
    corpus = prepare(table, col(text_col), col(time_col), col(class_col), hover_column=table.hover_column)
    run = fit_topics(corpus, config)
    return (keep(run), *main_views(run))


@user_errors
def extra_views(run: Any) -> tuple:
    """The slower views: similarity heatmap, hierarchy, topics over time, topics per class."""
    from apps.common import themed
    from core.topics import figures

    run = resolve(run)
    return tuple(themed(figures.safe(view, run)) for view in
                 (figures.heatmap, figures.hierarchy, figures.over_time, figures.per_class))


def _need_run(ref: Any) -> Any:
    run = resolve(ref)
    if run is None:
        raise LabError("Run the topic model first (press Find topics).")
    return run


@user_errors
def search_topics(run: Any, query: str) -> Any:
    from core.topics.edit import find

    return find(_need_run(run), query)


@user_errors
def outliers(run: Any, strategy: str, threshold: float, use_target: bool, target_pct: float) -> tuple:
    from apps.topics.views import outlier_html
    from core.topics.config import report
    from core.topics.outliers import reduce_outliers

    topics = _need_run(run)
    result = reduce_outliers(topics, strategy, threshold=float(threshold),
                             target_pct=float(target_pct) if use_target else None, progress=report)
    return (outlier_html(result), run, *main_views(topics))


@user_errors
def check_stability(run: Any) -> str:
    from apps.topics.views import stability_html
    from core.topics.config import report
    from core.topics.stability import stability

    return stability_html(stability(_need_run(run), progress=report))


@user_errors
def rename_topic(run: Any, topic: float, label: str) -> tuple:
    from core.topics.edit import rename

    topics = _need_run(run)
    rename(topics, int(topic), label)
    return (run, *main_views(topics))


@user_errors
def merge_topics(run: Any, ids: str) -> tuple:
    from core.topics.edit import merge, parse_ids

    topics = _need_run(run)
    merge(topics, parse_ids(ids))
    return (run, *main_views(topics))


@user_errors
def label_with_llm(run: Any, backend_kind: str, base_url: str, model: str, api_key: str,
                   max_topics: float, local_model: str = "chat-qwen2.5-0.5b") -> tuple:
    """Name the topics with the picker's backend (the lab's one factory: a local model, or the lab's
    OpenAI-compatible server by default when one is configured). ``local_model`` comes last so the
    API's earlier order stays."""
    from apps.common.backend import make
    from core.topics.config import report
    from core.topics.labels import llm_labels

    topics = _need_run(run)
    backend = make(backend_kind, local_model or "chat-qwen2.5-0.5b", base_url, model, api_key)
    llm_labels(topics, backend, max_topics=int(max_topics), progress=report)
    return (run, *main_views(topics))


@user_errors
def export_all(run: Any) -> list[str]:

    from core.topics.export import export_documents, export_model, export_topic_table

    run = _need_run(run)
    folder = download_dir("topics-export-")
    return [str(export_topic_table(run, folder)), str(export_documents(run, folder)), str(export_model(run, folder))]
