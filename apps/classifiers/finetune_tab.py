"""Classifier Zoo, book part III hands-on: fine-tune the encoder (ch. 11) and train your own embedder
(ch. 10), on the zoo's data (built-in or the uploaded CSV, same split as the Evaluate tab).

The embedder tab lives here rather than in RAG Chat because its natural data is the zoo's: labelled
texts become same-label pairs, and the effect (an embedder steered toward sentiment, book Fig. 10-3)
is read with the zoo's own yardstick next to it; the RAG evaluation questions are offered too.
``render(data_inputs)`` lays out both tabs inside the caller's ``gr.Tabs``.
"""
from __future__ import annotations

from typing import Any, Iterator, Sequence

import gradio as gr

from apps.classifiers import MANIFEST
from apps.classifiers import handlers as h
from apps.common import labsession
from apps.common import training as T
from apps.common.jobs import job_on
from apps.common.takehome import takehome
from core.training import artifacts
from core.training.callbacks import Curve, stream_training

SLUG = MANIFEST.slug
BUILTIN_PAIRS, CSV_PAIRS, RAG_PAIRS = ("Built-in Rotten Tomatoes (same-label pairs)",
                                       "The zoo's data above (same-label pairs)",
                                       "RAG evaluation questions → passages")
ENCODER_NOTE = (
    "Book §11.1 (rotten_tomatoes test, bert-base-cased, 1 epoch on 8,530 reviews): all layers **0.85** F1, "
    "first 10 blocks frozen **0.80**, only the head **0.63**, SetFit **0.84**. Offline this trains the packaged "
    "MiniLM (6 blocks, 22 M parameters) for a few dozen steps on the zoo's training split, so the numbers are "
    "smaller; the ordering (more trainable blocks → higher F1 per step) is the lesson.")
EMBED_NOTE = (
    "Book ch. 10: MultipleNegativesRankingLoss on (anchor, positive) pairs, every other positive in the batch "
    "serving as a negative (larger batches help). Same-label pairs steer the embedder toward sentiment "
    "(book Fig. 10-3): hit@k = a held-out review's nearest held-out reviews share its label.")


def _skip(n: int) -> tuple:
    return tuple(gr.skip() for _ in range(n))


def run_encoder(source: str, file: Any, text_col: str, label_col: str, test_size: float, train_size: float,
                freeze_n: float, head_only: bool, steps: float, lr: str, compare: bool) -> Iterator[tuple]:
    from core.classifiers.evaluate import evaluate
    from core.classifiers.methods import METHOD_INFO, ZooConfig
    from core.training.encoder import train_encoder
    from core.training.params import peft_counts

    session = labsession.current()  # the browser's lab id: RAG Chat / Topic Explorer pages see it
    data = h.load_data(source, file, text_col, label_col, test_size, train_size)
    curve = Curve()
    run = None
    for item in stream_training(lambda: train_encoder(data, freeze_blocks=int(freeze_n), head_only=bool(head_only),
                                                      steps=int(steps), lr=float(lr), curve=curve), curve):
        if isinstance(item, Curve):
            yield (T.curve_figure(item), *_skip(2))
        else:
            run = item
    counts = peft_counts(run.model, rank=8, targets=("query", "value"), name="encoder")
    counts.trainable_now = run.trainable
    rows = [(f"fine-tuned ({'head only' if run.head_only else f'{run.frozen_blocks} of {run.blocks} blocks frozen'})",
             f"F1 {run.f1:.3f} · accuracy {run.accuracy:.3f}")]
    if compare:
        config = ZooConfig(descriptions=dict(data.descriptions), words=dict(data.words))
        for r in evaluate(data, ["embed_lr", "setfit"], config).ok():
            rows.append((METHOD_INFO[r.key].title, f"F1 {r.metrics.f1:.3f} · accuracy {r.metrics.accuracy:.3f}"))
    rows.append(("trainable / total parameters", f"{run.trainable:,} / {run.total:,} ({run.trainable / run.total:.1%})"))
    rows.append(("time", f"{T.minutes(run.seconds)} for {run.steps} steps"))
    folder = artifacts.save_model(run.model, run.tokenizer, "encoder")
    artifacts.keep(session, "encoder", folder, {"f1": run.f1, "steps": run.steps})
    html = T.card(f"Same test split: {len(data.test_texts)} texts of {data.name}", rows, " ".join(run.notes))
    yield T.curve_figure(curve), T.params_rows(counts), html


def _pairs(pair_source: str, source: str, file: Any, text_col: str, label_col: str, test_size: float,
           train_size: float) -> Any:
    from core.training import data as D

    if pair_source == RAG_PAIRS:
        return D.rag_pairs()
    if pair_source == CSV_PAIRS:
        zoo = h.load_data(source, file, text_col, label_col, test_size, train_size)
        return D.labelled_pairs(zoo.train_texts + zoo.test_texts, zoo.train_labels + zoo.test_labels, name=zoo.name)
    return D.builtin_pairs()


def embedder_notebook(pair_source: str, source: str, file: Any, text_col: str, label_col: str, test_size: float,
                      train_size: float, steps: float, lr: str, batch: float) -> Any:
    """The notebook of the embedder run with these settings (the session's last run's numbers noted)."""
    from core.training.notebook import embedder_notebook as build

    art = artifacts.get(labsession.current(), "embedder")
    lab = {k: " · ".join(f"hit@{n} {v:.3f}" for n, v in art.summary[k].items()) for k in ("before", "after")
           if k in art.summary} if art else None
    return build(_pairs(pair_source, source, file, text_col, label_col, test_size, train_size), int(steps),
                 float(lr), int(batch), lab=lab)


