"""Prompt Lab's HTML renderers. They take core dataclasses and return HTML; every user or model
string goes through :func:`core.escape.esc`."""
from __future__ import annotations

from typing import Any

from apps.manifest import Chapter
from core.escape import esc
from core.generation import Stats
from core.prompts import constrained as cons
from core.prompts import techniques as tech
from core.prompts.sweep import Sweep

MAX_CHIPS = 3000


def panel_link(chapter: Chapter, section: str) -> str:
    """A small "Book: Ch. N · section" link to the chapter's companion notebooks, for a panel."""
    return (f'<div class="prompts-legend prompts-chapter">📖 <a href="{esc(chapter.url)}" target="_blank" '
            f'rel="noopener">Ch. {chapter.number} · {esc(chapter.title)}</a> · {esc(section)}</div>')


def chip_text(text: str) -> str:
    """Token text for a chip: escaped, newlines drawn as ↵."""
    return esc(text).replace("\n", '<span class="prompts-nl">↵</span>\n')


def prompt_view_html(view: Any, max_chips: int = MAX_CHIPS) -> str:
    """The rendered prompt as token chips, with its count against the context window."""
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
    special = f'<span class="prompts-pill">{view.n_special} special tokens</span>' if view.templated else ""
    head = f'<div class="prompts-count">{fit}{special}{count}{bar}</div>'
    if view.tokens:
        chips = [f'<span class="prompts-tok {"special" if t.special else f"t{i % 2}"}" title="id {t.id}">'
                 f'{chip_text(t.text)}</span>' for i, t in enumerate(view.tokens[:max_chips])]
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
    """One line: running/stopped/done, time to first token, tokens and tokens/s."""
    if stats is None:
        return f'<div class="prompts-stats">{esc(note)}</div>'
    parts = ["⏳ generating…" if running else ("⏹ stopped" if stats.stopped else "✓ done")]
    if stats.ttft_s is not None:
        parts.append(f"time to first token <b>{stats.ttft_s * 1000:,.0f} ms</b>")
    parts.append(f"<b>{stats.n_tokens}</b> tokens in <b>{stats.seconds:.1f} s</b>")
    if not running and stats.tokens_per_s:
        parts.append(f"<b>{stats.tokens_per_s:.1f}</b> tokens/s")
    if note:
        parts.append(esc(note))
    return '<div class="prompts-stats">' + " · ".join(parts) + "</div>"


def next_token_html(view: Any) -> str:
    """The candidates table of the next-token view (or the hint before there is one)."""
    if view is None:
        return ('<div class="prompts-stats">Generate an answer, then click a token of the output (or set the '
                'output step and press “Show candidates at this step”) to see the candidates the model '
                'weighed.</div>')
    at = f"output step {view.step}" + (" (the first output token)" if view.step == 0 else "")
    sampled = ("greedy: always the top token" if view.greedy
               else f"p at T={view.temperature:g} after top-k/top-p")
    rows = []
    for c in view.candidates:
        cls = "chosen" if c.chosen else ("" if c.kept else "cut")
        rows.append(
            f'<tr class="{cls}"><td class="num">{c.rank}</td>'
            f'<td><span class="prompts-code">{chip_text(c.text)}</span>{" ◀ chosen" if c.chosen else ""}</td>'
            f'<td class="num">{c.p:.1%} <span class="prompts-pbar" style="width:{max(1, c.p * 120):.0f}px"></span></td>'
            f'<td class="num">{c.p_t:.1%} <span class="prompts-pbar t" style="width:{max(1, c.p_t * 120):.0f}px"></span></td>'
            f'<td>{"✓" if c.kept else "✗ cut"}</td></tr>')
    source = getattr(view, "source", "")
    src = f" · {esc(source)}" if source else ""
    return (f'<div class="prompts-legend">Candidates for {esc(at)} after …<span class="prompts-code">'
            f'{chip_text(view.context_tail[-60:])}</span> · entropy {view.entropy_bits:.2f} bits{src}</div>'
            f'<div class="prompts-scroll"><table class="prompts-table" id="prompts-next-table"><thead><tr>'
            f'<th>#</th><th>token</th><th>p at T=1</th><th>{sampled}</th><th>sampled from?</th>'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def example_note_html(fill: dict[str, Any]) -> str:
    """The line under "Load a book example": title, source, and what the book's model answered."""
    return (f'<div class="prompts-legend"><b>{esc(fill["title"])}</b> — {esc(fill["source"])}. '
            f'Book output (Phi-3): <i>{esc(fill["book_output"])}</i></div>')


def sweep_html(state: Sweep | None) -> str:
    """The sweep grid: one cell per (temperature, top_p) with its samples and how many differ."""
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
    """Votes per answer (✓ on the known answer of a book example), the majority, each sample."""
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
    """Each chain step's prompt and output."""
    if not steps:
        return ""
    return "".join(
        f'<div class="prompts-step"><span class="lbl">Step {s.index} prompt</span>{esc(s.prompt)}</div>'
        f'<div class="prompts-step out"><span class="lbl">'
        f'Step {s.index} output{"" if s.done else " ⏳"}</span>{esc(s.output)}</div>' for s in steps)


def verify_html(text: str, done: bool) -> str:
    """The verifier's reply, with the VALID/INVALID verdict once it is finished."""
    body = f'<div class="prompts-step">{esc(text)}</div>'
    if not done:
        return body
    ok = text.strip().upper().startswith("VALID")
    return f'<div class="prompts-verdict {"ok" if ok else "bad"}">{"✓ VALID" if ok else "✗ INVALID"}</div>' + body


def validation_html(v: cons.Validation | None, enforced: str = "") -> str:
    """✓/✗ with the validator's message and errors, and how the constraint was applied."""
    if v is None:
        return ""
    errs = "".join(f"<li>{esc(e)}</li>" for e in v.errors[:10])
    extra = f"<ul>{errs}</ul>" if errs else ""
    how = f'<div class="prompts-legend">{esc(enforced)}</div>' if enforced else ""
    return (f'<div class="prompts-verdict {"ok" if v.ok else "bad"}" id="prompts-validation">'
            f'{"✓" if v.ok else "✗"} {esc(v.message)}{extra}</div>{how}')
