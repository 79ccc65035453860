"""Plotly figures for the Multimodal Captioner (plotly imported inside functions)."""
from __future__ import annotations

from typing import Any, Sequence

from core.escape import plot_labels, plot_text

PALETTE = ["#4f46e5", "#0d9488", "#d97706", "#db2777", "#2563eb", "#65a30d", "#7c3aed", "#dc2626"]


def _layout(fig: Any, title: str, height: int) -> Any:
    fig.update_layout(title={"text": title, "x": 0.01, "font": {"size": 15}}, height=height,
                      margin={"l": 10, "r": 20, "t": 48, "b": 10}, template="plotly_white",
                      legend={"orientation": "h", "y": -0.12}, font={"family": "Inter, system-ui, sans-serif"})
    return fig


def label_bars(result: Any) -> Any:
    """Horizontal bars: probability per label, one colour per image (labels sorted by image 1)."""
    import plotly.graph_objects as go

    order = [label for label, _ in result.ranking(0)][::-1]  # best at the top
    index = {label: j for j, label in enumerate(result.labels)}
    shown = plot_labels(order)
    fig = go.Figure()
    for i, name in enumerate(result.images):
        vals = [result.probs[i][index[label]] for label in order]
        fig.add_trace(go.Bar(y=shown, x=vals, orientation="h", name=plot_text(name, 40),
                             marker_color=PALETTE[i % len(PALETTE)],
                             text=[f"{v:.0%}" for v in vals], textposition="outside", cliponaxis=False,
                             hovertemplate="%{y}: %{x:.3f}<extra>" + plot_text(name, 40) + "</extra>"))
    fig.update_xaxes(range=[0, 1.12], tickformat=".0%", title_text="softmax over your labels")
    method = "CLIP zero-shot" if result.method == "clip" else "Offline proxy (EfficientNet-Lite0 + MiniLM, not CLIP)"
    tmpl = plot_text(result.template, 44)
    n = len(result.labels) * max(1, len(result.images))
    return _layout(fig, f"{method} · template “{tmpl}”", min(720, 150 + 26 * n))


def template_bars(results: Sequence[Any], image: int = 0) -> Any:
    """Grouped bars: one group per label, one bar per template (for one image)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    labels = plot_labels(results[0].labels, 32)
    for t, res in enumerate(results):
        fig.add_trace(go.Bar(x=labels, y=res.probs[image], name=plot_text(res.template, 48),
                             marker_color=PALETTE[t % len(PALETTE)],
                             hovertemplate="%{x}: %{y:.3f}<extra></extra>"))
    fig.update_yaxes(range=[0, 1], tickformat=".0%", title_text="probability")
    fig.update_layout(barmode="group")
    return _layout(fig, f"Same labels, different templates · image “{plot_text(results[0].images[image], 40)}”", 380)


def similarity_heatmap(result: Any) -> Any:
    """The book's Fig 9-14 made live: rows = captions, columns = images, cosine values."""
    import plotly.graph_objects as go

    z = [[result.cosine[i][j] for i in range(len(result.images))] for j in range(len(result.captions))]
    wrap = plot_labels(result.captions, 48)
    fig = go.Figure(go.Heatmap(z=z, x=plot_labels(result.images, 32), y=wrap, colorscale="Blues", zmin=min(0.0, min(map(min, z))),
                               text=[[f"{v:.2f}" for v in row] for row in z], texttemplate="%{text}",
                               hovertemplate="caption: %{y}<br>image: %{x}<br>cosine: %{z:.3f}<extra></extra>",
                               colorbar={"title": {"text": "cosine"}}))
    fig.update_yaxes(autorange="reversed")
    method = "CLIP cosine similarity" if result.method == "clip" else "Offline proxy similarity (not CLIP)"
    return _layout(fig, f"{method}: captions × images", max(300, 120 + 60 * len(result.captions)))
