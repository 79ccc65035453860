"""Plotly figures for the Tokenizer Arena (plotly imported inside the functions)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.escape import plot_labels, plot_text


def language_cost_figure(result: Any) -> Any:
    """Grouped bars: tokens per language relative to English, one bar per tokenizer
    (``result`` is a :class:`core.tokenizers.compare.LanguageCost`)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for j, label in enumerate(result.tokenizers):
        fig.add_trace(go.Bar(name=plot_text(label, 40), x=result.languages, y=[row[j] for row in result.relative],
                             customdata=[row[j] for row in result.tokens],
                             hovertemplate="%{x}: %{y:.2f}× English (%{customdata} tokens)<extra>"
                             + plot_text(label, 40) + "</extra>"))
    fig.add_hline(y=1.0, line_dash="dot", line_color="#64748b", annotation_text="English = 1×")
    fig.update_layout(barmode="group", height=420, margin=dict(l=40, r=10, t=40, b=40),
                      title="Tokens for the same text, relative to English", yaxis_title="× English tokens",
                      legend=dict(orientation="h", y=-0.2), template="plotly_white")
    return fig


def counts_figure(labels: Sequence[str], counts: Sequence[Any]) -> Any:
    """Horizontal bars: tokens per tokenizer for the compared text (from the summary table's first two
    columns; rows without a count, e.g. a tokenizer that failed to load, are left out)."""
    import plotly.graph_objects as go

    pairs = sorted(((str(lab), int(n)) for lab, n in zip(labels, counts) if n is not None and n == n),
                   key=lambda p: -p[1])
    shown = plot_labels([lab for lab, _ in pairs], 28)
    values = [n for _, n in pairs]
    fig = go.Figure(go.Bar(y=shown, x=values, orientation="h", marker_color="#6366f1",
                           text=[f"{n:,}" for n in values], textposition="outside", cliponaxis=False,
                           hovertemplate="%{y}: %{x:,} tokens<extra></extra>"))
    fig.update_layout(title={"text": "Tokens for this text (fewest at the bottom)", "x": 0.01, "font": {"size": 14}},
                      height=max(220, 80 + 30 * len(pairs)), margin=dict(l=10, r=40, t=40, b=30),
                      xaxis_title="tokens", template="plotly_white", showlegend=False)
    fig.update_xaxes(range=[0, max(values, default=1) * 1.2])
    return fig
