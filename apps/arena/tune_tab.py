"""Pairwise Eval Arena, book ch. 12 hands-on: tune SmolLM2 on the room's votes.

SFT (trl ``SFTTrainer``) on an instruction set, then DPO (trl ``DPOTrainer``) on preference pairs —
the room's decisive votes, an uploaded JSONL or the built-in pairs — both as peft LoRA adapters with
their rank, alpha, beta and steps shown and editable; live loss and reward-margin curves. Each tuned
model then enters the arena as a contestant ("SmolLM2 + SFT", "SmolLM2 + room DPO"), run by the
transformers engine (see :mod:`core.training.tuned`), so the room can battle before against after;
the compare step answers the same held-out prompts with base → SFT → DPO. "Open as notebook" writes the
run with the tab's current settings as a notebook (:mod:`core.training.notebook_dpo`).
``render(get_arena, room, key)`` lays the tab out inside the caller's ``gr.Tabs``.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import gradio as gr

from apps.arena import MANIFEST
from apps.common import session_hash
from apps.common import training as T
from apps.common.jobs import job_on
from apps.common.takehome import takehome
from core.arena import access as acl
from core.errors import LabError
from core.training import artifacts
from core.training.callbacks import Curve, stream_training

SLUG = MANIFEST.slug
BUILTIN, ROOM, UPLOAD = "Built-in pairs", "This room's votes", "Upload JSONL (prompt, chosen, rejected)"
NOTE = (
    "Book §12.3/§12.7 (TinyLlama-1.1B on a T4): SFT with LoRA r=64, α=128, lr 2e-4 for ~1 h; then DPO with r=64, "
    "α=32, β=0.1, lr 1e-5, 200 steps. Here the same recipe runs scaled down on SmolLM2-135M on a CPU: LoRA on "
    "q_proj and v_proj, a few dozen steps. The built-in pairs prefer a short, direct answer (chosen) over the base "
    "model's own answer (rejected). Reward margin = β·[(log π − log π_ref)(chosen) − (…)(rejected)].")


def _data(source: str, file: Any, arena: Any, room: str) -> Any:
    from core.training import data as D

    if source == ROOM:
        return D.room_preferences(arena, room)
    if source == UPLOAD:
        if file is None:
            raise LabError("Upload a JSONL file with one {\"prompt\", \"chosen\", \"rejected\"} object per line.")
        from core.uploads import read_text

        return D.preference_data(D.parse_jsonl(read_text(file).text), "the uploaded file")
    return D.builtin_preferences()


def _counts(model: Any, rank: int) -> list[list[Any]]:
    from core.training.params import peft_counts
    from core.training.preference import TARGETS

    return T.params_rows(peft_counts(model, rank=int(rank), targets=TARGETS, name="SmolLM2-135M"))


def make_handlers(get_arena: Callable[[], Any]) -> dict[str, Callable[..., Any]]:
    def sft(source: str, file: Any, room: str, key: str, rank: float, alpha: float, steps: float,
            lr: str) -> Iterator[tuple]:
        from core.training import preference as P
        from core.training import tuned

        arena = get_arena()
        acc = acl.for_instructor(arena.rooms, room, key)
        session = session_hash()
        rows = _data(source, file, arena, acc.room).sft()
        curve, run = Curve(), None
        for item in stream_training(lambda: P.train_sft(rows, rank=int(rank), alpha=float(alpha), steps=int(steps),
                                                        lr=float(lr), curve=curve), curve):
            if isinstance(item, Curve):
                yield T.curve_figure(item), gr.skip(), gr.skip()
            else:
                run = item
        chain = [str(run.adapter_dir)]
        tuned.remember(chain, run.model, run.tokenizer)
        artifacts.keep(session, "sft", run.adapter_dir, {"chain": chain, **run.settings})
        c = tuned.enter_arena(arena, tuned.room_id("sft", acc.room), "SmolLM2 + SFT", chain,
                              f"SmolLM2-135M-Instruct + SFT LoRA (r={int(rank)}, {run.steps} steps on {len(rows)} "
                              "instructions)")
        html = T.card("SFT done", [("trainable / total", f"{run.trainable:,} / {run.total:,}"),
                                   ("final loss", f"{curve.last('loss') or 0:.3f}"),
                                   ("time", f"{T.minutes(run.seconds)} for {run.steps} steps"),
                                   ("arena", f"entered as “{c.label}”")])
        yield T.curve_figure(curve), _counts(run.model, rank), html

    def dpo(source: str, file: Any, room: str, key: str, after_sft: bool, rank: float, alpha: float, beta: float,
            steps: float, lr: str) -> Iterator[tuple]:
        from core.training import preference as P
        from core.training import tuned

        arena = get_arena()
        acc = acl.for_instructor(arena.rooms, room, key)
        session = session_hash()
        data = _data(source, file, arena, acc.room)
        start: list[str] = []
        if after_sft:
            art = artifacts.get(session, "sft")
            if art is None:
                raise LabError("Run the SFT step first (or untick “start from the SFT model”).")
            start = list(art.summary["chain"])
        curve, run = Curve(), None

        def train() -> Any:
            model, tok = P.start_model(start)
            return P.train_dpo(data.train, model, tok, rank=int(rank), alpha=float(alpha), beta=float(beta),
                               steps=int(steps), lr=float(lr), curve=curve, held_out=data.held_out)

        for item in stream_training(train, curve):
            if isinstance(item, Curve):
                yield T.curve_figure(item, ("loss", "rewards/margins")), gr.skip(), gr.skip()
            else:
                run = item
        chain = [*start, str(run.adapter_dir)]
        tuned.remember(chain, run.model, run.tokenizer)
        artifacts.keep(session, "dpo", run.adapter_dir, {"chain": chain, **run.settings, "held_out": dict(run.held_out),
                                                         "trained_steps": run.steps})
        c = tuned.enter_arena(arena, tuned.room_id("dpo", acc.room), "SmolLM2 + room DPO", chain,
                              f"SmolLM2-135M-Instruct{' + SFT' if start else ''} + DPO LoRA (r={int(rank)}, β={beta:g}, "
                              f"{run.steps} steps on {len(data.train)} pairs of {data.name})")
        ho = run.held_out
        rows = [("data", f"{len(data.train)} training pairs, {len(data.held_out)} held out · {data.name}"),
                ("reward margin (last step)", f"{curve.last('rewards/margins') or 0:.3f}"),
                ("held-out reward margin", f"{ho.get('margin', 0):.3f} (chosen wins in {ho.get('accuracy', 0):.0%})"),
                ("trainable / total", f"{run.trainable:,} / {run.total:,}"),
                ("time", f"{T.minutes(run.seconds)} for {run.steps} steps"),
                ("arena", f"entered as “{c.label}” (id {c.id}): battles can draw it now; reload the page to pick it "
                          "in Side by side against the base")]
        yield T.curve_figure(curve, ("loss", "rewards/margins")), _counts(run.model, rank), T.card("DPO done", rows)

    def compare(source: str, file: Any, room: str, key: str, n: float) -> Iterator[list[list[str]]]:
        from core import jobs
        from core.training import preference as P
        from core.training import tuned

        arena = get_arena()
        acc = acl.for_instructor(arena.rooms, room, key)
        session = session_hash()
        data = _data(source, file, arena, acc.room)
        models = [("base", [])]
        for kind in ("sft", "dpo"):
            art = artifacts.get(session, kind)
            if art is not None:
                models.append((kind.upper(), art.summary["chain"]))
        prompts = [r["prompt"] for r in data.held_out][: int(n)]
        table: list[list[str]] = []
        for i, prompt in enumerate(prompts):
            row = [prompt]
            for j, (_, chain) in enumerate(models):
                jobs.check_stop()
                jobs.report((i * len(models) + j) / (len(prompts) * len(models)), f"prompt {i + 1}, model {j + 1}")
                model, tok = tuned.merged_model(chain)
                row.append(P.generate(model, tok, prompt, 80))
            table.append(row + [""] * (4 - len(row)))
            yield table

    def notebook(source: str, file: Any, room: str, key: str, after_sft: bool, s_rank: float, s_alpha: float,
                 s_steps: float, s_lr: str, d_rank: float, d_alpha: float, d_beta: float, d_steps: float,
                 d_lr: str) -> Any:
        """The SFT → DPO run with the tab's current settings as a notebook (the session's last DPO noted)."""
        from core.training.notebook_dpo import dpo_notebook

        arena = get_arena()
        acc = acl.for_instructor(arena.rooms, room, key)
        art = artifacts.get(session_hash(), "dpo")
        ho = art.summary.get("held_out") if art is not None else None
        lab = {"held-out reward margin": f"{ho['margin']:.3f}", "accuracy": f"{ho['accuracy']:.0%}",
               "steps": art.summary.get("trained_steps")} if ho else None
        return dpo_notebook(_data(source, file, arena, acc.room), sft_first=bool(after_sft), lab=lab,
                            sft={"rank": s_rank, "alpha": s_alpha, "steps": s_steps, "lr": float(s_lr)},
                            dpo={"rank": d_rank, "alpha": d_alpha, "beta": d_beta, "steps": d_steps, "lr": float(d_lr)})
    return {"sft": sft, "dpo": dpo, "compare": compare, "notebook": notebook}


def render(get_arena: Callable[[], Any], room: Any, key: Any) -> None:
    """The "Tune on the votes" tab; ``room``/``key`` are the arena page's room and instructor key boxes."""
    from core.training.preference import DPO_DEFAULTS as DD
    from core.training.preference import SFT_DEFAULTS as SD

    H = make_handlers(get_arena)
    with gr.Tab("🛠️ Tune on the votes (ch. 12)", id="arena-tune"):
        gr.Markdown(NOTE, elem_classes="lab-note")
        with gr.Row():
            source = gr.Radio([BUILTIN, ROOM, UPLOAD], value=BUILTIN, label="Preference data")
            file = gr.File(label="JSONL upload", file_types=[".jsonl", ".json", ".txt"])
        with gr.Accordion("1 · SFT step (instruction set = the chosen answers)", open=True):
            with gr.Row():
                s_rank = gr.Slider(1, 64, value=SD["rank"], step=1, label="LoRA rank r")
                s_alpha = gr.Slider(1, 128, value=SD["alpha"], step=1, label="LoRA alpha")
                s_steps = gr.Slider(1, 200, value=SD["steps"], step=1, label="Steps")
                s_lr = gr.Dropdown(["5e-5", "1e-4", "2e-4", "5e-4"], value=T.lr_text(SD["lr"]), label="Learning rate")
            s_go, s_stop, s_status = T.run_controls("Run SFT", "arena-sft")
        with gr.Accordion("2 · DPO step", open=True):
            with gr.Row():
                after_sft = gr.Checkbox(label="Start from the SFT model (base → SFT → DPO)", value=False)
                d_rank = gr.Slider(1, 64, value=DD["rank"], step=1, label="LoRA rank r")
                d_alpha = gr.Slider(1, 128, value=DD["alpha"], step=1, label="LoRA alpha")
                d_beta = gr.Slider(0.01, 1.0, value=DD["beta"], step=0.01, label="beta β")
                d_steps = gr.Slider(1, 200, value=DD["steps"], step=1, label="Steps")
                d_lr = gr.Dropdown(["1e-5", "5e-5", "1e-4", "2e-4", "5e-4"], value=T.lr_text(DD["lr"]), label="Learning rate")
            d_go, d_stop, d_status = T.run_controls("Run DPO", "arena-dpo")
        plot, result = T.curve_and_result("Loss and reward margin (live)")
        params = T.peft_table("PEFT explained by numbers (SmolLM2-135M)")
        with gr.Accordion("3 · Base → SFT → DPO on the same held-out prompts (greedy)", open=False):
            with gr.Row():
                c_n = gr.Slider(1, 8, value=3, step=1, label="Held-out prompts")
                c_go = gr.Button("Compare", variant="primary")
                c_stop = gr.Button("Stop", variant="stop", size="sm")
            c_status = gr.HTML()
            c_table = gr.Dataframe(headers=["prompt", "base", "SFT", "DPO"], interactive=False, wrap=True)
        with gr.Row():
            dl_sft = gr.Button("Download the SFT adapter (zip)", size="sm")
            dl_dpo = gr.Button("Download the DPO adapter (zip)", size="sm")
            dl_file = gr.File(label="Adapter folder", interactive=False)
        common = [source, file, room, key]
        job_on(s_go.click, H["sft"], [*common, s_rank, s_alpha, s_steps, s_lr], [plot, params, result], slug=SLUG,
               kind="sft", status=s_status, stop=s_stop, expect_s=300.0, api_name="arena_tune_sft")
        job_on(d_go.click, H["dpo"], [*common, after_sft, d_rank, d_alpha, d_beta, d_steps, d_lr],
               [plot, params, result], slug=SLUG, kind="dpo", status=d_status, stop=d_stop, expect_s=400.0,
               api_name="arena_tune_dpo")
        job_on(c_go.click, H["compare"], [*common, c_n], c_table, slug=SLUG, kind="tune-compare", status=c_status,
               stop=c_stop, expect_s=120.0, api_name="arena_tune_compare")
        for btn, kind in ((dl_sft, "sft"), (dl_dpo, "dpo")):
            btn.click(T.download_fn(kind), None, dl_file, api_name=f"arena_tune_download_{kind}")
        takehome(f"{SLUG}_tune", [*common, after_sft, s_rank, s_alpha, s_steps, s_lr, d_rank, d_alpha, d_beta, d_steps,
                                  d_lr], notebook=H["notebook"], label="Take this run home")

