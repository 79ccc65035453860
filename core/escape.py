"""Every escaper the lab uses, in one place: HTML, Markdown and plotly text.

User and model text is data. :func:`esc` makes it safe inside HTML, :func:`esc_md` inside
components that render Markdown (gr.Markdown, gr.Chatbot), :func:`plot_text` inside plotly figures.

Plotly renders a small subset of HTML in any text (``<b>``, ``<a href>``, ``<br>``…), so user text is
escaped before it goes in; and a 3,000-character label would squeeze the plot area to nothing, so
labels are shortened for display (the full text stays in tables and hover where the app puts it).
"""
from __future__ import annotations

import html
from typing import Any, Iterable


def esc(text: Any) -> str:
    """HTML-escape any user-provided value (always use this before putting text into HTML)."""
    return html.escape(str(text), quote=True)


def esc_md(text: Any) -> str:
    """Escape user/model text for a component that renders Markdown (gr.Markdown, gr.Chatbot): HTML is
    escaped like :func:`esc` and ``[``/``]`` become entities, so no link or image can be formed
    (``[x](javascript:…)``, a tracking ``![x](http://…)``); emphasis, lists and code still render."""
    return esc(text).replace("[", "&#91;").replace("]", "&#93;")


def plot_text(text: Any, max_chars: int | None = None) -> str:
    """``text`` made safe for plotly: whitespace collapsed, shortened with "…", HTML escaped."""
    clean = " ".join(str(text).split())
    if max_chars and len(clean) > max_chars:
        clean = clean[: max_chars - 1] + "…"
    return html.escape(clean, quote=False)


def plot_labels(labels: Iterable[Any], max_chars: int = 40) -> list[str]:
    """:func:`plot_text` for a list of category names, kept distinct (plotly merges equal categories)."""
    out: list[str] = []
    seen: set[str] = set()
    for label in labels:
        shown, n = plot_text(label, max_chars), 1
        while shown in seen:
            n += 1
            shown = f"{plot_text(label, max_chars - len(str(n)) - 3)} ({n})"
        seen.add(shown)
        out.append(shown)
    return out
