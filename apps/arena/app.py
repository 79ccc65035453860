"""Pairwise Eval Arena (book ch. 12): anonymous battles, durable votes, a leaderboard with CIs, rooms.

Layout and wiring only: the logic lives in :mod:`core.arena` (battles, judge, boards, exports, who
may do what in a room) and :mod:`core.rooms`; the HTML in :mod:`apps.arena.views`. The room comes
from the page URL (``?room=CODE[&key=SECRET]``), read in ``demo.load``; every instructor action checks
the key on the server.
"""
from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from apps.arena import MANIFEST
from apps.arena import takehome_row
from apps.arena import views as V
from apps.arena import tune_tab
from apps.arena.instructor import Instructor
from apps.common import app_title, esc_md, user_errors
from apps.common.jobs import job_on
from core.arena import access as acl
from core.errors import LabError

CSS = MANIFEST.css

CHOICES = [("👈 A is better", "model_a"), ("🤝 Tie", "tie"), ("👎 Both are bad", "tie (bothbad)"),
           ("B is better 👉", "model_b")]
BASE_JS = "(b) => window.location.origin + window.location.pathname"


def startup() -> None:
    """Before serving: load the contestants (plus the models of ``--openai-base-url``), open the store
    and re-sync the durable vote sink."""
    from core.arena.battles import get_arena

    get_arena()


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "api"


