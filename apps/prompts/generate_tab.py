"""The Generate tab: prompt and answer first, the rendered prompt and the next-token view beside."""
from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.common import user_errors
from apps.common.jobs import job_on
from apps.prompts import MANIFEST
from apps.prompts.controls import Controls
from apps.prompts.views import (example_note_html, next_token_html, panel_link, prompt_view_html, stats_html)
from core.errors import BackendError, LabError
from core.generation import OpenAIBackend, Stats, make_backend, sampling, timed_stream
from core.jobs import stop_event
from core.prompts import examples as book
from core.prompts.messages import build_messages, chat_after

SLUG = "prompts"
TOP_K = 10  # candidates shown by the next-token view (and asked of servers as top_logprobs)


@user_errors
def render_prompt(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str,
                  system: str, prompt: str, keep_chat: bool, history: Any, max_new_tokens: float) -> str:
    """The rendered prompt, without generating."""
    from core.prompts.view import prompt_view

    backend = make_backend(kind, model_name, base_url, remote_model, api_key)
    return prompt_view_html(prompt_view(backend, build_messages(system, history, prompt, keep_chat),
                                        int(max_new_tokens)))


def generate(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str,
             system: str, prompt: str, keep_chat: bool, history: Any,
             temperature: float, top_p: float, top_k: float, max_new_tokens: float, repetition_penalty: float,
             seed: Any, greedy: bool) -> Iterator[tuple[Any, ...]]:
    """Stream an answer. Outputs: chat, output text, stats, rendered prompt, output tokens, state."""
    from core.prompts.view import check_fits, output_tokens, prompt_view

    backend = make_backend(kind, model_name, base_url, remote_model, api_key)
    params = sampling(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, greedy)
    msgs = build_messages(system, history, prompt, keep_chat)
    view = prompt_view(backend, msgs, params.max_new_tokens)
    check_fits(view)
    chat = chat_after(history, prompt, keep_chat)
    stop, stats, text = stop_event(), Stats(), ""
    view_text = prompt_view_html(view)
    yield chat, "", stats_html(stats, running=True), view_text, [], None
    server = isinstance(backend, OpenAIBackend)
    kw = {"top_logprobs": TOP_K} if server else {}
    same = gr.skip()  # while the answer streams, the prompt view, tokens and state stay as they are
    try:
        for piece in timed_stream(backend, msgs, params, stop=stop, stats=stats, **kw):
            text += piece
            chat[-1]["content"] = text
            yield chat, text, stats_html(stats, running=True), same, same, same
    except BackendError as exc:  # a server that refuses logprobs: answer without them
        if not kw or text or "logprob" not in str(exc).lower():
            raise
        for piece in timed_stream(backend, msgs, params, stop=stop, stats=stats):
            text += piece
            chat[-1]["content"] = text
            yield chat, text, stats_html(stats, running=True), same, same, same
    stats.stopped = stop.is_set()
    logprobs = list(backend.logprobs) if server else []
    if server:
        tokens = [(e["token"], None) for e in logprobs]
    else:
        tokens = [(t.text, None) for t in output_tokens(backend, text)]
    state = {"messages": msgs, "output": text, "model": None if server else backend.model_name,
             "logprobs": logprobs}
    note = "" if text.strip() else "The model returned no text (it ended immediately)."
    yield chat, text, stats_html(stats, note=note), view_text, tokens, state


def next_token_view(state: Any, step: float, temperature: float, top_p: float, top_k: float,
                    greedy: bool) -> str:
    """The candidates at output step ``step`` of the last answer: local models on transformers (the
    full distribution from the logits), servers from the ``top_logprobs`` they sent with the answer."""
    from core.prompts.view import next_token, server_next_token

    if not state or not state.get("messages"):
        raise LabError("Generate something first: the next-token view looks at the last prompt and output.")
    params = sampling(temperature, top_p, top_k, 1, 1.0, None, greedy)
    if not state.get("model"):  # an OpenAI-compatible server: its logprobs, when it sent them
        return next_token_html(server_next_token(state.get("logprobs") or [], int(step), params))
    backend = make_backend("Local model", state["model"], need_logits=True)
    return next_token_html(next_token(backend, state["messages"], state.get("output", ""), int(step), params))


def select_token(state: Any, temperature: float, top_p: float, top_k: float, greedy: bool,
                 evt: gr.SelectData) -> tuple[int, str]:
    """A click on an output token: its step and the candidates there."""
    index = evt.index if isinstance(evt.index, int) else (evt.index[0] if evt.index else 0)
    return int(index), next_token_view(state, int(index), temperature, top_p, top_k, greedy)


