"""The Techniques tab (ch. 6): prompt components, in-context learning, chain-of-thought,
self-consistency, chain prompting and output verification."""
from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import user_errors
from apps.common.jobs import job_on
from apps.prompts import MANIFEST
from apps.prompts.controls import Controls, run_stop
from apps.prompts.views import chain_html, panel_link, prompt_view_html, self_consistency_html, stats_html, verify_html
from core.generation import Stats, make_backend, sampling, timed_stream
from core.jobs import report, stop_event
from core.prompts import examples as book
from core.prompts import techniques as tech
from core.prompts.messages import example_rows

SLUG = "prompts"
CH6 = MANIFEST.chapters[1]


@user_errors
def assemble_components(enabled: list[str], *values: str) -> str:
    return tech.assemble(dict(zip(tech.COMPONENTS, values)), enabled)


@user_errors
def build_technique(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
                    technique: str, question: str, examples: Any, trigger: str) -> str:
    from core.prompts.view import prompt_view

    backend = make_backend(kind, model_name, base_url, remote_model, api_key)
    msgs = tech.technique_messages(technique, question, example_rows(examples), trigger, system)
    return prompt_view_html(prompt_view(backend, msgs, 0))


def run_technique(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
                  technique: str, question: str, examples: Any, trigger: str,
                  temperature: float, top_p: float, top_k: float, max_new_tokens: float, repetition_penalty: float,
                  seed: Any, greedy: bool) -> Iterator[tuple[str, str, str]]:
    from core.prompts.view import check_fits, prompt_view

    backend = make_backend(kind, model_name, base_url, remote_model, api_key)
    params = sampling(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, greedy)
    msgs = tech.technique_messages(technique, question, example_rows(examples), trigger, system)
    view = prompt_view(backend, msgs, params.max_new_tokens)
    check_fits(view)
    stop, stats, text = stop_event(), Stats(), ""
    view_text = prompt_view_html(view)
    yield view_text, "", stats_html(stats, running=True)
    for piece in timed_stream(backend, msgs, params, stop=stop, stats=stats):
        text += piece
        yield view_text, text, stats_html(stats, running=True)
    stats.stopped = stop.is_set()
    answer = tech.extract_answer(text)
    yield view_text, text, stats_html(stats, note=f"extracted answer: {answer}" if answer else "no answer extracted")


def run_self_consistency(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
                         technique: str, question: str, examples: Any, trigger: str, n: float,
                         temperature: float, top_p: float, top_k: float, max_new_tokens: float,
                         repetition_penalty: float, seed: Any) -> Iterator[str]:
    backend = make_backend(kind, model_name, base_url, remote_model, api_key)
    params = sampling(temperature, top_p, top_k, max_new_tokens, repetition_penalty,
                      0 if seed in (None, "") else seed, False)
    msgs = tech.technique_messages(technique, question, example_rows(examples), trigger, system)
    expected = book.expected_answer(question)
    for state in tech.self_consistency(backend, msgs, params, int(n), stop=stop_event()):
        report(sum(s.done for s in state.samples) / int(n), f"sample {len(state.samples)} of {int(n)}")
        yield self_consistency_html(state, expected)


def run_chain(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
              steps_text: str, user_input: str, temperature: float, top_p: float, top_k: float,
              max_new_tokens: float, repetition_penalty: float, seed: Any, greedy: bool) -> Iterator[str]:
    backend = make_backend(kind, model_name, base_url, remote_model, api_key)
    params = sampling(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, greedy)
    templates = tech.parse_chain(steps_text)
    for steps in tech.run_chain(backend, templates, params, user_input, system, stop=stop_event()):
        report(sum(s.done for s in steps) / len(templates), f"step {len(steps)} of {len(templates)}")
        yield chain_html(steps)


def run_verify(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str,
               task: str, answer: str) -> Iterator[str]:
    """Output verification (§6.5): a second call judges the first output."""
    backend = make_backend(kind, model_name, base_url, remote_model, api_key)
    text = ""
    for text in tech.verify(backend, task, answer, stop=stop_event()):
        yield verify_html(text, done=False)
    yield verify_html(text, done=True)


