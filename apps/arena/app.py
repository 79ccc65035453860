"""Pairwise Eval Arena (book ch. 12): anonymous battles, durable votes, a leaderboard with CIs.

Layout and wiring only; the logic lives in :mod:`core.arena`.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from apps.arena import MANIFEST
from apps.common import HEAVY, app_title, esc, esc_md, heavy_limit, user_errors
from core.errors import LabError

CSS = MANIFEST.css

CHOICES = [("👈 A is better", "model_a"), ("🤝 Tie", "tie"), ("👎 Both are bad", "tie (bothbad)"),
           ("B is better 👉", "model_b")]


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "api"


def _side_md(title: str, side: Any, streaming: bool) -> str:
    head = f'<div class="arena-side">{esc_md(title)}</div>\n\n'
    if side is None:
        return head + "*waiting for a prompt…*"
    if side.error:
        return head + f"⚠️ **This contestant failed:** {esc_md(side.error)}"
    body = side.text or ("*…thinking…*" if streaming else "*(empty answer)*")
    cursor = " ▌" if streaming and not side.done else ""
    timing = ""
    if side.done and side.latency_s is not None:
        timing = f"\n\n<sub>first token {side.ttft_s or 0:.1f}s · total {side.latency_s:.1f}s · {len(side.text):,} chars</sub>"
    return head + esc_md(body) + cursor + timing  # Markdown: no links/images from model text


def _frame(rows: list[list[Any]], headers: list[str]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=headers)


def _kpis(counts: dict[str, int], room: str) -> str:
    last = counts.get("last_vote_at") or 0
    ago = f"{int(time.time() - last)} s ago" if last else "—"
    items = [("votes", counts["votes"]), ("battles", counts["battles"]), ("voters", counts["voters"]),
             ("flagged", counts["flagged"]), ("last vote", ago)]
    cells = "".join(f'<div class="arena-kpi"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>'
                    for k, v in items)
    return f'<div class="lab-note">Room <b>{esc(room)}</b></div><div class="arena-kpis">{cells}</div>'


def build(arena: Any = None) -> gr.Blocks:
    from core.arena.contestants import example_prompts

    state: dict[str, Any] = {"arena": arena}

    def A() -> Any:
        if state["arena"] is None:
            from core.arena.battles import get_arena

            state["arena"] = get_arena()
        return state["arena"]

    def contestant_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        try:
            if state["arena"] is not None:
                cs = state["arena"].contestants
            else:
                from core.arena.contestants import load_contestants

                cs = load_contestants()
            return [(c.label, c.id) for c in cs if c.battles], [(c.label, c.id) for c in cs]
        except LabError:
            return [], []

    choices, judge_choices = contestant_choices()
    vote_off = [gr.update(interactive=False)] * 4

    # ---------------------------------------------------------------- handlers
    def run_battle(prompt: str, room: str, token: str, mode: str, a_id: str | None, b_id: str | None,
                   regenerate: bool, request: gr.Request) -> Iterator[tuple]:
        arena_ = A()
        names = ("Model A", "Model B")
        updates = arena_.stream(prompt, room, _session(request), mode=mode, model_a=a_id, model_b=b_id,
                                token=token if regenerate else None)
        last = None
        for up in updates:
            last = up
            if up.names[0]:
                names = (f"A · {up.names[0]}", f"B · {up.names[1]}")
            status = "Both answers are in: vote!" if up.ok else (
                "A contestant failed: start a new round." if up.finished else "Generating both answers…")
            yield (up.token, _side_md(names[0], up.left, not up.finished), _side_md(names[1], up.right, not up.finished),
                   f'<div class="arena-status">{esc(status)}</div>',
                   *([gr.update(interactive=up.ok)] * 4), "")
        if last is None:
            raise LabError("The battle produced no output.")

    def battle(prompt: str, room: str, request: gr.Request) -> Iterator[tuple]:
        yield from run_battle(prompt, room, "", "anonymous", None, None, False, request)

    def regenerate(token: str, room: str, request: gr.Request) -> Iterator[tuple]:
        if not token:
            raise LabError("There is no battle to regenerate yet: ask a question first.")
        yield from run_battle("", room, token, "anonymous", None, None, True, request)

    def named(prompt: str, a_id: str, b_id: str, room: str, request: gr.Request) -> Iterator[tuple]:
        yield from run_battle(prompt, room, "", "named", a_id, b_id, False, request)

    def vote(token: str, choice: str, request: gr.Request) -> tuple:
        res = A().vote(token, choice, _session(request))
        v = res.vote
        win_a = "win" if v.winner == "model_a" else ""
        win_b = "win" if v.winner == "model_b" else ""
        reveal = (f'<div class="arena-ok">{esc(res.message)}</div>'
                  f'<div class="arena-reveal"><div class="{win_a}"><div class="how">Model A was</div>'
                  f'<div class="who">{esc(res.label_a)}</div><div class="how">{esc(res.detail_a)}</div></div>'
                  f'<div class="{win_b}"><div class="how">Model B was</div><div class="who">{esc(res.label_b)}</div>'
                  f'<div class="how">{esc(res.detail_b)}</div></div></div>')
        return (reveal, *vote_off)

    def vote_fn(choice: str):
        @user_errors
        def _vote(token: str, request: gr.Request) -> tuple:
            return vote(token, choice, request)
        _vote.__name__ = f"vote_{choice.replace(' ', '_').replace('(', '').replace(')', '')}"
        return _vote

    def new_round() -> tuple:
        return ("", "", _side_md("Model A", None, False), _side_md("Model B", None, False),
                '<div class="arena-status">New round: type a prompt.</div>', *vote_off, "")

    def leaderboard(room: str, include_flagged: bool, length_control: bool, k: float,
                    include_named: bool) -> tuple:
        from core.arena import leaderboard as lb

        arena_ = A()
        votes = arena_.store.votes(room, mode=None if include_named else "anonymous")
        board = lb.compute(votes, arena_.label, include_flagged=include_flagged, style_control=length_control,
                           k=float(k), rounds=300)
        rows = [[r.rank, r.label, round(r.bt), f"{r.lower:.0f} – {r.upper:.0f}", round(r.elo), r.votes,
                 f"{r.win_rate:.0%}"] for r in board.rows]
        table = _frame(rows, ["rank", "contestant", "Bradley–Terry", "95% CI", f"online Elo (K={k:g})", "battles",
                              "win rate"])
        note = (f"{board.n_votes} votes counted in room <b>{esc(room or 'public')}</b>"
                f"{f', {board.n_excluded} flagged votes excluded (the answer named its own model)' if board.n_excluded else ''}. ")
        if length_control and board.length_coef is not None:
            note += (f"Length control on: the fit also learns a length preference (coefficient "
                     f"{board.length_coef:+.2f} log-odds per unit of normalised length difference) and ranks "
                     "contestants as if their answers were equally long. ")
        if not board.rows:
            note = "No votes yet in this room: play a few battles, then refresh."
        ci, wr, cnt, st = lb.figures(board)
        return f'<div class="lab-note">{note}</div>', table, ci, wr, cnt, st

    def live(room: str) -> tuple:
        from core.arena import ratings as R
        from core.arena.store import normalise_room, outcome_of

        arena_ = A()
        room_ = normalise_room(room)
        counts = arena_.store.counts(room_)
        votes = arena_.store.votes(room_, include_flagged=False, mode="anonymous")
        models = sorted({v.model_a for v in votes} | {v.model_b for v in votes})
        rows = []
        if len(models) >= 2:
            idx = {m: i for i, m in enumerate(models)}
            a = [idx[v.model_a] for v in votes]
            b = [idx[v.model_b] for v in votes]
            y = [outcome_of(v.winner) for v in votes]
            elo = R.online_elo(a, b, y, len(models), k=4.0)
            _, counts_m = R.win_matrix(a, b, y, len(models))
            for rank, i in enumerate(sorted(range(len(models)), key=lambda i: -elo[i]), 1):
                rows.append([rank, arena_.label(models[i]), round(float(elo[i])), int(counts_m[i].sum())])
        return _kpis(counts, room_), _frame(rows, ["rank", "contestant", "Elo (K=4)", "battles"])

    def run_judge(judge_id: str, room: str, n: float, progress: gr.Progress = gr.Progress()) -> tuple:
        from core.arena.judge import agreement, judge_pair
        from core.generation import SamplingParams

        arena_ = A()
        judge = arena_.contestant(judge_id)
        votes = arena_.store.votes(room)
        done = {r["battle_id"] for r in arena_.store.judgements(room) if r["judge"] == judge_id}
        todo = [v for v in reversed(votes) if v.battle_id not in done][: int(n)]
        if not todo and not done:
            raise LabError("No voted battles in this room yet: the judge rates battles that humans voted on.")
        backend = judge.make_backend()
        params = SamplingParams(max_new_tokens=256, greedy=True, temperature=1.0)
        for i, v in enumerate(todo):
            progress((i + 1) / max(len(todo), 1), desc=f"judging battle {i + 1}/{len(todo)} in both orders")
            j = judge_pair(backend, v.prompt, v.answer_a, v.answer_b, params)
            arena_.store.save_judgement(v.battle_id, judge_id, j.verdict_ab, j.verdict_ba, j.final,
                                        (j.rationale_ab[-600:] + "\n---\n" + j.rationale_ba[-600:]))
        rows_all = [r for r in arena_.store.judgements(room) if r["judge"] == judge_id]
        ag = agreement(rows_all)
        html = (f'<div class="arena-kpis">'
                f'<div class="arena-kpi"><div class="v">{ag.judged}</div><div class="k">battles judged (×2 orders)</div></div>'
                f'<div class="arena-kpi"><div class="v">{ag.consistent_rate:.0%}</div><div class="k">same verdict in both orders</div></div>'
                f'<div class="arena-kpi"><div class="v">{ag.first_position_rate:.0%}</div><div class="k">picked the answer shown first</div></div>'
                f'<div class="arena-kpi"><div class="v">{ag.agreement:.0%}</div><div class="k">agrees with the human vote ({ag.with_human})</div></div>'
                f'</div><div class="lab-note">A judge without position bias picks the first answer about half the time and '
                f'gives the same verdict in both orders. Inconsistent verdicts count as ties (MT-Bench).</div>')
        table = [[r["battle_id"][:8], arena_.label(r["judge"]), r["verdict_ab"], r["verdict_ba"], r["final"],
                  r["human"] or "—"] for r in rows_all[-50:]]
        return html, _frame(table, ["battle", "judge", "A|B order", "B|A order (mapped)", "judge final", "human vote"])

    def export(room: str, kind: str) -> str:
        from core.arena import export as ex

        arena_ = A()
        votes = arena_.store.votes(room)
        if not votes:
            raise LabError("No votes in this room yet: nothing to export.")
        stamp = time.strftime("%Y%m%d-%H%M%S")
        folder = Path(tempfile.mkdtemp(prefix="arena-export-"))
        room_ = (room or "public").strip().lower() or "public"
        if kind == "jsonl":
            path, text = folder / f"arena-votes-{room_}-{stamp}.jsonl", ex.votes_jsonl(votes)
        elif kind == "csv":
            path, text = folder / f"arena-votes-{room_}-{stamp}.csv", ex.votes_csv(votes)
        else:
            path, text = folder / f"arena-dpo-{room_}-{stamp}.jsonl", ex.dpo_jsonl(votes)
            if not text:
                raise LabError("No decisive, unflagged votes yet: ties and 'both bad' are not preference pairs.")
        path.write_text(text, encoding="utf-8")
        return str(path)

    # ---------------------------------------------------------------- layout
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        with gr.Row():
            room = gr.Textbox(label="Room code", placeholder="public", value="", max_lines=1, scale=1,
                              info="Workshop rooms get their own battles and leaderboard.", elem_id="arena-room")
            gr.Markdown(f"**{len(choices)} contestants** in the pool: "
                        + ", ".join(esc_md(label) for label, _ in choices), elem_classes="lab-note")
        with gr.Tabs():
            with gr.Tab("⚔️ Battle", id="arena-battle"):
                with gr.Row():
                    prompt = gr.Textbox(label="Your prompt", lines=2, scale=5, elem_id="arena-prompt",
                                        placeholder="Ask anything — in your own language, too.")
                    go = gr.Button("Battle!", variant="primary", scale=1, elem_id="arena-go")
                examples = example_prompts()
                if examples:
                    gr.Examples([[e] for e in examples], inputs=[prompt], label="Example prompts", api_name="arena_example")
                token = gr.Textbox(visible=False, label="battle id")
                with gr.Row(equal_height=True):
                    left = gr.Markdown(_side_md("Model A", None, False), elem_classes="arena-answer", elem_id="arena-left")
                    right = gr.Markdown(_side_md("Model B", None, False), elem_classes="arena-answer", elem_id="arena-right")
                status = gr.HTML('<div class="arena-status">Type a prompt and press Battle!</div>')
                with gr.Row(elem_classes="arena-votes"):
                    vote_btns = [gr.Button(label, interactive=False, elem_id=f"arena-vote-{i}")
                                 for i, (label, _) in enumerate(CHOICES)]
                reveal = gr.HTML(elem_id="arena-reveal")
                with gr.Row():
                    new_btn = gr.Button("🔄 New round", size="sm")
                    regen_btn = gr.Button("🎲 Regenerate (same pair)", size="sm")
                gr.Markdown("Answers are capped at a short length so battles stay quick; sampling settings and "
                            "timings are stored with every battle.", elem_classes="lab-note")
            with gr.Tab("👥 Side by side", id="arena-named"):
                with gr.Row():
                    pick_a = gr.Dropdown(choices, value=choices[0][1] if choices else None, label="Model A")
                    pick_b = gr.Dropdown(choices, value=choices[1][1] if len(choices) > 1 else None, label="Model B")
                with gr.Row():
                    n_prompt = gr.Textbox(label="Prompt", lines=2, scale=5)
                    n_go = gr.Button("Compare", variant="primary", scale=1)
                n_token = gr.Textbox(visible=False, label="battle id")
                with gr.Row(equal_height=True):
                    n_left = gr.Markdown(_side_md("Model A", None, False), elem_classes="arena-answer")
                    n_right = gr.Markdown(_side_md("Model B", None, False), elem_classes="arena-answer")
                n_status = gr.HTML()
                with gr.Row(elem_classes="arena-votes"):
                    n_btns = [gr.Button(label, interactive=False) for label, _ in CHOICES]
                n_reveal = gr.HTML()
                gr.Markdown("Named votes are stored but count on the leaderboard only if you include them "
                            "(Chatbot Arena ranks anonymous votes only).", elem_classes="lab-note")
            with gr.Tab("🏆 Leaderboard", id="arena-board") as board_tab:
                with gr.Row():
                    inc_flag = gr.Checkbox(label="Include flagged votes", value=False)
                    inc_named = gr.Checkbox(label="Include named (side-by-side) votes", value=False)
                    length_ctl = gr.Checkbox(label="Length control (style covariate)", value=False)
                    k = gr.Slider(1, 64, value=4, step=1, label="Elo K-factor")
                    refresh = gr.Button("Refresh", variant="primary", elem_id="arena-refresh")
                board_note = gr.HTML()
                board = gr.Dataframe(headers=["rank", "contestant", "Bradley–Terry", "95% CI", "online Elo",
                                              "battles", "win rate"], interactive=False, elem_id="arena-board-table")
                ci_plot = gr.Plot(label="Ratings")
                with gr.Row():
                    wr_plot = gr.Plot(label="Win rates")
                    cnt_plot = gr.Plot(label="Battle counts")
                st_plot = gr.Plot(label="Stability")
                gr.Markdown(
                    "**Elo vs Bradley–Terry.** Online Elo updates after every vote, so it depends on the order of "
                    "the votes (and on K). Bradley–Terry fits all votes at once by maximum likelihood — the reason "
                    "Chatbot Arena switched to it; the bootstrap resamples the votes 300 times to get the 95% "
                    "intervals. Overlapping intervals mean the order is not settled yet.", elem_classes="lab-note")
            with gr.Tab("🧑‍⚖️ LLM judge", id="arena-judge"):
                with gr.Row():
                    judge_pick = gr.Dropdown(judge_choices, value=judge_choices[-1][1] if judge_choices else None,
                                             label="Judge model")
                    judge_n = gr.Slider(1, 30, value=5, step=1, label="Battles to judge (most recent first)")
                    judge_go = gr.Button("Judge in both orders", variant="primary")
                judge_html = gr.HTML()
                judge_table = gr.Dataframe(interactive=False)
                gr.Markdown("The pairwise prompt is MT-Bench's (Zheng et al., *Judging LLM-as-a-Judge*): the judge "
                            "explains, then answers [[A]], [[B]] or [[C]] for a tie. Each battle is judged twice with "
                            "the answers swapped, exposing position bias.", elem_classes="lab-note")
            with gr.Tab("🧑‍🏫 Instructor", id="arena-live"):
                live_on = gr.Checkbox(label="Live updates (every 3 s)", value=False)
                live_html = gr.HTML()
                live_table = gr.Dataframe(interactive=False)
                timer = gr.Timer(3.0, active=False)
            with gr.Tab("📦 Export", id="arena-export"):
                gr.Markdown("Votes of the current room. The preference file has one `{prompt, chosen, rejected}` "
                            "row per decisive vote (ties, 'both bad' and flagged votes dropped) — the format of the "
                            "book's DPO recipe (ch. 12).")
                with gr.Row():
                    ex_jsonl = gr.Button("Votes (JSONL)")
                    ex_csv = gr.Button("Votes (CSV)")
                    ex_dpo = gr.Button("DPO preference pairs (JSONL)", variant="primary")
                ex_file = gr.File(label="Download", interactive=False)
                with gr.Accordion("From arena votes to a DPO run (book ch. 12)", open=False):
                    gr.Markdown(
                        "The exported pairs have the columns TRL's `DPOTrainer` expects:\n\n"
                        "```python\n"
                        "from datasets import load_dataset\n"
                        "dpo_dataset = load_dataset(\"json\", data_files=\"arena-dpo-….jsonl\", split=\"train\")\n"
                        "# the book's recipe: LoRA r=64, lora_alpha=32 on the SFT model; DPOConfig(learning_rate=1e-5,\n"
                        "#   lr_scheduler_type=\"cosine\", max_steps=200, warmup_ratio=0.1, ...); beta=0.1\n"
                        "#   (DPOTrainer(beta=...) in the book; newer TRL versions take beta in DPOConfig)\n"
                        "```\n\n"
                        "Like the book's `status != \"tie\"` filter, ties and 'both bad' votes are left out: they "
                        "say nothing about which answer to prefer. A few hundred classroom votes are a demo, not a "
                        "training set — the book's run used ~6,000 filtered pairs.")

        # ---------------------------------------------------------------- wiring
        battle_outs = [token, left, right, status, *vote_btns, reveal]
        heavy = dict(concurrency_id=HEAVY, concurrency_limit=heavy_limit())
        go.click(user_errors(battle), [prompt, room], battle_outs, api_name="arena_battle", **heavy)
        prompt.submit(user_errors(battle), [prompt, room], battle_outs, api_visibility="private", **heavy)
        regen_btn.click(user_errors(regenerate), [token, room], battle_outs, api_name="arena_regenerate", **heavy)
        new_btn.click(new_round, None, [prompt, *battle_outs], api_visibility="private", queue=False)
        for btn, (_, choice) in zip(vote_btns, CHOICES):
            btn.click(vote_fn(choice), [token], [reveal, *vote_btns], api_visibility="private")
        n_outs = [n_token, n_left, n_right, n_status, *n_btns, n_reveal]
        n_go.click(user_errors(named), [n_prompt, pick_a, pick_b, room], n_outs, api_name="arena_compare", **heavy)
        for btn, (_, choice) in zip(n_btns, CHOICES):
            btn.click(vote_fn(choice), [n_token], [n_reveal, *n_btns], api_visibility="private")
        # one public vote endpoint for API clients: (battle id, winner)
        api_choice = gr.Textbox(visible=False)
        api_vote_btn = gr.Button(visible=False)
        def api_vote(battle_id: str, winner: str, request: gr.Request) -> str:
            return vote(battle_id, winner, request)[0]

        api_vote_btn.click(user_errors(api_vote), [token, api_choice], [reveal], api_name="arena_vote")
        board_inputs = [room, inc_flag, length_ctl, k, inc_named]
        board_outs = [board_note, board, ci_plot, wr_plot, cnt_plot, st_plot]
        refresh.click(user_errors(leaderboard), board_inputs, board_outs, api_name="arena_leaderboard")
        board_tab.select(user_errors(leaderboard), board_inputs, board_outs, api_visibility="private")
        for ctl in (inc_flag, length_ctl, inc_named):
            ctl.change(user_errors(leaderboard), board_inputs, board_outs, api_visibility="private")
        judge_go.click(user_errors(run_judge), [judge_pick, room, judge_n], [judge_html, judge_table],
                       api_name="arena_judge", **heavy)
        live_on.change(lambda on: gr.Timer(active=on), live_on, timer, api_visibility="private", queue=False)
        timer.tick(user_errors(live), [room], [live_html, live_table], api_name="arena_live", show_progress="hidden")
        ex_jsonl.click(user_errors(lambda r: export(r, "jsonl")), [room], ex_file, api_name="arena_export_votes")
        ex_csv.click(user_errors(lambda r: export(r, "csv")), [room], ex_file, api_name="arena_export_csv")
        ex_dpo.click(user_errors(lambda r: export(r, "dpo")), [room], ex_file, api_name="arena_export_dpo")
    return demo

