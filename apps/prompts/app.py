"""🧪 Prompt Lab (book ch. 3, 6, 7): see the prompt the model really gets, steer sampling, try the
book's prompting techniques and grammar-constrained output.

Layout and wiring only: each tab is its own module (``generate_tab``, ``sweep_tab``,
``techniques_tab``, ``constrained_tab``), the shared controls are in ``controls``, the HTML in
``views``, the logic in :mod:`core.prompts` and :mod:`core.generation`. Every event is named
``prompts_<action>``; model work runs through the lab's job runner (one status line, a Stop button).
"""
from __future__ import annotations

import gradio as gr

from apps.common import app_title
from apps.prompts import MANIFEST, constrained_tab, controls, generate_tab, sweep_tab, takehome_row, techniques_tab

SLUG = "prompts"
CSS = MANIFEST.css


def build() -> gr.Blocks:
    """The Prompt Lab page: tabs first (the Generate tab's prompt box at the top), then the shared
    backend and sampling panels that every tab reads."""
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        tabs = gr.Tabs()
        with tabs:
            tab_generate = gr.Tab("Generate", id="prompts-generate")
            tab_sweep = gr.Tab("Sweep", id="prompts-sweep")
            tab_tech = gr.Tab("Techniques", id="prompts-techniques")
            tab_cons = gr.Tab("Constrained", id="prompts-constrained")
        with gr.Group():
            backend = controls.backend_panel()
            c = controls.sampling_panel(backend)
        controls.wire(c)
        with tabs:
            with tab_generate:
                gen = generate_tab.build(c)
            with tab_sweep:
                sw = sweep_tab.build(c)
            with tab_tech:
                techniques_tab.build(c)
            with tab_cons:
                constrained_tab.build(c)
        takehome_row.build(demo, c, gen, sw)
    return demo