def build(arena: Any = None) -> gr.Blocks:
    from core.arena.contestants import example_prompts

    state: dict[str, Any] = {"arena": arena}

    def A() -> Any:
        if state["arena"] is None:
            from core.arena.battles import get_arena

            state["arena"] = get_arena()
        return state["arena"]

    vote_off = [gr.update(interactive=False)] * 4
    H = Instructor(A)

    # ---------------------------------------------------------------- handlers
    def on_load(base: str, request: gr.Request) -> tuple:
        arena_ = A()
        params = dict(getattr(request, "query_params", {}) or {})
        code, key = params.get("room", ""), params.get("key", "")
        error = ""
        try:
            acc = acl.for_page(arena_.rooms, code, key)
        except LabError as exc:
            acc, error, code, key = acl.access(arena_.rooms, ""), str(exc), "", ""
        managed = acc.managed is not None
        staff = acc.instructor  # public arena: everyone; a room: the key holder only
        if managed and not staff and key:
            error = "This instructor link's key is not valid for this room: you are a participant here."
        battlers = [(c.label, c.id) for c in arena_.contestants if c.battles]
        judges = [(c.label, c.id) for c in arena_.contestants]
        pool = f"**{len(battlers)} contestants** in the pool: " + ", ".join(esc_md(lbl) for lbl, _ in battlers)
        return (acc.room if managed else "", key if managed and staff else "", base or "",
                V.room_banner(acc, error) if error else V.room_banner(acc), pool,
                gr.update(choices=battlers, value=battlers[0][1] if battlers else None),
                gr.update(choices=battlers, value=battlers[1][1] if len(battlers) > 1 else None),
                gr.update(choices=judges, value=judges[-1][1] if judges else None),
                gr.update(visible=not managed), gr.update(visible=managed and staff))

    def run_battle(prompt: str, room: str, token: str, mode: str, a_id: str | None, b_id: str | None,
                   request: gr.Request) -> Iterator[tuple]:
        names = ("Model A", "Model B")
        last = None
        for up in A().stream(prompt, room, _session(request), mode=mode, model_a=a_id, model_b=b_id,
                             token=token or None):
            last = up
            if up.names[0]:
                names = (f"A · {up.names[0]}", f"B · {up.names[1]}")
            text = ("Stopped: start a new round." if up.stopped else "Both answers are in: vote!" if up.ok else
                    "A contestant failed: start a new round." if up.finished else "Generating both answers…")
            yield (up.token, V.side_md(names[0], up.left, not up.finished), V.side_md(names[1], up.right, not up.finished),
                   V.status(text, up.note), *([gr.update(interactive=up.ok)] * 4), "")
        if last is None:
            raise LabError("The battle produced no output.")

    def battle(prompt: str, room: str, request: gr.Request) -> Iterator[tuple]:
        yield from run_battle(prompt, room, "", "anonymous", None, None, request)

    def regenerate(token: str, room: str, request: gr.Request) -> Iterator[tuple]:
        if not token:
            raise LabError("There is no battle to regenerate yet: ask a question first.")
        yield from run_battle("", room, token, "anonymous", None, None, request)

    def named(prompt: str, a_id: str, b_id: str, room: str, request: gr.Request) -> Iterator[tuple]:
        yield from run_battle(prompt, room, "", "named", a_id, b_id, request)

    def vote_fn(choice: str):
        @user_errors
        def _vote(token: str, request: gr.Request) -> tuple:
            return (V.reveal(A().vote(token, choice, _session(request))), *vote_off)
        _vote.__name__ = f"vote_{choice.replace(' ', '_').replace('(', '').replace(')', '')}"
        return _vote

    def new_round() -> tuple:
        return ("", "", V.side_md("Model A", None, False), V.side_md("Model B", None, False),
                V.status("New round: type a prompt."), *vote_off, "")

    # ---------------------------------------------------------------- layout
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        banner = gr.HTML(V.room_banner(None), elem_id="arena-banner")
        room = gr.Textbox(visible=False, value="", label="room")
        key = gr.Textbox(visible=False, value="", label="instructor key")
        base = gr.Textbox(visible=False, value="", label="page address")
        pool_md = gr.Markdown(elem_classes="lab-note")
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
                with gr.Row(equal_height=True, elem_classes="arena-pair"):
                    left = gr.Markdown(V.side_md("Model A", None, False), elem_classes="arena-answer", elem_id="arena-left")
                    right = gr.Markdown(V.side_md("Model B", None, False), elem_classes="arena-answer", elem_id="arena-right")
                status = gr.HTML(V.status("Type a prompt and press Battle!"), elem_id="arena-status")
                battle_job = gr.HTML(elem_id="arena-job")
                with gr.Row(elem_classes="arena-votes"):
                    vote_btns = [gr.Button(label, interactive=False, elem_id=f"arena-vote-{i}")
                                 for i, (label, _) in enumerate(CHOICES)]
                reveal = gr.HTML(elem_id="arena-reveal")
                with gr.Row():
                    stop_btn = gr.Button("⏹ Stop", size="sm", variant="stop", elem_id="arena-stop")
                    new_btn = gr.Button("🔄 New round", size="sm")
                    regen_btn = gr.Button("🎲 Regenerate", size="sm", elem_id="arena-regen")
                gr.Markdown("Answers are capped at a short length so battles stay quick; sampling settings and "
                            "timings are stored with every battle. Regenerate after a vote draws a new pair.",
                            elem_classes="lab-note")
            with gr.Tab("👥 Side by side", id="arena-named"):
                with gr.Row():
                    pick_a = gr.Dropdown([], label="Model A", allow_custom_value=True)
                    pick_b = gr.Dropdown([], label="Model B", allow_custom_value=True)
                with gr.Row():
                    n_prompt = gr.Textbox(label="Prompt", lines=2, scale=5)
                    n_go = gr.Button("Compare", variant="primary", scale=1)
                n_token = gr.Textbox(visible=False, label="battle id")
                with gr.Row(equal_height=True, elem_classes="arena-pair"):
                    n_left = gr.Markdown(V.side_md("Model A", None, False), elem_classes="arena-answer")
                    n_right = gr.Markdown(V.side_md("Model B", None, False), elem_classes="arena-answer")
                n_status = gr.HTML()
                with gr.Row():
                    n_job = gr.HTML(elem_id="arena-named-job")
                    n_stop = gr.Button("⏹ Stop", size="sm", variant="stop", scale=0, min_width=90,
                                       elem_id="arena-named-stop")
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
                gr.Markdown(V.ELO_NOTE, elem_classes="lab-note")
            with gr.Tab("🧑‍⚖️ LLM judge", id="arena-judge"):
                with gr.Row():
                    judge_pick = gr.Dropdown([], label="Judge model", allow_custom_value=True)
                    judge_n = gr.Slider(1, 30, value=5, step=1, label="Battles to judge (most recent first)")
                    judge_go = gr.Button("Judge in both orders", variant="primary")
                with gr.Row():
                    judge_job = gr.HTML(elem_id="arena-judge-job")
                    judge_stop = gr.Button("⏹ Stop", size="sm", variant="stop", scale=0, min_width=90,
                                           elem_id="arena-judge-stop")
                judge_html = gr.HTML()
                judge_table = gr.Dataframe(interactive=False)
                gr.Markdown(V.JUDGE_NOTE, elem_classes="lab-note")
            with gr.Tab("🧑‍🏫 Instructor", id="arena-live"):
                with gr.Group(visible=True) as create_grp:
                    gr.Markdown("**Open a workshop room**: its own battles, board and exports. You get a link for "
                                "participants and an instructor link with a secret key.")
                    with gr.Row():
                        room_title = gr.Textbox(label="Room title (optional)", max_lines=1, scale=4,
                                                elem_id="arena-room-title")
                        create_btn = gr.Button("Create a room", variant="primary", scale=1, elem_id="arena-create")
                    links_html = gr.HTML(elem_id="arena-links")
                with gr.Group(visible=False) as manage_grp:
                    with gr.Row():
                        reset_btn = gr.Button("Reset the board", size="sm", elem_id="arena-reset")
                        close_btn = gr.Button("Close the room", size="sm", variant="stop", elem_id="arena-close")
                    manage_status = gr.HTML()
                live_on = gr.Checkbox(label="Live updates (every 3 s)", value=False)
                live_html = gr.HTML()
                with gr.Row():
                    live_table = gr.Dataframe(headers=["rank", "contestant", "Elo (K=4)", "battles"], interactive=False, scale=3)
                    voters_table = gr.Dataframe(headers=["participant", "votes"], interactive=False, scale=2,
                                                label="votes per participant")
                timer = gr.Timer(3.0, active=False)
            with gr.Tab("📦 Export", id="arena-export"):
                gr.Markdown(V.EXPORT_NOTE)
                with gr.Row():
                    ex_jsonl = gr.Button("Votes (JSONL)")
                    ex_csv = gr.Button("Votes (CSV)")
                    ex_dpo = gr.Button("DPO preference pairs (JSONL)", variant="primary")
                ex_file = gr.File(label="Download", interactive=False)
                with gr.Accordion("From arena votes to a DPO run (book ch. 12)", open=False):
                    gr.Markdown(V.DPO_NOTE)
            tune_tab.render(A, room, key)

        # ---------------------------------------------------------------- wiring
        demo.load(on_load, [base], [room, key, base, banner, pool_md, pick_a, pick_b, judge_pick, create_grp,
                                    manage_grp],
                  js=BASE_JS, api_visibility="private", queue=False)
        battle_outs = [token, left, right, status, *vote_btns, reveal]
        # the shared job runner: one waiting/running line per action, Stop within ~1 s (the backends
        # read core.jobs.stop_event()), and a closed tab stops the battle
        slug = MANIFEST.slug
        battle_job_kw = dict(slug=slug, kind="battle", status=battle_job, stop=stop_btn, expect_s=15.0,
                             show_done=False)
        job_on([go.click, prompt.submit], user_errors(battle), [prompt, room], battle_outs, api_name="arena_battle",
               **battle_job_kw)
        job_on(regen_btn.click, user_errors(regenerate), [token, room], battle_outs, api_name="arena_regenerate",
               **battle_job_kw)
        new_btn.click(new_round, None, [prompt, *battle_outs], api_visibility="private", queue=False)
        for btn, (_, choice) in zip(vote_btns, CHOICES):
            btn.click(vote_fn(choice), [token], [reveal, *vote_btns], api_visibility="private")
        n_outs = [n_token, n_left, n_right, n_status, *n_btns, n_reveal]
        job_on([n_go.click, n_prompt.submit], user_errors(named), [n_prompt, pick_a, pick_b, room], n_outs,
               slug=slug, kind="battle", status=n_job, stop=n_stop, expect_s=15.0, show_done=False,
               api_name="arena_compare")
        for btn, (_, choice) in zip(n_btns, CHOICES):
            btn.click(vote_fn(choice), [n_token], [n_reveal, *n_btns], api_visibility="private")

        def api_vote(battle_id: str, winner: str, request: gr.Request) -> str:
            return V.reveal(A().vote(battle_id, winner, _session(request)))

        gr.api(user_errors(api_vote), api_name="arena_vote")
        board_inputs = [room, inc_flag, length_ctl, k, inc_named, key]
        board_outs = [board_note, board, ci_plot, wr_plot, cnt_plot, st_plot]
        refresh.click(user_errors(H.leaderboard), board_inputs, board_outs, api_name="arena_leaderboard")
        gr.on([board_tab.select, inc_flag.change, length_ctl.change, inc_named.change], user_errors(H.leaderboard),
              board_inputs, board_outs, api_visibility="private")
        job_on(judge_go.click, user_errors(H.run_judge), [judge_pick, room, judge_n, key], [judge_html, judge_table],
               slug=slug, kind="judge", status=judge_job, stop=judge_stop, expect_s=30.0, api_name="arena_judge")
        live_on.change(lambda on: gr.Timer(active=on), live_on, timer, api_visibility="private", queue=False)
        timer.tick(user_errors(H.live), [room, key], [live_html, live_table, voters_table], api_name="arena_live",
                   show_progress="hidden")
        create_btn.click(user_errors(lambda t, b: H.create_room(t, b)[0]), [room_title, base], links_html,
                         api_visibility="private")

        gr.api(user_errors(H.api_create_room), api_name="arena_room_create")
        reset_btn.click(user_errors(H.reset_room), [room, key], manage_status, api_name="arena_room_reset")
        close_btn.click(user_errors(H.close_room), [room, key], manage_status, api_name="arena_room_close")
        for btn, kind, name in ((ex_jsonl, "jsonl", "votes"), (ex_csv, "csv", "csv"), (ex_dpo, "dpo", "dpo")):
            btn.click(user_errors(lambda r, k_, kind=kind: H.export(r, kind, k_)), [room, key], ex_file,
                      api_name=f"arena_export_{name}")
        takehome_row.build(A, demo, room, [inc_flag, length_ctl, k, inc_named], key)  # link / board CSV / notebook
    return demo
