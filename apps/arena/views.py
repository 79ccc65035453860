"""HTML and Markdown views of the arena: answer columns, reveal, KPIs, judge summary, room banners."""
from __future__ import annotations

import time
from typing import Any

from core.escape import esc, esc_md


def side_md(title: str, side: Any, streaming: bool) -> str:
    """One answer column (Markdown, model text escaped: no links/images from model output)."""
    head = f'<div class="arena-side">{esc_md(title)}</div>\n\n'
    if side is None:
        return head + "*waiting for a prompt…*"
    if side.error:
        return head + f"⚠️ **This contestant failed:** {esc_md(side.error)}"
    body = side.text or ("*…thinking…*" if streaming else "*(empty answer)*")
    cursor = " ▌" if streaming and not side.done else ""
    timing = ""
    if side.done and side.latency_s is not None:
        timing = (f"\n\n<sub>first token {side.ttft_s or 0:.1f}s · total {side.latency_s:.1f}s · "
                  f"{len(side.text):,} chars</sub>")
    return head + esc_md(body) + cursor + timing


def status(text: str, note: str = "") -> str:
    extra = f'<div class="arena-note">{esc(note)}</div>' if note else ""
    return f'<div class="arena-status">{esc(text)}</div>{extra}'


def reveal(res: Any) -> str:
    v = res.vote
    win_a = "win" if v.winner == "model_a" else ""
    win_b = "win" if v.winner == "model_b" else ""
    return (f'<div class="arena-ok">{esc(res.message)}</div>'
            f'<div class="arena-reveal"><div class="{win_a}"><div class="how">Model A was</div>'
            f'<div class="who">{esc(res.label_a)}</div><div class="how">{esc(res.detail_a)}</div></div>'
            f'<div class="{win_b}"><div class="how">Model B was</div><div class="who">{esc(res.label_b)}</div>'
            f'<div class="how">{esc(res.detail_b)}</div></div></div>')


def kpis(counts: dict[str, Any], room: str, title: str = "", closed: bool = False) -> str:
    last = counts.get("last_vote_at") or 0
    ago = f"{int(time.time() - last)} s ago" if last else "—"
    items = [("votes", counts["votes"]), ("battles", counts["battles"]), ("voters", counts["voters"]),
             ("flagged", counts["flagged"]), ("last vote", ago)]
    cells = "".join(f'<div class="arena-kpi"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>'
                    for k, v in items)
    name = f" · {esc(title)}" if title else ""
    state = " · <b>closed</b>" if closed else ""
    return f'<div class="lab-note">Room <b>{esc(room)}</b>{name}{state}</div><div class="arena-kpis">{cells}</div>'


def judge_summary(ag: Any) -> str:
    cells = [(ag.judged, "battles judged (×2 orders)"), (f"{ag.consistent_rate:.0%}", "same verdict in both orders"),
             (f"{ag.first_position_rate:.0%}", "picked the answer shown first"),
             (f"{ag.agreement:.0%}", f"agrees with the human vote ({ag.with_human})")]
    body = "".join(f'<div class="arena-kpi"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>'
                   for v, k in cells)
    return (f'<div class="arena-kpis">{body}</div><div class="lab-note">A judge without position bias picks the '
            'first answer about half the time and gives the same verdict in both orders. Inconsistent verdicts '
            'count as ties (MT-Bench).</div>')


def board_note(board: Any, room: str, length_control: bool) -> str:
    if not board.rows:
        return '<div class="lab-note">No votes yet in this room: play a few battles, then refresh.</div>'
    note = f"{board.n_votes} votes counted in room <b>{esc(room or 'public')}</b>"
    if board.n_excluded:
        note += f", {board.n_excluded} flagged votes excluded (the answer named its own model)"
    note += ". "
    if length_control and board.length_coef is not None:
        note += (f"Length control on: the fit also learns a length preference (coefficient "
                 f"{board.length_coef:+.2f} log-odds per unit of normalised length difference) and ranks "
                 "contestants as if their answers were equally long. ")
    return f'<div class="lab-note">{note}</div>'


def room_banner(acc: Any | None, error: str = "") -> str:
    """Which room this page is in, and as whom."""
    if error:
        role = " participant" if acc is not None and acc.managed is not None and not acc.instructor else ""
        return f'<div class="arena-banner warn{role}">⚠️ {esc(error)}</div>'
    if acc is None or acc.managed is None:
        return ('<div class="arena-banner">Public arena: every vote counts on the public board. '
                'Instructors can open a workshop room in the 🧑‍🏫 Instructor tab.</div>')
    r = acc.managed
    who = "instructor view" if acc.instructor else "participant"
    title = f" · {esc(r.title)}" if r.title else ""
    closed = " · <b>closed: no new battles or votes</b>" if r.closed else ""
    role = "instructor" if acc.instructor else "participant"  # style.css hides instructor tabs from participants
    return f'<div class="arena-banner room {role}">Room <b>{esc(r.code)}</b>{title} · {who}{closed}</div>'


def room_links(code: str, participant: str, instructor: str) -> str:
    return (f'<div class="arena-links"><div><b>Room {esc(code)} is open.</b> Give participants this link:</div>'
            f'<code id="arena-participant-link">{esc(participant)}</code>'
            f'<div>Keep this instructor link to yourself (it holds the room\'s secret key; it is shown once):</div>'
            f'<code id="arena-instructor-link">{esc(instructor)}</code></div>')


def voters_rows(voters: list[tuple[str, int]]) -> list[list[Any]]:
    return [[f"participant {name}", n] for name, n in voters]


# texts of the page (kept here so app.py stays layout and wiring)
ELO_NOTE = ("**Elo vs Bradley–Terry.** Online Elo updates after every vote, so it depends on the order of "
    "the votes (and on K). Bradley–Terry fits all votes at once by maximum likelihood — the reason "
    "Chatbot Arena switched to it; the bootstrap resamples the votes 300 times to get the 95% "
    "intervals. Overlapping intervals mean the order is not settled yet.")
JUDGE_NOTE = ("The pairwise prompt is MT-Bench's (Zheng et al., *Judging LLM-as-a-Judge*): the judge "
    "explains, then answers [[A]], [[B]] or [[C]] for a tie. Each battle is judged twice with "
    "the answers swapped, exposing position bias.")
EXPORT_NOTE = ("Votes of the current room. The preference file has one `{prompt, chosen, rejected}` "
    "row per decisive vote (ties, 'both bad' and flagged votes dropped) — the format of the "
    "book's DPO recipe (ch. 12). CSV cells that could run as spreadsheet formulas are "
    "neutralised.")
DPO_NOTE = ("The exported pairs have the columns TRL's `DPOTrainer` expects:\n\n```python\n"
    "from datasets import load_dataset\n"
    "dpo_dataset = load_dataset(\"json\", data_files=\"arena-dpo-….jsonl\", split=\"train\")\n"
    "# the book's recipe: LoRA r=64, lora_alpha=32 on the SFT model; DPOConfig(learning_rate=1e-5,\n"
    "#   lr_scheduler_type=\"cosine\", max_steps=200, warmup_ratio=0.1, ...); beta=0.1\n```\n\n"
    "Like the book's `status != \"tie\"` filter, ties and 'both bad' votes are left out. A few "
    "hundred classroom votes are a demo, not a training set — the book's run used ~6,000 pairs.")
