"""Figures for the Topic Explorer (plotly; BERTopic's own visualize_* where it has one).

Plain figures: the app themes them for light/dark (apps.common.plots.themed)."""
from __future__ import annotations

import html
import textwrap
from typing import Any

from core.errors import LabError
from core.escape import esc
from core.topics.runs import TopicRun

PALETTE = ["#4f46e5", "#0d9488", "#db2777", "#ea580c", "#16a34a", "#9333ea", "#0284c7", "#ca8a04",
           "#dc2626", "#2563eb", "#059669", "#c026d3", "#65a30d", "#7c3aed", "#0891b2", "#e11d48",
           "#d97706", "#4338ca", "#15803d", "#be185d"]
OUTLIER_GREY = "#9ca3af"
MAX_LEGEND_TOPICS = 20


def _fit_width(fig: Any, legend_below: bool = True) -> Any:
    """Let the figure take its container's width; a legend below the plot is never cut off."""
    fig.update_layout(width=None, autosize=True)
    if legend_below:
        fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, xanchor="left", x=0,
                                      font=dict(size=11)), margin=dict(b=40))
    return fig



def message_figure(message: str) -> Any:
    """An empty figure that says why there is nothing to show."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text="<br>".join(textwrap.wrap(message, 70)), showarrow=False, x=0.5, y=0.5,
                       xref="paper", yref="paper", font=dict(size=15, color="#64748b"))
    fig.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False), height=260,
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig


def _hover(text: str, width: int = 60) -> str:
    return "<br>".join(textwrap.wrap(html.escape(text), width)[:4])


def document_map(run: TopicRun) -> Any:
    """2-D UMAP of the documents: one trace per topic (legend: double-click to isolate), outliers grey."""
    import numpy as np
    import plotly.graph_objects as go

    topics = np.asarray(run.topics)
    xy = np.asarray(run.coords)
    hover = [_hover(h) for h in run.corpus.hover]
    fig = go.Figure()
    trace = go.Scattergl if len(topics) > 6000 else go.Scatter  # SVG is crisper; WebGL for big corpora
    out = np.flatnonzero(topics == -1)
    if len(out):
        fig.add_trace(trace(x=xy[out, 0], y=xy[out, 1], mode="markers", name=f"Outliers ({len(out):,})",
                                   marker=dict(size=4, color=OUTLIER_GREY, opacity=0.5),
                                   text=[hover[i] for i in out], hovertemplate="%{text}<extra>outlier</extra>"))
    sizes = run.model.get_topic_freq()
    ordered = [int(t) for t in sizes.sort_values("Count", ascending=False)["Topic"] if int(t) != -1]
    for rank, t in enumerate(ordered):
        idx = np.flatnonzero(topics == t)
        color = PALETTE[rank % len(PALETTE)]
        label = run.label(t)
        short = label if len(label) <= 38 else label[:37] + "…"
        fig.add_trace(trace(
            x=xy[idx, 0], y=xy[idx, 1], mode="markers", name=f"{t}: {esc(short)}",
            marker=dict(size=6, color=color, opacity=0.78, line=dict(width=0)),
            text=[hover[i] for i in idx], visible=True if rank < MAX_LEGEND_TOPICS else "legendonly",
            hovertemplate=f"<b>{esc(t)}: {esc(short)}</b><br>%{{text}}<extra></extra>"))
    # topic names at their medians, for the biggest topics
    for rank, t in enumerate(ordered[:12]):
        idx = np.flatnonzero(topics == t)
        cx, cy = np.median(xy[idx, 0]), np.median(xy[idx, 1])
        fig.add_annotation(x=cx, y=cy, text=f"<b>{esc(t)} {esc(' '.join(run.words(t, 2)))}</b>", showarrow=False,
                           font=dict(size=12, color=PALETTE[rank % len(PALETTE)]),  # the topic's colour:
                           bgcolor="rgba(128,128,128,0.16)", borderpad=2)  # readable on light and dark
    fig.update_layout(
        height=620, hovermode="closest",
        margin=dict(l=10, r=10, t=40, b=10),
        title=dict(text=f"{len(topics):,} documents · {run.n_topics} topics · "
                        f"{100 * run.outlier_share:.1f} % outliers (grey)", font=dict(size=15)),
        xaxis=dict(visible=False), yaxis=dict(visible=False),
        legend=dict(title="Topic (double-click to isolate)", itemsizing="constant", font=dict(size=11)))
    return fig


def barchart(run: TopicRun, top_n_topics: int = 8, n_words: int = 8) -> Any:
    fig = run.model.visualize_barchart(top_n_topics=top_n_topics, n_words=n_words,
                                       custom_labels=run.model.custom_labels_ is not None,
                                       title="Top words per topic (c-TF-IDF score)", width=280, height=260)
    fig.update_layout(margin=dict(t=80))
    return _fit_width(fig, legend_below=False)


def heatmap(run: TopicRun, top_n_topics: int = 30) -> Any:
    if run.n_topics < 2:
        return message_figure("The similarity heatmap needs at least two topics.")
    fig = run.model.visualize_heatmap(top_n_topics=top_n_topics, custom_labels=run.model.custom_labels_ is not None,
                                      title="Topic similarity (cosine of topic embeddings)", width=760, height=760)
    return _fit_width(fig, legend_below=False)


def hierarchy(run: TopicRun) -> Any:
    if run.n_topics < 3:
        return message_figure("The hierarchy needs at least three topics.")
    tree = run.model.hierarchical_topics(run.corpus.docs)
    fig = run.model.visualize_hierarchy(hierarchical_topics=tree, custom_labels=run.model.custom_labels_ is not None,
                                        title="Topic hierarchy (merges of c-TF-IDF vectors)", width=980,
                                        height=max(360, 28 * run.n_topics))
    return _fit_width(fig, legend_below=False)


def over_time(run: TopicRun, nr_bins: int = 20, top_n_topics: int = 10) -> Any:
    import pandas as pd

    stamps = run.corpus.timestamps
    if stamps is None:
        return message_figure("Choose a timestamp column to see topics over time.")
    keep = [i for i, s in enumerate(stamps) if not pd.isna(s)]
    if len({stamps[i] for i in keep}) < 2:
        return message_figure("All documents have the same timestamp, so there is no change over time to show.")
    docs = [run.corpus.docs[i] for i in keep]
    topics = [run.topics[i] for i in keep]
    times = [stamps[i] for i in keep]
    n_unique = len(set(times))
    tot = run.model.topics_over_time(docs, times, topics=topics, nr_bins=min(nr_bins, n_unique))
    fig = run.model.visualize_topics_over_time(tot, top_n_topics=top_n_topics,
                                               custom_labels=run.model.custom_labels_ is not None,
                                               title="Topics over time", width=1000, height=520)
    return _fit_width(fig)


def per_class(run: TopicRun, top_n_topics: int | None = None) -> Any:
    """Topic sizes per class, every topic shown (the 20 biggest for larger models)."""
    if run.corpus.classes is None:
        return message_figure("Choose a class column to see topics per class.")
    tpc = run.model.topics_per_class(run.corpus.docs, classes=run.corpus.classes)
    if top_n_topics is None:
        top_n_topics = run.n_topics + 1 if run.n_topics <= 20 else 20
    fig = run.model.visualize_topics_per_class(tpc, top_n_topics=top_n_topics,
                                               custom_labels=run.model.custom_labels_ is not None,
                                               title="Topics per class", width=1000, height=680)
    fig.update_traces(visible=True)  # BERTopic shows only the first topic until the legend is clicked
    fig.update_layout(barmode="stack")
    return _fit_width(fig)


def safe(fn: Any, run: TopicRun | None, *args: Any) -> Any:
    """A view, or a message figure if the view cannot be drawn for this model."""
    if run is None:
        return message_figure("Run the topic model first.")
    try:
        return fn(run, *args)
    except LabError as exc:
        return message_figure(str(exc))
    except (ValueError, IndexError, KeyError, ZeroDivisionError) as exc:
        return message_figure(f"This view cannot be drawn for the current topics ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:100] if str(exc) else ''}).")
