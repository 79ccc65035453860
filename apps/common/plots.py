"""Plotly figures that follow the lab's light/dark theme.

Two halves, used together:

* :func:`themed` (server side, every app calls it on a figure before returning it): transparent
  paper and plot area, so the figure sits on the page's own background in both themes, and
  grid lines of a neutral grey at low opacity that read on white and on near-black.
* :data:`PLOT_CSS` (browser side, part of the lab's base CSS): under Gradio's ``.dark`` class,
  the figure's *own* text (titles, axis ticks and titles, legends, colour bars, annotations) is
  drawn light. Text drawn on a bar or a heatmap cell keeps the colour Plotly chose for that cell.
  The browser decides which theme applies, so a figure made once serves both.
"""
from __future__ import annotations

from typing import Any

LIGHT_TEXT = "#1f2937"  # slate-800: 14.7:1 on white
DARK_TEXT = "#e5e7eb"  # gray-200: 13.9:1 on Gradio's dark block background (#1f2937 / #0b0f19)
GRID = "rgba(128, 128, 128, 0.28)"
TRANSPARENT = "rgba(0,0,0,0)"


def themed(fig: Any) -> Any:
    """Make ``fig`` theme-neutral (transparent background, light-mode text colour that the lab's CSS
    turns light in dark mode, soft grid). Returns the same figure; ``None`` passes through."""
    if fig is None:
        return None
    fig.update_layout(paper_bgcolor=TRANSPARENT, plot_bgcolor=TRANSPARENT, font_color=LIGHT_TEXT,
                      legend_bgcolor=TRANSPARENT, hoverlabel={"font_color": LIGHT_TEXT, "bgcolor": "#ffffff"})
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, linecolor=GRID)
    return fig


#: Plotly draws text as SVG with inline ``fill`` styles; ``!important`` wins over inline styles. One
#: selector per rule: Gradio's CSS scoper mangles the 2nd+ selectors of a group that starts with .dark.
_OWN_TEXT = (".gtitle", ".xtitle", ".ytitle", ".xtick text", ".ytick text", ".legendtext", ".legendtitletext",
             ".cbaxis text", ".cbtitle text", ".annotation-text", ".bartext-outside")

PLOT_CSS = "\n".join(
    [".js-plotly-plot .main-svg { background: transparent !important; }",
     ".dark .js-plotly-plot .main-svg .legend .bg { fill: transparent !important; }",
     ".dark .js-plotly-plot .modebar-btn path { fill: #9ca3af !important; }"]
    + [f".dark .js-plotly-plot .main-svg {sel} {{ fill: {DARK_TEXT} !important; }}" for sel in _OWN_TEXT]) + "\n"
