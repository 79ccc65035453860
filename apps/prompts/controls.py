"""The controls every Prompt Lab tab shares: the backend (local model or a server) and the sampling
panel, with the rules that enable them (greedy turns the sampling knobs off; a server that cannot
take a setting has it disabled, with the reason shown)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from apps.common.backend import backend_picker
from apps.prompts import MANIFEST
from apps.prompts.views import panel_link
from core.escape import esc
from core.generation import REMOTE
from core.generation.openai_engine import sampling_support
from core.prompts import examples as book
from core.settings import get_settings

GREEDY_REASON = "Greedy decoding always takes the most likely token: temperature, top_p and top_k do not apply."


@dataclass
class Controls:
    """The shared components (what each tab's events read)."""

    kind: gr.Radio
    model_name: gr.Dropdown
    base_url: gr.Textbox
    remote_model: gr.Dropdown
    api_key: gr.Textbox
    remote_row: gr.Row
    system: gr.Textbox
    preset: gr.Dropdown
    greedy: gr.Checkbox
    seed: gr.Number
    temperature: gr.Slider
    top_p: gr.Slider
    top_k: gr.Slider
    max_new: gr.Slider
    rep: gr.Slider
    note: gr.HTML

    @property
    def backend(self) -> list[Any]:
        """kind, model_name, base_url, remote_model, api_key (the first inputs of every model event)."""
        return [self.kind, self.model_name, self.base_url, self.remote_model, self.api_key]

    @property
    def sampling(self) -> list[Any]:
        """temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, greedy."""
        return [self.temperature, self.top_p, self.top_k, self.max_new, self.rep, self.seed, self.greedy]


def backend_panel() -> dict[str, Any]:
    """The "Model & backend" accordion: the lab's one backend picker (starts on the lab's server when
    one is configured) and the system prompt."""
    with gr.Accordion("Model & backend", open=False):
        gr.HTML(panel_link(MANIFEST.chapters[2], "§7.1 model I/O: loading quantized models (GGUF)"))
        p = backend_picker(MANIFEST.slug, local_label="Local chat model")
        system = gr.Textbox("", label="System prompt (optional)", lines=1)
    return dict(kind=p.kind, model_name=p.local_model, base_url=p.base_url, remote_model=p.server_model,
                api_key=p.api_key, remote_row=p.server_row, system=system)


def sampling_panel(backend: dict[str, Any]) -> Controls:
    """The "Sampling" accordion (shared by every tab), linked to its section of the book. The knobs
    the picker's starting backend cannot take start disabled (a lab server that drops top_k…)."""
    limits = get_settings().limits
    kind, url = backend["kind"].value, backend["base_url"].value
    start = knob_states(False, kind, url)
    on = {name: bool(u.get("interactive", True)) for name, u in zip(("top_k", "rep"), start[2:4])}
    with gr.Accordion("Sampling (used by every tab)", open=True):
        gr.HTML(panel_link(MANIFEST.chapters[1], "§6.1 Controlling model output: temperature, top_p, top_k"))
        with gr.Row():
            preset = gr.Dropdown(list(book.presets()), value=None, label="Preset (book Table 6-1)", scale=2)
            greedy = gr.Checkbox(False, label="Greedy (do_sample=False)", scale=1)
            seed = gr.Number(0, label="Seed (empty = random)", precision=0, scale=1)
        with gr.Row():
            temperature = gr.Slider(0.05, 2.0, 0.7, step=0.05, label="temperature")
            top_p = gr.Slider(0.05, 1.0, 1.0, step=0.05, label="top_p")
            top_k = gr.Slider(0, 200, 50, step=1, label="top_k (0 = off)", interactive=on["top_k"])
            max_new = gr.Slider(1, limits.max_new_tokens, 64, step=1, label="max_new_tokens")
            rep = gr.Slider(0.5, 2.0, 1.0, step=0.05, label="repetition penalty", interactive=on["rep"])
        note = gr.HTML(start[4], elem_id="prompts-sampling-note", padding=False)
    return Controls(preset=preset, greedy=greedy, seed=seed, temperature=temperature, top_p=top_p, top_k=top_k,
                    max_new=max_new, rep=rep, note=note, **backend)


def run_stop(label: str, variant: str = "primary") -> tuple[gr.Button, gr.Button, gr.HTML]:
    """A run button, its Stop button, and the job's status line (hidden while empty)."""
    with gr.Row():
        run = gr.Button(label, variant=variant)
        stop = gr.Button("Stop", variant="stop")
    return run, stop, gr.HTML("", padding=False, elem_classes="prompts-job")


def knob_states(greedy: bool, kind: str, base_url: str) -> tuple[Any, ...]:
    """Which sampling knobs apply: (temperature, top_p, top_k, repetition penalty, note HTML)."""
    unsupported = sampling_support(base_url) if kind == REMOTE else {}
    reasons = [GREEDY_REASON] if greedy else []
    reasons += [f"{name}: {why}" for name, why in unsupported.items()]
    note = "".join(f'<div class="prompts-legend prompts-off">⊘ {esc(r)}</div>' for r in reasons)
    return (gr.update(interactive=not greedy), gr.update(interactive=not greedy),
            gr.update(interactive=not greedy and "top_k" not in unsupported),
            gr.update(interactive="repetition penalty" not in unsupported), note)


def apply_preset(name: str) -> tuple[Any, Any, Any]:
    """Table 6-1's temperature/top_p for a use case (and sampling on)."""
    preset = book.presets().get(name)
    if not preset:
        return gr.skip(), gr.skip(), gr.skip()
    return preset["temperature"], preset["top_p"], False


def wire(c: Controls) -> None:
    """The panel's own events (no model work)."""
    c.preset.change(apply_preset, c.preset, [c.temperature, c.top_p, c.greedy], api_name="prompts_preset")
    gr.on([c.greedy.change, c.kind.change, c.base_url.blur], knob_states, [c.greedy, c.kind, c.base_url],
          [c.temperature, c.top_p, c.top_k, c.rep, c.note], api_visibility="private", show_progress="hidden",
          queue=False)
