"""Text put into plotly figures is escaped, shortened and kept distinct (core.charts)."""
from __future__ import annotations

from core.escape import plot_labels, plot_text


def test_plot_text_escapes_plotly_html_and_shortens() -> None:
    assert plot_text('<b>bold</b> & <a href="javascript:x()">x</a>') == \
        '&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href="javascript:x()"&gt;x&lt;/a&gt;'
    long = "W" * 3000
    shown = plot_text(long, 40)
    assert len(shown) == 40 and shown.endswith("…")
    assert plot_text("  two\n  lines ") == "two lines"


def test_plot_labels_stay_distinct_after_shortening() -> None:
    labels = ["a" * 50 + "x", "a" * 50 + "y", "cat", "cat "]
    shown = plot_labels(labels, 20)
    assert len(set(shown)) == len(shown) == 4
    assert all(len(s) <= 20 for s in shown)
    assert shown[2] == "cat"


def test_label_chart_carries_escaped_short_labels() -> None:
    from types import SimpleNamespace

    from core.vision.charts import label_bars

    hostile = '<img src=x onerror="alert(1)">'
    labels = ["cat", hostile, "W" * 3000]
    result = SimpleNamespace(labels=labels, images=["<b>photo</b>"], probs=[[0.7, 0.2, 0.1]], method="clip",
                             template="a photo of a {}", ranking=lambda i: sorted(
                                 zip(labels, [0.7, 0.2, 0.1]), key=lambda p: -p[1]))
    fig = label_bars(result)
    bar = fig.data[0]
    assert "&lt;img src=x" in " ".join(bar.y) and all("<img" not in y for y in bar.y)
    assert max(len(y) for y in bar.y) <= 40
    assert bar.name == "&lt;b&gt;photo&lt;/b&gt;"
