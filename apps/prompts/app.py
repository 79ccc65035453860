"""🧪 Prompt Lab (book ch. 3, 6, 7): see the prompt the model really gets, steer sampling, try the
book's prompting techniques and grammar-constrained output.

Layout and wiring only; the logic lives in :mod:`core.generation` and :mod:`core.prompts`.
Every event is named ``prompts_<action>``; generating events stream and can be stopped.
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any, Iterator

import gradio as gr

from apps.prompts import MANIFEST
from apps.common import HEAVY, app_title, esc, heavy_limit, user_errors, warn_html
from core.errors import LabError
from core.prompts import constrained as cons
from core.prompts import examples as book
from core.prompts import techniques as tech
from core.prompts.run import LOCAL, REMOTE, Stats, UserStop, chat_models, make_backend, sampling, timed_stream
from core.prompts.sweep import Sweep, parse_values, sweep
from core.settings import get_settings

SLUG = "prompts"
UPDATE_EVERY_S = 0.04  # at most ~25 streamed UI updates per second

CSS = MANIFEST.css

# --------------------------------------------------------------------------------------------
# per-session stop events (the Stop buttons)
# --------------------------------------------------------------------------------------------

_STOPS: dict[str, UserStop] = {}
_STOPS_LOCK = threading.Lock()


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "default"


def _new_stop(request: gr.Request | None) -> UserStop:
    event = UserStop()
    with _STOPS_LOCK:
        _STOPS[_session(request)] = event
    return event


def _release(request: gr.Request | None, event: threading.Event) -> None:
    with _STOPS_LOCK:
        if _STOPS.get(_session(request)) is event:
            del _STOPS[_session(request)]


def stop_generation(request: gr.Request) -> str:
    with _STOPS_LOCK:
        event = _STOPS.get(_session(request))
    if event is None:
        return "Nothing is running."
    event.request()
    return "Stopped."


# --------------------------------------------------------------------------------------------
# HTML rendering (results are core dataclasses; every user/model string goes through esc())
# --------------------------------------------------------------------------------------------

def _chip_text(text: str) -> str:
    return esc(text).replace("\n", '<span class="prompts-nl">↵</span>\n')


def prompt_view_html(view: Any, max_chips: int = 3000) -> str:
    if view is None:
        return '<div class="prompts-stats">The rendered prompt appears here.</div>'
    used = view.n_tokens
    if view.window:
        pct_used = min(100.0, 100.0 * used / view.window)
        pct_res = max(0.0, min(100.0 - pct_used, 100.0 * view.max_new_tokens / view.window))
        bar = (f'<div class="prompts-bar{" over" if not view.fits else ""}" title="prompt + reserved new tokens">'
               f'<div class="used" style="width:{pct_used:.2f}%"></div>'
               f'<div class="reserved" style="width:{pct_res:.2f}%"></div></div>')
        count = (f'<span><b>{used:,}</b> prompt tokens + <b>{view.max_new_tokens:,}</b> new '
                 f'/ <b>{view.window:,}</b> context window</span>')
    else:
        bar = ""
        count = f'<span>≈ <b>{used:,}</b> tokens (server-side template)</span>'
    fit = ('<span class="prompts-pill ok">fits</span>' if view.fits
           else '<span class="prompts-pill bad">too long</span>')
    special = (f'<span class="prompts-pill">{view.n_special} special tokens</span>' if view.templated else "")
    head = f'<div class="prompts-count">{fit}{special}{count}{bar}</div>'
    if view.tokens:
        chips = []
        for i, t in enumerate(view.tokens[:max_chips]):
            cls = "special" if t.special else f"t{i % 2}"
            chips.append(f'<span class="prompts-tok {cls}" title="id {t.id}">{_chip_text(t.text)}</span>')
        more = (f'<span class="prompts-legend"> … {len(view.tokens) - max_chips:,} more tokens</span>'
                if len(view.tokens) > max_chips else "")
        body = f'<div class="prompts-view" id="prompts-rendered">{"".join(chips)}{more}</div>'
        legend = ('<div class="prompts-legend">Each chip is one token (hover for its id); '
                  '<span class="prompts-tok special">special</span> tokens come from the chat template; '
                  '↵ is a newline.</div>')
    else:
        body = f'<div class="prompts-view" id="prompts-rendered">{esc(view.text)}</div>'
        legend = ""
    notes = "".join(f'<div class="prompts-legend">{esc(n)}</div>' for n in view.notes)
    return head + body + legend + notes


def stats_html(stats: Stats | None, running: bool = False, note: str = "") -> str:
    if stats is None:
        return f'<div class="prompts-stats">{esc(note)}</div>'
    parts = []
    if running:
        parts.append("⏳ generating…")
    elif stats.stopped:
        parts.append("⏹ stopped")
    else:
        parts.append("✓ done")
    if stats.ttft_s is not None:
        parts.append(f"time to first token <b>{stats.ttft_s * 1000:,.0f} ms</b>")
    parts.append(f"<b>{stats.n_tokens}</b> tokens in <b>{stats.seconds:.1f} s</b>")
    if not running and stats.tokens_per_s:
        parts.append(f"<b>{stats.tokens_per_s:.1f}</b> tokens/s")
    if note:
        parts.append(esc(note))
    return '<div class="prompts-stats">' + " · ".join(parts) + "</div>"


def next_token_html(view: Any) -> str:
    if view is None:
        return ('<div class="prompts-stats">Generate with a local model, then click a token of the output '
                '(or press “Step 1”) to see the candidates the model weighed.</div>')
    at = "the first output token" if view.step == 0 else f"output step {view.step + 1}"
    sampled = ("greedy: always the top token" if view.greedy
               else f"p at T={view.temperature:g} after top-k/top-p")
    rows = []
    for c in view.candidates:
        cls = "chosen" if c.chosen else ("" if c.kept else "cut")
        rows.append(
            f'<tr class="{cls}"><td class="num">{c.rank}</td>'
            f'<td><span class="prompts-code">{_chip_text(c.text)}</span>{" ◀ chosen" if c.chosen else ""}</td>'
            f'<td class="num">{c.p:.1%} <span class="prompts-pbar" style="width:{max(1, c.p * 120):.0f}px"></span></td>'
            f'<td class="num">{c.p_t:.1%} <span class="prompts-pbar t" style="width:{max(1, c.p_t * 120):.0f}px"></span></td>'
            f'<td>{"✓" if c.kept else "✗ cut"}</td></tr>')
    return (f'<div class="prompts-legend">Candidates for {esc(at)} after …<span class="prompts-code">'
            f'{_chip_text(view.context_tail[-60:])}</span> · entropy {view.entropy_bits:.2f} bits</div>'
            f'<table class="prompts-table" id="prompts-next-table"><thead><tr><th>#</th><th>token</th>'
            f'<th>p at T=1</th><th>{sampled}</th><th>sampled from?</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def sweep_html(state: Sweep | None) -> str:
    if state is None:
        return ""
    cols = len(state.top_ps)
    head = "".join(f'<div class="prompts-legend"><b>top_p = {p:g}</b></div>' for p in state.top_ps)
    cells = []
    for t in state.temperatures:
        for p in state.top_ps:
            c = state.cell(t, p)
            items = "".join(f"<li>{esc(s.strip()) or '…'}</li>" for s in c.samples)
            cells.append(f'<div class="prompts-cell"><h4>T = {t:g} · top_p = {p:g} · {c.distinct}/'
                         f'{len(c.samples)} distinct</h4><ol>{items}</ol></div>')
    status = "✓ done" if state.finished else f"⏳ {state.done} of {len(state.cells) * state.n} samples"
    return (f'<div class="prompts-stats">{status}</div>'
            f'<div class="prompts-grid" style="grid-template-columns:repeat({cols}, minmax(0, 1fr))">{head}'
            f'{"".join(cells)}</div>')


def self_consistency_html(state: tech.SelfConsistency | None, expected: str | None = None) -> str:
    if state is None:
        return ""
    vote = state.vote
    bars = "".join(
        f'<tr><td><b>{esc(a)}</b>{" ✓" if expected and a == expected else ""}</td><td class="num">{n}</td>'
        f'<td><span class="prompts-pbar" style="width:{max(4, 200 * n / max(1, vote.n)):.0f}px"></span></td></tr>'
        for a, n in vote.counts)
    winner = (f'<div class="prompts-verdict ok">Majority answer: <b>{esc(vote.winner)}</b> '
              f'({vote.counts[0][1]} of {vote.n} samples)</div>' if state.finished and vote.winner is not None else "")
    samples = "".join(
        f'<div class="prompts-step"><span class="lbl">Sample {s.index} (seed {s.seed}) → answer: '
        f'{esc(s.answer) if s.answer is not None else ("…" if not s.done else "none found")}</span>{esc(s.text)}</div>'
        for s in state.samples)
    table = (f'<table class="prompts-table"><thead><tr><th>answer</th><th>votes</th><th></th></tr></thead>'
             f'<tbody>{bars}</tbody></table>') if bars else ""
    return winner + table + samples


def chain_html(steps: list[tech.ChainStep] | None) -> str:
    if not steps:
        return ""
    return "".join(
        f'<div class="prompts-step"><span class="lbl">Step {s.index} prompt</span>{esc(s.prompt)}</div>'
        f'<div class="prompts-step" style="border-color:#14b8a6"><span class="lbl" style="color:#0f766e">'
        f'Step {s.index} output{"" if s.done else " ⏳"}</span>{esc(s.output)}</div>' for s in steps)


def validation_html(v: cons.Validation | None, enforced: str = "") -> str:
    if v is None:
        return ""
    cls = "ok" if v.ok else "bad"
    errs = "".join(f"<li>{esc(e)}</li>" for e in v.errors[:10])
    extra = f"<ul>{errs}</ul>" if errs else ""
    how = f'<div class="prompts-legend">{esc(enforced)}</div>' if enforced else ""
    return f'<div class="prompts-verdict {cls}" id="prompts-validation">{"✓" if v.ok else "✗"} {esc(v.message)}{extra}</div>{how}'


# --------------------------------------------------------------------------------------------
# handlers
# --------------------------------------------------------------------------------------------

def _text_of(content: Any) -> str:
    """Chatbot content (str, or gradio 6's list of blocks) → plain text."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", "")) if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        return "".join(_text_of(c) for c in content)
    return ""


def _history(history: Any) -> list[dict[str, str]]:
    msgs = []
    for m in history or []:
        role = m.get("role") if isinstance(m, dict) else getattr(m, "role", None)
        content = m.get("content") if isinstance(m, dict) else getattr(m, "content", "")
        if role in ("user", "assistant", "system"):
            msgs.append({"role": role, "content": _text_of(content)})
    return msgs


def _messages(system: str, history: Any, prompt: str, keep_chat: bool) -> list[dict[str, str]]:
    if not (prompt or "").strip():
        raise LabError("The prompt is empty: type something for the model to answer.")
    msgs = [{"role": "system", "content": system.strip()}] if (system or "").strip() else []
    if keep_chat:
        msgs += [m for m in _history(history) if m["role"] != "system"]
    msgs.append({"role": "user", "content": prompt.strip()})
    return msgs


def _backend(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str) -> Any:
    return make_backend(kind, model_name, base_url, remote_model, api_key)


def _is_local(backend: Any) -> bool:
    from core.generation import LocalBackend

    return isinstance(backend, LocalBackend)


@user_errors
def render_prompt(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str,
                  system: str, prompt: str, keep_chat: bool, history: Any, max_new_tokens: float) -> str:
    from core.prompts.view import prompt_view

    backend = _backend(kind, model_name, base_url, remote_model, api_key)
    return prompt_view_html(prompt_view(backend, _messages(system, history, prompt, keep_chat), int(max_new_tokens)))


@user_errors
def generate(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str,
             system: str, prompt: str, keep_chat: bool, history: Any,
             temperature: float, top_p: float, top_k: float, max_new_tokens: float, repetition_penalty: float,
             seed: Any, greedy: bool, request: gr.Request) -> Iterator[tuple[Any, ...]]:
    """Stream an answer. Outputs: chat, output text, stats, rendered prompt, output tokens, state."""
    from core.prompts.view import check_fits, output_tokens, prompt_view

    backend = _backend(kind, model_name, base_url, remote_model, api_key)
    params = sampling(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, greedy)
    msgs = _messages(system, history, prompt, keep_chat)
    view = prompt_view(backend, msgs, params.max_new_tokens)
    check_fits(view)
    chat = (_history(history) if keep_chat else []) + [{"role": "user", "content": prompt.strip()},
                                                        {"role": "assistant", "content": ""}]
    chat = [m for m in chat if m["role"] != "system"]
    stop = _new_stop(request)
    stats = Stats()
    text = ""
    view_text = prompt_view_html(view)
    yield chat, "", stats_html(stats, running=True), view_text, [], None
    try:
        last_sent = 0.0
        for piece in timed_stream(backend, msgs, params, stop=stop, stats=stats):
            text += piece
            now = time.perf_counter()
            if now - last_sent >= UPDATE_EVERY_S:  # fast models: coalesce pieces, fewer UI updates
                last_sent = now
                chat[-1]["content"] = text
                yield chat, text, stats_html(stats, running=True), gr.skip(), gr.skip(), gr.skip()
        chat[-1]["content"] = text
    finally:
        _release(request, stop)
    tokens = [(t.text, None) for t in output_tokens(backend, text)] if _is_local(backend) else []
    state = {"messages": msgs, "output": text, "model": getattr(backend, "model_name", None)}
    note = "" if text.strip() else "The model returned no text (it ended immediately)."
    yield chat, text, stats_html(stats, note=note), view_text, tokens, state


@user_errors
def next_token_view(state: Any, step: float, temperature: float, top_p: float, top_k: float,
                    greedy: bool) -> str:
    from core.generation import LocalBackend
    from core.prompts.view import next_token

    if not state or not state.get("messages"):
        raise LabError("Generate something first: the next-token view looks at the last prompt and output.")
    if not state.get("model"):
        raise LabError("The next-token view needs a local model: OpenAI-compatible servers do not send the "
                       "full probability distribution.")
    params = sampling(temperature, top_p, top_k, 1, 1.0, None, greedy)
    view = next_token(LocalBackend(state["model"]), state["messages"], state.get("output", ""), int(step), params)
    return next_token_html(view)


def select_token(state: Any, temperature: float, top_p: float, top_k: float, greedy: bool,
                 evt: gr.SelectData) -> tuple[int, str]:
    index = evt.index if isinstance(evt.index, int) else (evt.index[0] if evt.index else 0)
    return int(index), next_token_view(state, int(index), temperature, top_p, top_k, greedy)


def apply_preset(name: str) -> tuple[Any, Any, Any]:
    preset = book.presets().get(name)
    if not preset:
        return gr.skip(), gr.skip(), gr.skip()
    return preset["temperature"], preset["top_p"], False


def load_example(example_id: str) -> tuple[Any, ...]:
    """Fill the Generate tab from a book example: prompt, earlier turns, greedy and max_new_tokens."""
    if not example_id:
        return (gr.skip(),) * 7
    ex = book.example(example_id)
    msgs = ex["messages"]
    params = ex.get("params", {})
    earlier = [m for m in msgs[:-1] if m["role"] != "system"]
    note = (f'<div class="prompts-legend"><b>{esc(ex["title"])}</b> — {esc(ex["source"])}. '
            f'Book output (Phi-3): <i>{esc(ex.get("book_output", ""))}</i></div>')
    return (msgs[-1]["content"], earlier, bool(earlier), bool(params.get("greedy", False)),
            int(params.get("max_new_tokens", 64)), note, gr.skip())


@user_errors
def run_sweep(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
              prompt: str, temps: str, top_ps: str, n: float, max_new_tokens: float, top_k: float,
              repetition_penalty: float, seed: Any, request: gr.Request) -> Iterator[str]:
    backend = _backend(kind, model_name, base_url, remote_model, api_key)
    msgs = _messages(system, [], prompt, False)
    t_values = parse_values(temps, "temperature", 0.0, 5.0)
    p_values = parse_values(top_ps, "top_p", 0.0, 1.0)
    params = sampling(1.0, 1.0, top_k, max_new_tokens, repetition_penalty, 0 if seed in (None, "") else seed, False)
    stop = _new_stop(request)
    try:
        for state in sweep(backend, msgs, t_values, p_values, int(n), params, stop=stop):
            yield sweep_html(state)
    finally:
        _release(request, stop)


@user_errors
def assemble_components(enabled: list[str], *values: str) -> str:
    return tech.assemble(dict(zip(tech.COMPONENTS, values)), enabled)


def _examples_rows(rows: Any) -> list[list[str]]:
    if rows is None:
        return []
    if hasattr(rows, "values") and hasattr(rows, "columns"):  # pandas DataFrame
        rows = rows.values.tolist()
    elif isinstance(rows, dict) and "data" in rows:
        rows = rows["data"]
    return [[str(c or "") for c in r] for r in rows]


@user_errors
def build_technique(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
                    technique: str, question: str, examples: Any, trigger: str) -> str:
    from core.prompts.view import prompt_view

    backend = _backend(kind, model_name, base_url, remote_model, api_key)
    msgs = tech.technique_messages(technique, question, _examples_rows(examples), trigger, system)
    return prompt_view_html(prompt_view(backend, msgs, 0))


@user_errors
def run_technique(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
                  technique: str, question: str, examples: Any, trigger: str,
                  temperature: float, top_p: float, top_k: float, max_new_tokens: float, repetition_penalty: float,
                  seed: Any, greedy: bool, request: gr.Request) -> Iterator[tuple[str, str, str]]:
    from core.prompts.view import check_fits, prompt_view

    backend = _backend(kind, model_name, base_url, remote_model, api_key)
    params = sampling(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, greedy)
    msgs = tech.technique_messages(technique, question, _examples_rows(examples), trigger, system)
    view = prompt_view(backend, msgs, params.max_new_tokens)
    check_fits(view)
    stop = _new_stop(request)
    stats = Stats()
    text = ""
    view_text = prompt_view_html(view)
    yield view_text, "", stats_html(stats, running=True)
    try:
        for piece in timed_stream(backend, msgs, params, stop=stop, stats=stats):
            text += piece
            yield gr.skip(), text, stats_html(stats, running=True)
    finally:
        _release(request, stop)
    answer = tech.extract_answer(text)
    yield view_text, text, stats_html(stats, note=f"extracted answer: {answer}" if answer else "no answer extracted")


@user_errors
def run_self_consistency(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
                         technique: str, question: str, examples: Any, trigger: str, n: float,
                         temperature: float, top_p: float, top_k: float, max_new_tokens: float,
                         repetition_penalty: float, seed: Any, request: gr.Request) -> Iterator[str]:
    backend = _backend(kind, model_name, base_url, remote_model, api_key)
    params = sampling(temperature, top_p, top_k, max_new_tokens, repetition_penalty,
                      0 if seed in (None, "") else seed, False)
    msgs = tech.technique_messages(technique, question, _examples_rows(examples), trigger, system)
    expected = "9" if "cafeteria" in (question or "").lower() else None
    stop = _new_stop(request)
    try:
        for state in tech.self_consistency(backend, msgs, params, int(n), stop=stop):
            yield self_consistency_html(state, expected)
    finally:
        _release(request, stop)


@user_errors
def run_chain(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
              steps_text: str, user_input: str, temperature: float, top_p: float, top_k: float,
              max_new_tokens: float, repetition_penalty: float, seed: Any, greedy: bool,
              request: gr.Request) -> Iterator[str]:
    backend = _backend(kind, model_name, base_url, remote_model, api_key)
    params = sampling(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, greedy)
    templates = tech.parse_chain(steps_text)
    stop = _new_stop(request)
    try:
        for steps in tech.run_chain(backend, templates, params, user_input, system, stop=stop):
            yield chain_html(steps)
    finally:
        _release(request, stop)


@user_errors
def run_verify(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str,
               task: str, answer: str, request: gr.Request) -> Iterator[str]:
    """Output verification (§6.5): a second call judges the first output, its verdict constrained
    to VALID/INVALID plus one sentence on local models."""
    from core.generation import SamplingParams

    backend = _backend(kind, model_name, base_url, remote_model, api_key)
    msgs = tech.verification_messages(task, answer)
    params = SamplingParams(max_new_tokens=48, greedy=True, temperature=1.0)
    kw: dict[str, Any] = {}
    if _is_local(backend):
        constraint = cons.Constraint("regex", r"(VALID|INVALID)\. [A-Za-z0-9 ,'()+=\-]{1,120}\.")
        kw["logits_processors"] = [cons.logits_processor(constraint, backend.model_name)]
    stop = _new_stop(request)
    text = ""
    try:
        for piece in backend.stream(msgs, params, stop=stop, **kw):
            text += piece
            yield f'<div class="prompts-step">{esc(text)}</div>'
    finally:
        _release(request, stop)
    ok = text.strip().upper().startswith("VALID")
    yield (f'<div class="prompts-verdict {"ok" if ok else "bad"}">{"✓ VALID" if ok else "✗ INVALID"}</div>'
           f'<div class="prompts-step">{esc(text)}</div>')


@user_errors
def run_constrained(kind: str, model_name: str, base_url: str, remote_model: str, api_key: str, system: str,
                    prompt: str, c_kind: str, spec: str, enforce: bool,
                    temperature: float, top_p: float, top_k: float, max_new_tokens: float,
                    repetition_penalty: float, seed: Any, greedy: bool,
                    request: gr.Request) -> Iterator[tuple[str, str, str]]:
    backend = _backend(kind, model_name, base_url, remote_model, api_key)
    params = sampling(temperature, top_p, top_k, max_new_tokens, repetition_penalty, seed, greedy)
    constraint = cons.Constraint({"JSON Schema": "json", "Choice": "choice", "Regex": "regex"}.get(c_kind, c_kind), spec)
    kw: dict[str, Any] = {}
    text_prompt = prompt
    if not enforce:
        how = "Not enforced: the model generated freely; the output was only checked afterwards."
        if constraint.kind == "json":
            cons.parse_schema(constraint.spec)
    elif _is_local(backend):
        kw["logits_processors"] = [cons.logits_processor(constraint, backend.model_name)]
        how = "Enforced during decoding by llguidance: tokens the grammar forbids were masked at every step."
    else:
        fmt = cons.response_format(constraint)
        if fmt:
            kw["response_format"] = fmt
            how = "Requested from the server's JSON mode (response_format json_schema); checked afterwards."
        else:
            how = "Servers cannot enforce choices or regexes: the prompt asks for it and the output is checked."
            text_prompt = (prompt or "") + cons.prompt_hint(constraint)
    msgs = _messages(system, [], text_prompt, False)
    stop = _new_stop(request)
    stats = Stats()
    text = ""
    yield "", stats_html(stats, running=True), ""
    try:
        for piece in timed_stream(backend, msgs, params, stop=stop, stats=stats, **kw):
            text += piece
            yield text, stats_html(stats, running=True), ""
    finally:
        _release(request, stop)
    v = cons.validate(text, constraint)
    if v.ok and isinstance(v.value, (dict, list)):
        text = json.dumps(v.value, indent=2, ensure_ascii=False)
    yield text, stats_html(stats), validation_html(v, how)


def constraint_example(c_kind: str) -> tuple[str, str]:
    if c_kind == "Choice":
        return "Is 'A dull, lifeless film.' positive or negative?", "positive\nnegative"
    if c_kind == "Regex":
        return "When was the first moon landing? Answer as YYYY-MM-DD.", r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    ex = book.example("rpg-json")
    return ex["messages"][-1]["content"], json.dumps(ex["constraint"]["spec"], indent=2)


# --------------------------------------------------------------------------------------------
# layout
# --------------------------------------------------------------------------------------------

def build() -> gr.Blocks:
    settings = get_settings()
    models = chat_models()
    default_model = "chat-phi3-mini" if not settings.offline else "chat-smollm2-135m"
    presets = list(book.presets())
    comps = book.components()
    heavy = {"concurrency_id": HEAVY, "concurrency_limit": heavy_limit()}
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        with gr.Accordion("Model & backend", open=False):
            with gr.Row():
                kind = gr.Radio([LOCAL, REMOTE], value=LOCAL, label="Backend", scale=1)
                model_name = gr.Dropdown(models, value=default_model, label="Local chat model", scale=2)
            with gr.Row(visible=False) as remote_row:
                base_url = gr.Textbox(settings.openai.base_url, label="Base URL",
                                      placeholder="http://localhost:11434/v1 (Ollama), https://api.openai.com/v1 …")
                remote_model = gr.Textbox(settings.openai.model, label="Model", placeholder="gpt-4o-mini, llama3.2 …")
                api_key = gr.Textbox("", label="API key (kept only in this browser session)", type="password")
            system = gr.Textbox("", label="System prompt (optional)", lines=1)
        with gr.Accordion("Sampling", open=True):
            with gr.Row():
                preset = gr.Dropdown(presets, value=None, label="Preset (book Table 6-1)", scale=2)
                greedy = gr.Checkbox(False, label="Greedy (do_sample=False)", scale=1)
                seed = gr.Number(0, label="Seed (empty = random)", precision=0, scale=1)
            with gr.Row():
                temperature = gr.Slider(0.05, 2.0, 0.7, step=0.05, label="temperature")
                top_p = gr.Slider(0.05, 1.0, 1.0, step=0.05, label="top_p")
                top_k = gr.Slider(0, 200, 50, step=1, label="top_k (0 = off)")
                max_new = gr.Slider(1, settings.limits.max_new_tokens, 64, step=1, label="max_new_tokens")
                rep = gr.Slider(0.5, 2.0, 1.0, step=0.05, label="repetition penalty")
        backend_in = [kind, model_name, base_url, remote_model, api_key]
        samp_in = [temperature, top_p, top_k, max_new, rep, seed, greedy]
        stop_status = gr.Textbox(visible=False)

        with gr.Tabs():
            # ---------------------------------------------------------------- Generate
            with gr.Tab("Generate", id="prompts-generate"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        example_dd = gr.Dropdown([(e["title"], e["id"]) for e in book.examples()], value=None,
                                                 label="Load a book example")
                        example_note = gr.HTML("")
                        chatbot = gr.Chatbot(label="Conversation", height=300, elem_id="prompts-chat",
                                             buttons=["copy"])
                        prompt = gr.Textbox("Create a funny joke about chickens.", label="Prompt", lines=3,
                                            elem_id="prompts-prompt")
                        keep_chat = gr.Checkbox(False, label="Chat: keep the conversation (otherwise each prompt is single-turn)")
                        with gr.Row():
                            gen_btn = gr.Button("Generate", variant="primary", elem_id="prompts-generate-btn")
                            stop_btn = gr.Button("Stop", variant="stop")
                            render_btn = gr.Button("Show rendered prompt")
                            clear_btn = gr.Button("Clear chat")
                        stats = gr.HTML(stats_html(None, note="Pick a model, type a prompt, Generate."))
                        output = gr.Textbox(label="Output (raw text)", lines=3, interactive=False,
                                            elem_id="prompts-output")
                    with gr.Column(scale=6):
                        gr.Markdown("**The rendered prompt** — what the model receives, chat template applied")
                        view_html = gr.HTML(prompt_view_html(None), elem_id="prompts-view")
                        gr.Markdown("**Next-token view** — click any token of the output to see what the model "
                                    "weighed at that step, and what temperature/top-p do to it")
                        out_tokens = gr.HighlightedText(label="Output tokens (click one)", combine_adjacent=False,
                                                        show_legend=False, elem_id="prompts-out-tokens")
                        with gr.Row():
                            step = gr.Number(0, label="Output step (0 = first token)", precision=0, minimum=0)
                            step_btn = gr.Button("Show candidates at this step")
                        next_html = gr.HTML(next_token_html(None), elem_id="prompts-next")
                last = gr.State(None)

            # ---------------------------------------------------------------- Sweep
            with gr.Tab("Sampling sweep", id="prompts-sweep"):
                gr.Markdown("One prompt over a grid of **temperature × top_p**, N samples per cell (sample *j* "
                            "of every cell uses seed + *j*, so cells differ only by the two knobs).")
                with gr.Row():
                    sw_prompt = gr.Textbox("Create a funny joke about chickens.", label="Prompt", scale=3)
                    sw_t = gr.Textbox("0.3, 1.0, 1.6", label="temperatures", scale=1)
                    sw_p = gr.Textbox("0.5, 1.0", label="top_p values", scale=1)
                    sw_n = gr.Slider(1, 5, 2, step=1, label="samples per cell", scale=1)
                    sw_max = gr.Slider(4, 128, 24, step=1, label="max_new_tokens", scale=1)
                with gr.Row():
                    sw_btn = gr.Button("Run sweep", variant="primary")
                    sw_stop = gr.Button("Stop", variant="stop")
                sw_out = gr.HTML("")

            # ---------------------------------------------------------------- Techniques
            with gr.Tab("Techniques", id="prompts-techniques"):
                with gr.Accordion("Prompt components (§6.3.1): toggle, edit, assemble", open=False):
                    enabled = gr.CheckboxGroup(list(tech.COMPONENTS), value=list(tech.COMPONENTS),
                                               label="Components used (in this order)")
                    comp_boxes = [gr.Textbox(comps.get(c, ""), label=c, lines=1) for c in tech.COMPONENTS]
                    assemble_btn = gr.Button("Assemble into the question below")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        technique = gr.Radio([(v, k) for k, v in tech.TECHNIQUES.items()], value="zero-shot-cot",
                                             label="Technique")
                        question = gr.Textbox(book.example("cafeteria-cot")["messages"][-1]["content"],
                                              label="Question / task", lines=3)
                        trigger = gr.Dropdown(list(tech.COT_TRIGGERS), value=tech.ZERO_SHOT_COT,
                                              allow_custom_value=True, label="Zero-shot CoT trigger")
                        shots = gr.Dataframe(
                            value=[list(tech.COT_EXAMPLE)], headers=["user", "assistant"], column_count=(2, "fixed"),
                            row_count=(1, "dynamic"), interactive=True, wrap=True,
                            label="Examples for one/few-shot and CoT (add rows for few-shot)")
                        with gr.Row():
                            t_build = gr.Button("Show prompt")
                            t_run = gr.Button("Run", variant="primary")
                            t_stop = gr.Button("Stop", variant="stop")
                        t_stats = gr.HTML("")
                        t_out = gr.Textbox(label="Output", lines=6, interactive=False)
                    with gr.Column(scale=5):
                        t_view = gr.HTML(prompt_view_html(None))
                with gr.Accordion("Self-consistency (§6.4.2): N sampled reasoning paths, majority vote", open=False):
                    with gr.Row():
                        sc_n = gr.Slider(1, 10, 5, step=1, label="samples (N)")
                        sc_btn = gr.Button("Run self-consistency with the technique above", variant="primary")
                    sc_out = gr.HTML("")
                with gr.Accordion("Chain prompting (§6.3.3): each step's output feeds the next", open=False):
                    chain_steps = gr.Textbox("\n---\n".join(book.chain_steps()), lines=4,
                                             label="Steps (separate with a line ---; use {previous}, {step1}, {input})")
                    chain_input = gr.Textbox("", label="{input} (optional)")
                    chain_btn = gr.Button("Run chain", variant="primary")
                    chain_out = gr.HTML("")
                with gr.Accordion("Output verification (§6.5): a second call checks the output", open=False):
                    ver_btn = gr.Button("Verify the output above against the question")
                    ver_out = gr.HTML("")

            # ---------------------------------------------------------------- Constrained
            with gr.Tab("Constrained output", id="prompts-constrained"):
                gr.Markdown("Output that **must** match a JSON Schema, one of a few choices, or a regex. Local "
                            "models: enforced token by token with llguidance. Servers: JSON mode. Always validated.")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        c_kind = gr.Radio(["JSON Schema", "Choice", "Regex"], value="JSON Schema", label="Constraint")
                        rpg_prompt, rpg_spec = constraint_example("JSON Schema")
                        c_prompt = gr.Textbox(rpg_prompt, label="Prompt", lines=2)
                        c_spec = gr.Code(rpg_spec, language="json", label="Schema / options / regex", lines=10)
                        c_enforce = gr.Checkbox(True, label="Enforce during decoding (untick to see the unconstrained output)")
                        with gr.Row():
                            c_run = gr.Button("Generate", variant="primary")
                            c_stop = gr.Button("Stop", variant="stop")
                    with gr.Column(scale=5):
                        c_stats = gr.HTML("")
                        c_valid = gr.HTML("")
                        c_out = gr.Code("", language="json", label="Output", lines=10, interactive=False)

        # ------------------------------------------------------------------------ wiring
        kind.change(lambda k: (gr.update(visible=k == REMOTE), gr.update(visible=k == LOCAL)), kind,
                    [remote_row, model_name], api_name="prompts_backend", show_progress="hidden")
        preset.change(apply_preset, preset, [temperature, top_p, greedy], api_name="prompts_preset")
        example_dd.change(load_example, example_dd,
                          [prompt, chatbot, keep_chat, greedy, max_new, example_note, last], api_name="prompts_example")
        render_btn.click(render_prompt, backend_in + [system, prompt, keep_chat, chatbot, max_new], view_html,
                         api_name="prompts_render", **heavy)
        gen_args = dict(fn=generate, inputs=backend_in + [system, prompt, keep_chat, chatbot] + samp_in,
                        outputs=[chatbot, output, stats, view_html, out_tokens, last], **heavy)
        gen_btn.click(api_name="prompts_generate", **gen_args)
        prompt.submit(api_name="prompts_generate_submit", api_visibility="private", **gen_args)
        stop_btn.click(stop_generation, None, stop_status, api_name="prompts_stop", queue=False)
        for b in (sw_stop, t_stop, c_stop):
            b.click(stop_generation, None, stop_status, api_visibility="private", queue=False)
        clear_btn.click(lambda: ([], "", [], None, next_token_html(None)), None,
                        [chatbot, output, out_tokens, last, next_html], api_name="prompts_clear")
        nt_in = [last, step, temperature, top_p, top_k, greedy]
        step_btn.click(next_token_view, nt_in, next_html, api_name="prompts_next_token", **heavy)
        out_tokens.select(select_token, [last, temperature, top_p, top_k, greedy], [step, next_html],
                          api_visibility="private", **heavy)
        sw_btn.click(run_sweep, backend_in + [system, sw_prompt, sw_t, sw_p, sw_n, sw_max, top_k, rep, seed], sw_out,
                     api_name="prompts_sweep", **heavy)
        assemble_btn.click(assemble_components, [enabled] + comp_boxes, question, api_name="prompts_assemble")
        t_common = backend_in + [system, technique, question, shots, trigger]
        t_build.click(build_technique, t_common, t_view, api_name="prompts_technique_prompt", **heavy)
        t_run.click(run_technique, t_common + samp_in, [t_view, t_out, t_stats], api_name="prompts_technique",
                    **heavy)
        sc_btn.click(run_self_consistency, t_common + [sc_n] + samp_in[:-1], sc_out,
                     api_name="prompts_self_consistency", **heavy)
        chain_btn.click(run_chain, backend_in + [system, chain_steps, chain_input] + samp_in, chain_out,
                        api_name="prompts_chain", **heavy)
        ver_btn.click(run_verify, backend_in + [question, t_out], ver_out, api_name="prompts_verify", **heavy)
        c_kind.change(constraint_example, c_kind, [c_prompt, c_spec], api_name="prompts_constraint_example")
        c_run.click(run_constrained, backend_in + [system, c_prompt, c_kind, c_spec, c_enforce] + samp_in,
                    [c_out, c_stats, c_valid], api_name="prompts_constrained", **heavy)
    return demo

