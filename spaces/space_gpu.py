"""A small, real GPU task for the Space of an app that runs on the CPU (e.g. Tokenizer Arena).

ZeroGPU refuses to start a Space that has no ``@spaces.GPU`` function, so ``spaces/build.py`` copies
this module into such a Space and ``app.py`` adds :func:`panel` under the app: contextual token
embeddings (book ch. 2, "Creating contextualized word embeddings with language models"). The
tokenizer cuts a sentence into tokens; a language model (all-MiniLM-L6-v2) then gives every token a
vector that depends on its neighbours. The table shows, per token, how close that vector stays to
the token's context-free input embedding and which other token of the sentence it is closest to.

The model call is :func:`contextual_embeddings_gpu` (``core.gpu.gpu_task`` = ``spaces.GPU``), bound
through the undecorated handler :func:`contextual_embeddings`, which turns ZeroGPU quota errors
into a friendly warning and runs the same computation on the CPU.
"""
from __future__ import annotations

from typing import Any

import gradio as gr

from apps.common import HEAVY, heavy_limit, user_errors
from core.errors import LabError
from core.gpu import call_with_cpu_fallback, estimate_duration, gpu_task
from core.settings import get_settings

MODEL = "embed-minilm"
MAX_TOKENS = 128
MAX_CHARS = 2_000
HEADERS = ["#", "token", "similarity to its static embedding", "closest token in context", "similarity"]
EXAMPLE = "The bank raised interest rates, so we sat on the river bank."

_cpu_model: Any = None


def _duration(text: str) -> int:
    """ZeroGPU seconds for ``text``: a few seconds, growing with its (capped) token count."""
    return estimate_duration(min(len(text) // 4 + 2, MAX_TOKENS), per_unit_s=0.02, base_s=5.0, cap_s=20)


def _compute(model: Any, text: str) -> list[list[Any]]:
    import torch

    tokenizer = model.tokenizer
    transformer = model[0].auto_model
    dev = next(transformer.parameters()).device
    enc = tokenizer(text, return_tensors="pt", truncation=True, max_length=MAX_TOKENS)
    ids = enc["input_ids"]
    with torch.no_grad():
        hidden = transformer(**{k: v.to(dev) for k, v in enc.items()}).last_hidden_state[0].float()
        static = transformer.get_input_embeddings()(ids.to(dev))[0].float()
        h = torch.nn.functional.normalize(hidden, dim=-1)
        s = torch.nn.functional.normalize(static, dim=-1)
        own = (h * s).sum(-1).cpu()
        special = torch.tensor(tokenizer.get_special_tokens_mask(ids[0].tolist(), already_has_special_tokens=True),
                               dtype=torch.bool, device=dev)
        sims = h @ h.T
        sims.fill_diagonal_(-2.0)
        sims[:, special] = -2.0  # neighbours among the sentence's real tokens only
        best, nearest = sims.max(-1)
        best, nearest, special = best.cpu(), nearest.cpu(), special.cpu()
    tokens = tokenizer.convert_ids_to_tokens(ids[0].tolist())
    rows = []
    for i, tok in enumerate(tokens):
        if bool(special[i]):
            continue
        alone = float(best[i]) <= -1.0  # a one-token sentence has no other token
        rows.append([len(rows) + 1, tok, round(float(own[i]), 3), "" if alone else tokens[int(nearest[i])],
                     None if alone else round(float(best[i]), 3)])
    return rows


@gpu_task(duration=_duration)
def contextual_embeddings_gpu(text: str) -> list[list[Any]]:
    """The GPU function of this Space (returns plain Python values, never tensors)."""
    from core.loader import load

    return _compute(load(MODEL), text)


def contextual_embeddings_cpu(text: str) -> list[list[Any]]:
    """The same on the CPU (on ZeroGPU with a separate CPU copy of the model)."""
    global _cpu_model
    from core.loader import load

    settings = get_settings()
    if not settings.zero_gpu:
        return _compute(load(MODEL), text)
    if _cpu_model is None:
        from sentence_transformers import SentenceTransformer

        from core import catalogue

        entry = catalogue.get(MODEL)
        _cpu_model = SentenceTransformer(entry.hub_id, revision=entry.hub_revision, device="cpu")
    return _compute(_cpu_model, text)


@user_errors
def contextual_embeddings(text: str) -> list[list[Any]]:
    """Bound to the button (undecorated: it can catch ZeroGPU's quota errors and fall back)."""
    text = (text or "").strip()
    if not text:
        raise LabError("Type a sentence first.")
    if len(text) > MAX_CHARS:
        raise LabError(f"Keep it under {MAX_CHARS:,} characters; the model reads at most {MAX_TOKENS} tokens.")
    return call_with_cpu_fallback(contextual_embeddings_gpu, contextual_embeddings_cpu, text,
                                  on_fallback=gr.Warning)


def panel(slug: str) -> None:
    """Add the panel (inside a Blocks context); its event is ``/<slug>_space_gpu_embeddings``."""
    with gr.Accordion("🧮 Contextual token embeddings (GPU) · book ch. 2", open=False,
                      elem_id=f"{slug}-space-gpu"):
        gr.Markdown(
            "A tokenizer only cuts text into tokens. A language model then gives every token a vector "
            "that depends on its neighbours: the same token (*bank*) gets different vectors in different "
            "places. Model: all-MiniLM-L6-v2, run on the Space's GPU.")
        with gr.Row():
            text = gr.Textbox(label="Sentence", value=EXAMPLE, lines=2, scale=4)
            button = gr.Button("Embed on the GPU", variant="secondary", scale=1)
        table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True)
        button.click(contextual_embeddings, text, table, api_name=f"{slug}_space_gpu_embeddings",
                     concurrency_id=HEAVY, concurrency_limit=heavy_limit())