def build(c: Controls) -> None:
    """Lay out the tab and wire its events."""
    comps = book.components()
    with gr.Accordion("Prompt components (§6.3.1): toggle, edit, assemble", open=False):
        gr.HTML(panel_link(CH6, "§6.3.1 the components of a prompt"))
        enabled = gr.CheckboxGroup(list(tech.COMPONENTS), value=list(tech.COMPONENTS),
                                   label="Components used (in this order)")
        comp_boxes = [gr.Textbox(comps.get(name, ""), label=name, lines=1) for name in tech.COMPONENTS]
        assemble_btn = gr.Button("Assemble into the question below")
    gr.HTML(panel_link(CH6, "§6.3–6.4 in-context learning, chain-of-thought, tree-of-thought"))
    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            technique = gr.Radio([(v, k) for k, v in tech.TECHNIQUES.items()], value="zero-shot-cot",
                                 label="Technique")
            question = gr.Textbox(book.example("cafeteria-cot")["messages"][-1]["content"],
                                  label="Question / task", lines=3)
            with gr.Row():
                run = gr.Button("Run", variant="primary")
                stop = gr.Button("Stop", variant="stop")
                show = gr.Button("Show prompt")
            status = gr.HTML("", padding=False, elem_classes="prompts-job")
            t_stats = gr.HTML("", padding=False)
            t_out = gr.Textbox(label="Output", lines=6, interactive=False)
            trigger = gr.Dropdown(list(tech.COT_TRIGGERS), value=tech.ZERO_SHOT_COT, allow_custom_value=True,
                                  label="Zero-shot CoT trigger")
            shots = gr.Dataframe(value=[list(tech.COT_EXAMPLE)], headers=["user", "assistant"],
                                 column_count=(2, "fixed"), row_count=(1, "dynamic"), interactive=True, wrap=True,
                                 label="Examples for one/few-shot and CoT (add rows for few-shot)")
        with gr.Column(scale=5):
            t_view = gr.HTML(prompt_view_html(None))
    with gr.Accordion("Self-consistency (§6.4.2): N sampled reasoning paths, majority vote", open=False):
        gr.HTML(panel_link(CH6, "§6.4.2 self-consistency"))
        sc_n = gr.Slider(1, 10, 5, step=1, label="samples (N)")
        sc_btn, sc_stop, sc_status = run_stop("Run self-consistency with the technique above")
        sc_out = gr.HTML("")
    with gr.Accordion("Chain prompting (§6.3.3): each step's output feeds the next", open=False):
        gr.HTML(panel_link(CH6, "§6.3.3 chain prompting"))
        chain_steps = gr.Textbox("\n---\n".join(book.chain_steps()), lines=4,
                                 label="Steps (separate with a line ---; use {previous}, {step1}, {input})")
        chain_input = gr.Textbox("", label="{input} (optional)")
        chain_btn, chain_stop, chain_status = run_stop("Run chain")
        chain_out = gr.HTML("")
    with gr.Accordion("Output verification (§6.5): a second call checks the output", open=False):
        gr.HTML(panel_link(CH6, "§6.5 output verification"))
        ver_btn, ver_stop, ver_status = run_stop("Verify the output above against the question", "secondary")
        ver_out = gr.HTML("")

    assemble_btn.click(assemble_components, [enabled] + comp_boxes, question, api_name="prompts_assemble")
    common = c.backend + [c.system, technique, question, shots, trigger]
    show.click(build_technique, common, t_view, api_name="prompts_technique_prompt")
    job_on([run.click], run_technique, common + c.sampling, [t_view, t_out, t_stats], slug=SLUG, kind="technique",
           status=status, stop=stop, api_name="prompts_technique", show_done=False)
    job_on([sc_btn.click], run_self_consistency, common + [sc_n] + c.sampling[:-1], [sc_out], slug=SLUG,
           kind="self-consistency", status=sc_status, stop=sc_stop, api_name="prompts_self_consistency",
           expect_s=30)
    job_on([chain_btn.click], run_chain, c.backend + [c.system, chain_steps, chain_input] + c.sampling, [chain_out],
           slug=SLUG, kind="chain", status=chain_status, stop=chain_stop, api_name="prompts_chain", expect_s=20)
    job_on([ver_btn.click], run_verify, c.backend + [question, t_out], [ver_out], slug=SLUG, kind="verify",
           status=ver_status, stop=ver_stop, api_name="prompts_verify")