def load_example(example_id: str) -> tuple[Any, ...]:
    """Fill the Generate tab from a book example: prompt, earlier turns, greedy and max_new_tokens."""
    if not example_id:
        return (gr.skip(),) * 6
    fill = book.example_fill(example_id)
    return (fill["prompt"], fill["earlier"], fill["keep_chat"], fill["greedy"], fill["max_new_tokens"],
            example_note_html(fill))


def clear() -> tuple[Any, ...]:
    return [], "", [], None, next_token_html(None)


def build(c: Controls) -> dict[str, Any]:
    """Lay out the tab (inside the app's Tabs) and wire its events; returns the components the
    take-home row reads (prompt, keep_chat, chatbot, output, last)."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=5):
            prompt = gr.Textbox("Create a funny joke about chickens.", label="Prompt", lines=3,
                                elem_id="prompts-prompt")
            keep_chat = gr.Checkbox(False, label="Chat: keep the conversation (otherwise each prompt is single-turn)")
            with gr.Row():
                gen_btn = gr.Button("Generate", variant="primary", elem_id="prompts-generate-btn", scale=2,
                                    min_width=90)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="prompts-stop-btn", scale=1, min_width=60)
            with gr.Row():
                render_btn = gr.Button("Show rendered prompt", size="sm", min_width=90)
                clear_btn = gr.Button("Clear chat", size="sm", min_width=60)
            status = gr.HTML("", elem_id="prompts-status", padding=False, elem_classes="prompts-job")
            stats = gr.HTML(stats_html(None, note="Type a prompt and press Generate (or Enter). The sampling "
                                                  "settings (temperature, top_p…) are below the tabs."),
                            padding=False)
            chatbot = gr.Chatbot(label="Conversation", height=260, elem_id="prompts-chat", buttons=["copy"])
            output = gr.Textbox(label="Output (raw text)", lines=3, interactive=False, elem_id="prompts-output")
            example_dd = gr.Dropdown([(e["title"], e["id"]) for e in book.examples()], value=None,
                                     label="Load a book example")
            example_note = gr.HTML("")
        with gr.Column(scale=6):
            gr.Markdown("**The rendered prompt** — what the model receives, chat template applied")
            gr.HTML(panel_link(MANIFEST.chapters[1], "§6.1 using text generation models: the chat template"))
            view_html = gr.HTML(prompt_view_html(None), elem_id="prompts-view")
            gr.Markdown("**Next-token view** — click any token of the output to see what the model weighed at "
                        "that step, and what temperature/top-p do to it")
            gr.HTML(panel_link(MANIFEST.chapters[0], "§3.1 choosing a single token from the probability "
                                                     "distribution"))
            out_tokens = gr.HighlightedText(label="Output tokens (click one)", combine_adjacent=False,
                                            show_legend=False, elem_id="prompts-out-tokens")
            with gr.Row():
                step = gr.Number(0, label="Output step (0 = first token)", precision=0, minimum=0)
                step_btn = gr.Button("Show candidates at this step")
            next_status = gr.HTML("", padding=False, elem_classes="prompts-job")
            next_html = gr.HTML(next_token_html(None), elem_id="prompts-next")
    last = gr.State(None)

    example_dd.change(load_example, example_dd, [prompt, chatbot, keep_chat, c.greedy, c.max_new, example_note],
                      api_name="prompts_example")
    render_btn.click(render_prompt, c.backend + [c.system, prompt, keep_chat, chatbot, c.max_new], view_html,
                     api_name="prompts_render")
    job_on([gen_btn.click, prompt.submit], generate, c.backend + [c.system, prompt, keep_chat, chatbot] + c.sampling,
           [chatbot, output, stats, view_html, out_tokens, last], slug=SLUG, kind="generate", status=status,
           stop=stop_btn, api_name="prompts_generate", show_done=False)
    clear_btn.click(clear, None, [chatbot, output, out_tokens, last, next_html], api_name="prompts_clear")
    nt_in = [last, step, c.temperature, c.top_p, c.top_k, c.greedy]
    job_on([step_btn.click], next_token_view, nt_in, [next_html], slug=SLUG, kind="next-token",
           status=next_status, api_name="prompts_next_token", show_done=False)
    job_on([out_tokens.select], select_token, nt_in[:1] + nt_in[2:], [step, next_html], slug=SLUG,
           kind="next-token", status=next_status, show_done=False, api_visibility="private")
    return {"prompt": prompt, "keep_chat": keep_chat, "chatbot": chatbot, "output": output, "last": last}
