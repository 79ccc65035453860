"""The Sampling sweep tab: one prompt over a temperature × top_p grid (§6.1.3)."""
from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common.jobs import job_on
from apps.prompts import MANIFEST
from apps.prompts.controls import Controls, run_stop
from apps.prompts.views import panel_link, sweep_html
from core.generation import make_backend, sampling
from core.jobs import report, stop_event
from core.prompts.messages import build_messages
from core.prompts.sweep import parse_values, sweep

SLUG = "prompts"


def run_sweep(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
              prompt: str, temps: str, top_ps: str, n: float, max_new_tokens: float, top_k: float,
              repetition_penalty: float, seed: Any) -> Iterator[tuple[str, Any]]:
    """Stream the grid as it fills; sample j of every cell uses seed + j. The last value also gives
    the grid as data (for the take-home download and notebook)."""
    backend = make_backend(kind, model_name, base_url, remote_model, api_key)
    msgs = build_messages(system, [], prompt, False)
    t_values = parse_values(temps, "temperature", 0.0, 5.0)
    p_values = parse_values(top_ps, "top_p", 0.0, 1.0)
    params = sampling(1.0, 1.0, top_k, max_new_tokens, repetition_penalty, 0 if seed in (None, "") else seed, False)
    state = None
    for state in sweep(backend, msgs, t_values, p_values, int(n), params, stop=stop_event()):
        total = len(state.cells) * state.n
        report(state.done / total, f"sample {min(state.done + 1, total)} of {total}")
        yield sweep_html(state), gr.skip()
    if state is not None:
        yield sweep_html(state), {"prompt": prompt, "temperatures": t_values, "top_ps": p_values, "n": int(n),
                                  "max_new_tokens": int(max_new_tokens), "seed": params.seed,
                                  "cells": [{"temperature": c.temperature, "top_p": c.top_p, "samples": c.samples,
                                             "distinct": c.distinct} for c in state.cells]}


def build(c: Controls) -> dict[str, Any]:
    """Lay out the tab and wire its event; returns the components the take-home row reads."""
    gr.HTML(panel_link(MANIFEST.chapters[1], "§6.1.3 temperature and top_p, side by side"))
    gr.Markdown("One prompt over a grid of **temperature × top_p**, N samples per cell (sample *j* "
                "of every cell uses seed + *j*, so cells differ only by the two knobs).")
    with gr.Row():
        prompt = gr.Textbox("Create a funny joke about chickens.", label="Prompt", scale=3)
        temps = gr.Textbox("0.3, 1.0, 1.6", label="temperatures", scale=1)
        top_ps = gr.Textbox("0.5, 1.0", label="top_p values", scale=1)
        n = gr.Slider(1, 5, 2, step=1, label="samples per cell", scale=1)
        max_new = gr.Slider(4, 128, 24, step=1, label="max_new_tokens", scale=1)
    run, stop, status = run_stop("Run sweep")
    out = gr.HTML("")
    last = gr.State(None)
    job_on([run.click, prompt.submit], run_sweep,
           c.backend + [c.system, prompt, temps, top_ps, n, max_new, c.top_k, c.rep, c.seed], [out, last],
           slug=SLUG, kind="sweep", status=status, stop=stop, api_name="prompts_sweep", expect_s=30)
    return {"prompt": prompt, "temps": temps, "top_ps": top_ps, "n": n, "max_new": max_new, "last": last}
