"""The Constrained output tab (§7.1): JSON Schema, choices or a regex, enforced while decoding."""
from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common.jobs import job_on
from apps.prompts import MANIFEST
from apps.prompts.controls import Controls, run_stop
from apps.prompts.views import panel_link, stats_html, validation_html
from core.generation import Stats, make_backend, sampling, timed_stream
from core.jobs import stop_event
from core.prompts import constrained as cons
from core.prompts.examples import constraint_example
from core.prompts.messages import build_messages

SLUG = "prompts"


def run_constrained(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
                    prompt: str, c_kind: str, spec: str, enforce: bool,
                    temperature: float, top_p: float, top_k: float, max_new_tokens: float,
                    repetition_penalty: float, seed: Any, greedy: bool) -> Iterator[tuple[str, str, str]]:
    """Stream the output, then validate it. Local models with "enforce" run on transformers, whose
    logits llguidance masks."""
    backend = make_backend(kind, model_name, base_url, remote_model, api_key, need_logits=bool(enforce))
    params = sampling(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, greedy)
    constraint = cons.from_label(c_kind, spec)
    plan = cons.plan(constraint, backend, bool(enforce))
    msgs = build_messages(system, [], (prompt or "") + plan.prompt_suffix, False)
    stop, stats, text = stop_event(), Stats(), ""
    yield "", stats_html(stats, running=True), ""
    for piece in timed_stream(backend, msgs, params, stop=stop, stats=stats, **plan.stream_kw):
        text += piece
        yield text, stats_html(stats, running=True), ""
    stats.stopped = stop.is_set()
    v = cons.validate(text, constraint)
    yield cons.pretty(text, v), stats_html(stats), validation_html(v, plan.how)


def build(c: Controls) -> None:
    """Lay out the tab and wire its events."""
    gr.HTML(panel_link(MANIFEST.chapters[1], "§6.5 output verification: grammar, constrained sampling"))
    gr.Markdown("Output that **must** match a JSON Schema, one of a few choices, or a regex. Local "
                "models: enforced token by token with llguidance. Servers: JSON mode. Always validated.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            kind = gr.Radio(["JSON Schema", "Choice", "Regex"], value="JSON Schema", label="Constraint")
            first_prompt, first_spec = constraint_example("JSON Schema")
            prompt = gr.Textbox(first_prompt, label="Prompt", lines=2)
            spec = gr.Code(first_spec, language="json", label="Schema / options / regex", lines=10)
            enforce = gr.Checkbox(True, label="Enforce during decoding (untick to see the unconstrained output)")
            run, stop, status = run_stop("Generate")
        with gr.Column(scale=5):
            stats = gr.HTML("")
            valid = gr.HTML("")
            out = gr.Code("", language="json", label="Output", lines=10, interactive=False)
    kind.change(constraint_example, kind, [prompt, spec], api_name="prompts_constraint_example")
    job_on([run.click, prompt.submit], run_constrained,
           c.backend + [c.system, prompt, kind, spec, enforce] + c.sampling, [out, stats, valid],
           slug=SLUG, kind="constrained", status=status, stop=stop, api_name="prompts_constrained", show_done=False)
