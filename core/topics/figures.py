"""Figures and HTML for the Topic Explorer (plotly; BERTopic's own visualize_* where it has one)."""
from __future__ import annotations

import html
import textwrap
from typing import Any

from core.errors import LabError
from core.topics.data import Corpus, Preview
from core.topics.model import OutlierReport, StabilityReport, TopicRun
from core.escape import esc

PALETTE = ["#4f46e5", "#0d9488", "#db2777", "#ea580c", "#16a34a", "#9333ea", "#0284c7", "#ca8a04",
           "#dc2626", "#2563eb", "#059669", "#c026d3", "#65a30d", "#7c3aed", "#0891b2", "#e11d48",
           "#d97706", "#4338ca", "#15803d", "#be185d"]
OUTLIER_GREY = "#c4c9d4"
MAX_LEGEND_TOPICS = 20



def message_figure(message: str) -> Any:
    """An empty figure that says why there is nothing to show."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_annotation(text="<br>".join(textwrap.wrap(message, 70)), showarrow=False, x=0.5, y=0.5,
                       xref="paper", yref="paper", font=dict(size=15, color="#64748b"))
    fig.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False), height=260,
                      plot_bgcolor="white", paper_bgcolor="white", margin=dict(l=10, r=10, t=10, b=10))
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
        fig.add_annotation(x=cx, y=cy, text=f"<b>{esc(t)}</b> {esc(' '.join(run.words(t, 2)))}", showarrow=False,
                           font=dict(size=11, color="#111827"), bgcolor="rgba(255,255,255,0.75)", borderpad=2)
    fig.update_layout(
        height=620, plot_bgcolor="white", paper_bgcolor="white", hovermode="closest",
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
    return fig


def heatmap(run: TopicRun, top_n_topics: int = 30) -> Any:
    if run.n_topics < 2:
        return message_figure("The similarity heatmap needs at least two topics.")
    fig = run.model.visualize_heatmap(top_n_topics=top_n_topics, custom_labels=run.model.custom_labels_ is not None,
                                      title="Topic similarity (cosine of topic embeddings)", width=760, height=760)
    return fig


def hierarchy(run: TopicRun) -> Any:
    if run.n_topics < 3:
        return message_figure("The hierarchy needs at least three topics.")
    tree = run.model.hierarchical_topics(run.corpus.docs)
    return run.model.visualize_hierarchy(hierarchical_topics=tree, custom_labels=run.model.custom_labels_ is not None,
                                         title="Topic hierarchy (merges of c-TF-IDF vectors)", width=980,
                                         height=max(360, 28 * run.n_topics))


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
    return run.model.visualize_topics_over_time(tot, top_n_topics=top_n_topics,
                                                custom_labels=run.model.custom_labels_ is not None,
                                                title="Topics over time", width=1000, height=450)


def per_class(run: TopicRun, top_n_topics: int = 10) -> Any:
    if run.corpus.classes is None:
        return message_figure("Choose a class column to see topics per class.")
    tpc = run.model.topics_per_class(run.corpus.docs, classes=run.corpus.classes)
    return run.model.visualize_topics_per_class(tpc, top_n_topics=top_n_topics,
                                                custom_labels=run.model.custom_labels_ is not None,
                                                title="Topics per class", width=1000, height=620)


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


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

def preview_html(p: Preview, corpus_name: str, notes: list[str] | None = None) -> str:
    warn = ""
    if p.numeric_share > 0.9:
        warn = '<div class="lab-warn">This column holds numbers, not text: pick another text column.</div>'
    cells = [("rows", f"{p.rows:,}"), ("usable documents", f"{p.usable:,}"), ("empty", f"{p.empty:,}"),
             ("duplicates", f"{p.duplicates:,}"), ("median length", f"{p.chars_median:,} chars"),
             ("longest", f"{p.chars_max:,} chars")]
    stats = "".join(f'<div class="topics-stat"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for k, v in cells)
    samples = "".join(f"<li>{esc(s)}</li>" for s in p.samples)
    note_html = "".join(f'<div class="lab-note">• {esc(n)}</div>' for n in (notes or []))
    return (f'<div class="topics-preview"><div class="topics-src">{esc(corpus_name)}</div>'
            f'<div class="topics-stats">{stats}</div>{warn}{note_html}'
            f'<details><summary>First documents</summary><ul>{samples}</ul></details></div>')


def summary_html(run: TopicRun) -> str:
    share = 100 * run.outlier_share
    level = "high" if share >= 35 else ("mid" if share >= 15 else "low")
    tip = ""
    if share >= 35:
        tip = ('<div class="topics-tip">A large outlier share: lower <i>min_cluster_size</i>, or reassign '
               "outliers in the <b>Outliers</b> tab.</div>")
    src = {"computed": "embedded now", "memory": "cached embeddings (memory)", "disk": "cached embeddings (disk)"}
    t = run.timings
    timing = (f"embedding {t.get('embed_s', 0):.1f} s ({src.get(run.embedding_source, run.embedding_source)}) · "
              f"UMAP + HDBSCAN + c-TF-IDF {t.get('cluster_s', 0):.1f} s · map {t.get('map_s', 0):.1f} s")
    notes = "".join(f'<div class="lab-note">• {esc(n)}</div>' for n in run.notes + run.outlier_history)
    return (f'<div class="topics-summary">'
            f'<div class="topics-kpi"><b>{run.n_topics}</b><span>topics</span></div>'
            f'<div class="topics-kpi"><b>{len(run.topics):,}</b><span>documents</span></div>'
            f'<div class="topics-kpi topics-outliers {level}"><b>{share:.1f} %</b>'
            f'<span>outliers ({run.outliers:,} docs, topic −1)</span></div>'
            f'<div class="topics-timing">{esc(timing)}</div></div>{tip}{notes}')


def outlier_html(report: OutlierReport) -> str:
    target = f" (target {report.target_pct:g} %)" if report.target_pct is not None else ""
    return (f'<div class="topics-summary"><div class="topics-kpi"><b>{report.before_pct:.1f} % → '
            f'{report.after_pct:.1f} %</b><span>outliers{esc(target)}</span></div>'
            f'<div class="topics-timing">strategy {esc(report.strategy)}, threshold {report.threshold:.3f}; '
            f'{report.before - report.after:,} documents reassigned; topic words updated.</div></div>')


def stability_html(report: StabilityReport) -> str:
    mean = report.mean_ari
    verdict = ("very stable" if mean >= 0.9 else "fairly stable" if mean >= 0.7 else
               "somewhat unstable" if mean >= 0.4 else "unstable")
    rows = "".join(f"<tr><td>{s}</td><td>{n}</td><td>{o:.1f} %</td></tr>"
                   for s, n, o in zip(report.seeds, report.n_topics, report.outlier_pct))
    pairs = "".join(f"<tr><td>{a} vs {b}</td><td>{ari:.3f}</td></tr>" for a, b, ari in report.pairs)
    return (f'<div class="topics-summary"><div class="topics-kpi"><b>{mean:.2f}</b>'
            f'<span>mean adjusted Rand index ({esc(verdict)})</span></div></div>'
            f'<div class="topics-tables"><table class="topics-table"><tr><th>UMAP seed</th><th>topics</th>'
            f'<th>outliers</th></tr>{rows}</table>'
            f'<table class="topics-table"><tr><th>pair</th><th>ARI</th></tr>{pairs}</table></div>'
            '<div class="lab-note">1.0 = identical clusterings, 0 = no more agreement than chance. '
            'UMAP is stochastic: only a fixed seed makes a run reproducible.</div>')


def corpus_line(corpus: Corpus) -> str:
    return f"{corpus.name}: {len(corpus):,} documents"
