"""Prompt Lab's take-home row: a link to the prompt, messages, model and every sampling setting; a
JSON download (prompt, rendered prompt, output, sweep table, provenance header); and the notebook
(:mod:`core.prompts.notebook`). A link restores the settings and the answer it was made with."""
from __future__ import annotations

import json
from typing import Any

import gradio as gr

from apps.common import error_html
from apps.common.takehome import TakeHome, restore, takehome
from core.errors import LabError
from core.links import param_bool, param_float
from core.prompts.messages import history as plain_history
from apps.prompts import MANIFEST

SLUG = "prompts"
#: Link keys, in the order of :func:`components`' values.
KEYS = ("kind", "model", "base_url", "remote_model", "system", "prompt", "keep_chat", "history", "temperature",
        "top_p", "top_k", "max_new_tokens", "repetition_penalty", "seed", "greedy", "sweep_prompt", "temps",
        "top_ps", "sweep_n", "sweep_max_new")
MAX_LINK_OUTPUT = 4000  # characters of the answer a link keeps (to show it again on opening)


def components(c: Any, gen: dict[str, Any], sw: dict[str, Any]) -> list[Any]:
    """The inputs the three actions read (no API key: it never goes in a link or a file)."""
    return [c.kind, c.model_name, c.base_url, c.remote_model, c.system, gen["prompt"], gen["keep_chat"],
            gen["chatbot"], c.temperature, c.top_p, c.top_k, c.max_new, c.rep, c.seed, c.greedy, sw["prompt"],
            sw["temps"], sw["top_ps"], sw["n"], sw["max_new"], gen["last"], sw["last"]]


def _values(values: tuple[Any, ...]) -> tuple[dict[str, Any], Any, Any]:
    state = dict(zip(KEYS, values[:len(KEYS)]))
    state["history"] = plain_history(state.get("history"))
    return state, values[len(KEYS)], values[len(KEYS) + 1]


def link_state(*values: Any) -> dict[str, Any]:
    state, last, _ = _values(values)
    if not (state.get("prompt") or "").strip():
        raise LabError("Type a prompt first: the link reopens the Prompt Lab with it.")
    state["history"] = json.dumps(state["history"], ensure_ascii=False) if state["keep_chat"] and state["history"] else ""
    if last and last.get("output"):
        state["output"] = str(last["output"])[:MAX_LINK_OUTPUT]
    return state


def notebook_state(state: dict[str, Any], last: Any, sweep: Any) -> dict[str, Any]:
    """What :func:`core.prompts.notebook.notebook` reproduces: the last run (its messages) or the boxes."""
    out = {k: state.get(k) for k in ("kind", "model", "base_url", "remote_model", "system", "prompt", "keep_chat",
                                     "history", "temperature", "top_p", "top_k", "max_new_tokens",
                                     "repetition_penalty", "seed", "greedy")}
    if last and last.get("messages"):
        out["messages"], out["output"] = last["messages"], last.get("output", "")
    if sweep:
        out["sweep"] = {k: sweep[k] for k in ("prompt", "temperatures", "top_ps", "n", "max_new_tokens", "seed")}
    return out


def make_notebook(*values: Any) -> Any:
    from core.prompts.notebook import notebook

    state, last, sweep = _values(values)
    return notebook(notebook_state(state, last, sweep), app=MANIFEST)


def results(*values: Any) -> tuple[str, bytes]:
    """prompt, rendered prompt, output and sweep table as JSON under a provenance header."""
    from core.generation import make_backend
    from core.prompts.notebook import normalise
    from core.prompts.view import prompt_view
    from core.provenance import header

    state, last, sweep = _values(values)
    if not (last and last.get("messages")) and not sweep:
        raise LabError("Nothing to download yet: press Generate (or run a sweep) first.")
    norm = normalise(notebook_state(state, last, sweep))
    backend = make_backend(norm["kind"], norm["model"], norm["base_url"], norm["remote_model"], "")
    try:
        rendered = prompt_view(backend, norm["messages"], norm["params"]["max_new_tokens"]).text
    except LabError as exc:
        rendered = f"(not rendered: {exc})"
    models = [] if norm["kind"] != "Local model" else [norm["model"]]
    block = header(SLUG, models, {k: v for k, v in norm.items() if k not in ("messages", "output")},
                   engine=getattr(backend, "engine", None) or backend.__class__.__name__)
    doc = {"provenance": block, "prompt": state.get("prompt"), "messages": norm["messages"],
           "rendered_prompt": rendered, "output": (last or {}).get("output"),
           "sweep": None if not sweep else {**{k: v for k, v in sweep.items() if k != "cells"},
                                            "table": sweep.get("cells", [])}}
    return "llm-lab-prompts.json", json.dumps(doc, indent=1, ensure_ascii=False).encode()


def _restored(params: dict[str, Any]) -> list[Any]:
    """Component updates for a link's state, in :data:`KEYS` order, then the chat and output."""
    from core.generation import LOCAL, REMOTE

    def num(key: str, default: float) -> Any:
        return param_float(params[key], default) if key in params else gr.skip()

    def text(key: str) -> Any:
        return str(params[key]) if key in params else gr.skip()

    kind = params.get("kind")
    history = params.get("history") or "[]"
    try:
        turns = plain_history(json.loads(history) if isinstance(history, str) else history)
    except ValueError:
        raise LabError("This link's conversation is damaged; the prompt and settings are restored without it.") from None
    seed = params.get("seed")
    chat, output = gr.skip(), gr.skip()
    if params.get("output"):
        chat = turns + [{"role": "user", "content": str(params.get("prompt", ""))},
                        {"role": "assistant", "content": str(params["output"])}]
        output = str(params["output"])
    return [gr.update(value=kind) if kind in (LOCAL, REMOTE) else gr.skip(),
            text("model"), text("base_url"), text("remote_model"), text("system"), text("prompt"),
            param_bool(params["keep_chat"]) if "keep_chat" in params else gr.skip(),
            turns if turns and not params.get("output") else chat,
            num("temperature", 0.7), num("top_p", 1.0), num("top_k", 50), num("max_new_tokens", 64),
            num("repetition_penalty", 1.0), (None if seed in ("", None) else param_float(seed, 0)) if "seed" in params
            else gr.skip(), param_bool(params["greedy"]) if "greedy" in params else gr.skip(), text("sweep_prompt"),
            text("temps"), text("top_ps"), num("sweep_n", 2), num("sweep_max_new", 24), output]


def build(demo: gr.Blocks, c: Any, gen: dict[str, Any], sw: dict[str, Any]) -> TakeHome:
    """The row (under the tabs) and the link restore on page load."""
    row = takehome(SLUG, components(c, gen, sw), link_state=link_state, results=results, notebook=make_notebook)
    targets = components(c, gen, sw)[:len(KEYS)] + [gen["output"]]

    def on_load(request: gr.Request) -> list[Any]:
        try:
            params = restore(SLUG, request)
            if not params:
                return [gr.skip()] * len(targets) + [gr.skip()]
            return _restored(params) + ['<div class="lab-note">Restored from the link: press Generate to run it '
                                        'again (greedy decoding gives the same text).</div>']
        except LabError as exc:
            return [gr.skip()] * len(targets) + [error_html(str(exc))]

    demo.load(on_load, None, targets + [row.message], api_visibility="private", show_progress="hidden")
    return row