def encoder_notebook(source: str, file: Any, text_col: str, label_col: str, test_size: float, train_size: float,
                     freeze_n: float, head_only: bool, steps: float, lr: str, compare: bool) -> Any:
    """The notebook of the encoder run with these settings."""
    from core.training.notebook import encoder_notebook as build

    art = artifacts.get(labsession.current(), "encoder")
    lab = {"F1": f"{art.summary['f1']:.3f}", "steps": art.summary["steps"]} if art else None
    return build(h.load_data(source, file, text_col, label_col, test_size, train_size), int(freeze_n),
                 bool(head_only), int(steps), float(lr), lab=lab)


def run_embedder(pair_source: str, source: str, file: Any, text_col: str, label_col: str, test_size: float,
                 train_size: float, steps: float, lr: str, batch: float) -> Iterator[tuple]:
    from core.training.embedder import train_embedder

    session = labsession.current()  # the browser's lab id: RAG Chat / Topic Explorer pages see it
    pairs = _pairs(pair_source, source, file, text_col, label_col, test_size, train_size)
    curve = Curve()
    run = None
    for item in stream_training(lambda: train_embedder(pairs, steps=int(steps), lr=float(lr), batch=int(batch),
                                                       curve=curve), curve):
        if isinstance(item, Curve):
            yield (T.curve_figure(item), gr.skip())
        else:
            run = item
    rows = [("before", run.before.line()), ("after", run.after.line()),
            ("trainable / total parameters", f"{run.trainable:,} / {run.total:,} (all: contrastive full fine-tuning)"),
            ("time", f"{T.minutes(run.seconds)} for {run.steps} steps")]
    folder = artifacts.new_folder("embedder")
    run.model.save(str(folder))
    artifacts.keep(session, "embedder", folder, {"before": run.before.hits, "after": run.after.hits})
    yield T.curve_figure(curve), T.card(f"Held-out retrieval · {pairs.name}", rows, " ".join(run.notes))


def render(data_inputs: Sequence[Any]) -> None:
    """The two fine-tuning tabs; ``data_inputs`` = the zoo's [source, upload, text column, label column,
    test size, train size] components (the same split as the Evaluate tab)."""
    from core.settings import get_settings
    from core.training.embedder import DEFAULTS as ED
    from core.training.encoder import DEFAULTS

    blocks = 6 if get_settings().offline else 12
    with gr.Tab("Fine-tune the encoder (ch. 11)", id="finetune"):
        gr.Markdown(ENCODER_NOTE, elem_classes="lab-note")
        with gr.Row():
            freeze_n = gr.Slider(0, blocks, value=DEFAULTS["freeze"], step=1, label="Freeze the first N blocks")
            head_only = gr.Checkbox(label="Train only the classification head", value=False)
            steps = gr.Slider(5, get_settings().limits.train_max_steps, value=DEFAULTS["steps"], step=5, label="Steps")
            lr = gr.Dropdown(["2e-5", "5e-5", "1e-4", "2e-4"], value=T.lr_text(DEFAULTS["lr"]), label="Learning rate")
            compare = gr.Checkbox(label="Also run embeddings + LR and SetFit on the same split", value=True)
        go, stop, status = T.run_controls("Fine-tune", "classifiers-finetune")
        plot, result = T.curve_and_result("Loss (live)")
        params = T.peft_table("PEFT explained by numbers (this model)")
        with gr.Row():
            dl = gr.Button("Download the fine-tuned model (zip)", size="sm")
            dl_file = gr.File(label="Model folder", interactive=False)
        job_on(go.click, run_encoder, [*data_inputs, freeze_n, head_only, steps, lr, compare], [plot, params, result],
               slug=SLUG, kind="finetune", status=status, stop=stop, expect_s=300.0, api_name=f"{SLUG}_finetune")
        dl.click(T.download_fn("encoder"), None, dl_file, api_name=f"{SLUG}_finetune_download")
        takehome(f"{SLUG}_finetune", [*data_inputs, freeze_n, head_only, steps, lr, compare], notebook=encoder_notebook,
                 label="Take this run home")
    with gr.Tab("Train your embedder (ch. 10)", id="embedder"):
        gr.Markdown(EMBED_NOTE, elem_classes="lab-note")
        with gr.Row():
            pair_source = gr.Radio([BUILTIN_PAIRS, CSV_PAIRS, RAG_PAIRS], value=BUILTIN_PAIRS, label="Pairs")
            e_steps = gr.Slider(5, get_settings().limits.train_max_steps, value=ED["steps"], step=5, label="Steps")
            e_lr = gr.Dropdown(["1e-5", "2e-5", "5e-5", "1e-4"], value=T.lr_text(ED["lr"]), label="Learning rate")
            e_batch = gr.Slider(4, 64, value=ED["batch"], step=4, label="Batch (in-batch negatives)")
        e_go, e_stop, e_status = T.run_controls("Train the embedder", "classifiers-embedder")
        e_plot, e_result = T.curve_and_result("Loss (live)")
        with gr.Row():
            e_dl = gr.Button("Download the embedder (zip)", size="sm")
            e_file = gr.File(label="SentenceTransformer folder", interactive=False)
        job_on(e_go.click, run_embedder, [pair_source, *data_inputs, e_steps, e_lr, e_batch], [e_plot, e_result],
               slug=SLUG, kind="embedder", status=e_status, stop=e_stop, expect_s=240.0, api_name=f"{SLUG}_embedder")
        e_dl.click(T.download_fn("embedder"), None, e_file, api_name=f"{SLUG}_embedder_download")
        takehome(f"{SLUG}_embedder", [pair_source, *data_inputs, e_steps, e_lr, e_batch], notebook=embedder_notebook,
                 label="Take this run home")
