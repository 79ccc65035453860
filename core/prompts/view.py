"""What the model really sees and weighs: the rendered prompt as tokens, and next-token candidates.

* :func:`prompt_view` — the chat template applied, cut into tokens (special tokens flagged),
  counted against the context window and the lab's prompt limit.
* :func:`next_token` — the top-k candidates for the next token after the prompt plus the first
  ``step`` output tokens, with probabilities at temperature 1 and at the chosen temperature (book
  §3.1.3 and AIE's sampling math), and whether top_k/top_p would keep them.
* :func:`output_tokens` — the output cut into the tokens the next-token view can be asked about.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from core.errors import LabError
from core.generation import LlamaCppBackend, LocalBackend, Message, SamplingParams
from core.gpu import gpu_task
from core.settings import get_settings


@dataclass
class Token:
    id: int
    text: str
    special: bool


@dataclass
class PromptView:
    text: str  # the exact prompt string (chat template applied), or the JSON messages for servers
    tokens: list[Token]
    n_tokens: int
    window: int  # the model's context window (0 = unknown)
    max_new_tokens: int
    limit: int  # the lab's prompt-token limit
    templated: bool = True  # False for OpenAI-compatible servers (their template is server-side)
    notes: list[str] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        within_window = not self.window or self.n_tokens + self.max_new_tokens <= self.window
        return within_window and self.n_tokens <= self.limit

    @property
    def n_special(self) -> int:
        return sum(t.special for t in self.tokens)


def _piece(tok: Any, token_id: int) -> str:
    return tok.decode([token_id], skip_special_tokens=False, clean_up_tokenization_spaces=False)


def prompt_view(backend: Any, messages: Sequence[Message], max_new_tokens: int = 256) -> PromptView:
    """The rendered prompt for ``backend`` (LocalBackend: exact tokens; others: the JSON sent)."""
    limit = get_settings().limits.prompt_tokens
    if not isinstance(backend, LocalBackend):
        msgs = backend._messages(messages) if hasattr(backend, "_messages") else list(messages)
        text = json.dumps(msgs, indent=2, ensure_ascii=False)
        approx = max(1, round(len(text) / 4)) if text else 0
        return PromptView(text, [], approx, 0, max_new_tokens, limit, templated=False,
                          notes=["The server applies its own chat template; this is the JSON the lab sends. "
                                 "Token count ≈ characters / 4."])
    prompt = backend.render_prompt(messages)
    if isinstance(backend, LlamaCppBackend):  # the GGUF's own template and tokens, as llama.cpp runs them
        ids = backend.prompt_ids(prompt)
        return PromptView(prompt, _llama_tokens(backend, ids), len(ids), backend.pool().context_window,
                          max_new_tokens, limit, notes=["Tokens of the GGUF file, as llama.cpp runs it."])
    tok = backend.lm().tokenizer
    ids = tok(prompt, add_special_tokens=False)["input_ids"]
    special = set(getattr(tok, "all_special_ids", []) or [])
    added = getattr(tok, "added_tokens_decoder", {}) or {}
    special |= {i for i, t in added.items() if getattr(t, "special", False)}
    tokens = [Token(int(i), _piece(tok, int(i)), int(i) in special) for i in ids]
    notes = []
    if not getattr(tok, "chat_template", None):
        notes.append("This tokenizer has no chat template; the lab joins the turns as 'role: text'.")
    return PromptView(prompt, tokens, len(ids), backend.lm().context_window, max_new_tokens, limit, notes=notes)


def check_fits(view: PromptView) -> None:
    """Refuse, with the counts, a prompt that does not fit (what the generate call would also do)."""
    if view.window and view.n_tokens + view.max_new_tokens > view.window:
        raise LabError(f"The prompt has {view.n_tokens:,} tokens; with {view.max_new_tokens} new tokens that exceeds "
                       f"the model's {view.window:,}-token context window. Shorten it or lower max_new_tokens.")
    if view.n_tokens > view.limit:
        raise LabError(f"The prompt has {view.n_tokens:,} tokens; the lab's limit is {view.limit:,}.")


# --------------------------------------------------------------------------------------------
# next-token candidates
# --------------------------------------------------------------------------------------------

@dataclass
class Candidate:
    rank: int
    id: int
    text: str
    p: float  # probability at temperature 1
    p_t: float  # probability at the chosen temperature (after top-k / top-p: 0 when cut)
    kept: bool  # survives top_k and top_p
    chosen: bool = False  # the token the output actually has at this step


@dataclass
class NextTokenView:
    step: int  # 0 = the first output token
    context_tail: str  # the last characters before the predicted token
    temperature: float
    candidates: list[Candidate]
    entropy_bits: float
    chosen_text: str | None = None
    greedy: bool = False
    source: str = ""  # where the probabilities come from (shown under the table)


@gpu_task(duration=10)
def _last_logits(model_name: str, ids: list[int]) -> list[float]:
    import torch

    from core.loader import load

    lm = load(model_name)
    with torch.inference_mode():
        out = lm.model(input_ids=torch.tensor([ids], device=lm.model.device))
    return out.logits[0, -1].float().cpu().tolist()


def _llama_tokens(backend: LlamaCppBackend, ids: Sequence[int]) -> list[Token]:
    """llama.cpp tokens; a token is special when it renders as nothing without special rendering."""
    meta = backend.pool().meta()
    return [Token(int(i), meta.detokenize([int(i)], special=True).decode("utf-8", errors="replace"),
                  not meta.detokenize([int(i)], special=False)) for i in ids]


def output_tokens(backend: LocalBackend, output: str) -> list[Token]:
    """The output cut into the tokens of the engine that wrote it."""
    if isinstance(backend, LlamaCppBackend):
        return _llama_tokens(backend, backend.tokenize(output or "", special=False))
    tok = backend.lm().tokenizer
    ids = tok(output or "", add_special_tokens=False)["input_ids"]
    return [Token(int(i), _piece(tok, int(i)), False) for i in ids]


def next_token(backend: Any, messages: Sequence[Message], output: str = "", step: int = 0,
               params: SamplingParams = SamplingParams(), k: int = 10) -> NextTokenView:
    """Top-``k`` candidates after the prompt and the first ``step`` output tokens."""
    import torch

    if not isinstance(backend, LocalBackend):
        raise LabError("The next-token view needs a local model: OpenAI-compatible servers do not send "
                       "the full probability distribution.")
    tok = backend.lm().tokenizer
    prompt_ids = tok(backend.render_prompt(messages), add_special_tokens=False)["input_ids"]
    out_ids = tok(output or "", add_special_tokens=False)["input_ids"]
    if not 0 <= step <= len(out_ids):
        raise LabError(f"Step {step} is outside the output (it has {len(out_ids)} tokens; steps 0–{len(out_ids)}).")
    ids = list(prompt_ids) + list(out_ids[:step])
    logits = torch.tensor(_last_logits(backend.model_name, ids))
    p1 = torch.softmax(logits, -1)
    temperature = 1.0 if params.greedy else float(params.temperature)
    pt = torch.softmax(logits / max(temperature, 1e-5), -1)
    # the sampling filters, as transformers applies them (top-k, then top-p on the tempered distribution)
    keep = torch.ones_like(pt, dtype=torch.bool)
    order = torch.argsort(pt, descending=True)
    if params.greedy:
        keep[:] = False
        keep[order[0]] = True
    else:
        if params.top_k:
            keep[order[params.top_k:]] = False
        if params.top_p < 1.0:
            cum = torch.cumsum(pt[order], 0)
            cut = int(torch.searchsorted(cum, torch.tensor(params.top_p)).item()) + 1
            drop = order[cut:]
            keep[drop] = False
    filtered = torch.where(keep, pt, torch.zeros_like(pt))
    filtered = filtered / filtered.sum()
    top = torch.topk(p1, k)
    chosen_id = out_ids[step] if step < len(out_ids) else None
    cands = [Candidate(r + 1, int(i), _piece(tok, int(i)), float(p1[i]), float(filtered[i]), bool(keep[i]),
                       chosen_id is not None and int(i) == chosen_id)
             for r, i in enumerate(top.indices.tolist())]
    ent = float(-(p1 * torch.log2(p1.clamp_min(1e-12))).sum())
    tail = tok.decode(ids[-12:], skip_special_tokens=False)
    return NextTokenView(step, tail, temperature, cands, ent,
                         _piece(tok, chosen_id) if chosen_id is not None else None, bool(params.greedy))


def server_next_token(logprobs: Sequence[dict[str, Any]], step: int = 0,
                      params: SamplingParams = SamplingParams()) -> NextTokenView:
    """The next-token view from an OpenAI-compatible server's ``top_logprobs`` (one entry per output
    token, as :class:`~core.generation.OpenAIBackend` collects them). The server sends only its top
    alternatives, so the tempered probabilities and the top-k/top-p cut are computed over those."""
    if not logprobs:
        raise LabError("This server sent no logprobs with its answer, so the next-token view has nothing to "
                       "show (vLLM, llama.cpp's server and OpenAI send them; some servers do not).")
    if not 0 <= step < len(logprobs):
        raise LabError(f"Step {step} is outside the output (the server scored {len(logprobs)} tokens; "
                       f"steps 0–{len(logprobs) - 1}).")
    entry = logprobs[step]
    top = list(entry.get("top") or [(entry["token"], entry["logprob"])])
    top.sort(key=lambda t: -t[1])
    p1 = [math.exp(lp) for _, lp in top]
    temperature = 1.0 if params.greedy else float(params.temperature)
    scaled = [lp / max(temperature, 1e-5) for _, lp in top]
    m = max(scaled)
    weights = [math.exp(x - m) for x in scaled]
    pt = [w / sum(weights) for w in weights]
    keep = [False] * len(top)
    cum = 0.0
    for rank, p in enumerate(pt):
        limit_k = 1 if params.greedy else (params.top_k or len(top))
        if rank >= limit_k or (not params.greedy and rank > 0 and cum >= params.top_p):
            break
        keep[rank] = True
        cum += p
    kept_sum = sum(p for p, k in zip(pt, keep) if k) or 1.0
    chosen = entry["token"]
    cands = [Candidate(r + 1, -1, text, p1[r], pt[r] / kept_sum if keep[r] else 0.0, keep[r], text == chosen)
             for r, (text, _) in enumerate(top)]
    known = sum(p1)
    ent = -sum(p * math.log2(p) for p in p1 if p > 0)
    tail = "".join(e["token"] for e in logprobs[:step])[-60:] or "(the prompt)"
    return NextTokenView(step, tail, temperature, cands, ent, chosen, bool(params.greedy),
                         source=f"the server's top {len(top)} logprobs ({known:.0%} of the probability mass); "
                                "entropy and tempered p over those only")


def temperature_table(logits: Sequence[float], temperatures: Sequence[float]) -> list[list[float]]:
    """softmax(logits / T) for each T (the book's [1, 2] example: T=1 → .27/.73, T=.5 → .12/.88)."""
    rows = []
    for t in temperatures:
        scaled = [x / t for x in logits]
        m = max(scaled)
        e = [math.exp(x - m) for x in scaled]
        s = sum(e)
        rows.append([x / s for x in e])
    return rows
