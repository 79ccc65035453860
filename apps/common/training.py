"""What the fine-tuning tabs share (Classifier Zoo ch. 10–11, Arena ch. 12): the live curve figure,
the "PEFT explained by numbers" table, the result cards and the training-settings note.

Core logic lives in :mod:`core.training`; these only render its objects.
"""
from __future__ import annotations

from typing import Any, Sequence

from apps.common.plots import themed
from core.escape import esc
from core.training.callbacks import Curve

LABELS = {"loss": "training loss", "rewards/margins": "reward margin (chosen − rejected)",
          "rewards/accuracies": "reward accuracy"}


def curve_figure(curve: Curve | None, keys: Sequence[str] = ("loss",), title: str = "") -> Any:
    """Plotly lines of the logged ``keys`` by step (a second axis for the reward margin)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if curve is not None:
        for i, key in enumerate(keys):
            steps, values = curve.series(key)
            if steps:
                fig.add_trace(go.Scatter(x=steps, y=values, mode="lines+markers", name=LABELS.get(key, key),
                                         yaxis="y2" if i else "y"))
    layout: dict[str, Any] = {"height": 300, "margin": {"l": 50, "r": 50, "t": 40, "b": 40},
                              "xaxis_title": "step", "yaxis_title": LABELS.get(keys[0], keys[0]),
                              "legend": {"orientation": "h", "y": -0.25}}
    if curve is not None and curve.max_steps:
        layout["xaxis_range"] = [0, curve.max_steps + 1]
        layout["title"] = title or f"step {curve.step} / {curve.max_steps} · {curve.elapsed():.0f} s"
    if len(keys) > 1:
        layout["yaxis2"] = {"title": LABELS.get(keys[1], keys[1]), "overlaying": "y", "side": "right"}
    fig.update_layout(**layout)
    return themed(fig)


def params_rows(counts: Any) -> list[list[Any]]:
    """[method, trainable parameters, share] rows of :class:`core.training.params.PeftCounts`."""
    return [[name, f"{n:,}", share] for name, n, share in counts.rows()]


PARAM_HEADERS = ["how you fine-tune", "trainable parameters", "share of the model"]


def gpt3_note() -> str:
    from core.training.params import gpt3_example

    return "**The book's GPT-3 example, by the same function:** " + " ".join(gpt3_example().lines())


def card(title: str, rows: Sequence[tuple[str, str]], note: str = "") -> str:
    """A small result card: a title and label → value rows (everything escaped)."""
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    extra = f'<p class="lab-note">{esc(note)}</p>' if note else ""
    return f'<div class="lab-train-card"><h4>{esc(title)}</h4><table>{body}</table>{extra}</div>'


def minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def lr_text(value: float) -> str:
    """A learning rate as the dropdowns spell it (2e-4, 5e-5)."""
    return f"{value:.0e}".replace("e-0", "e-")


def run_controls(label: str, elem_id: str) -> tuple[Any, Any, Any]:
    """(Run button, Stop button, status line) of one training action, laid out in place."""
    import gradio as gr

    with gr.Row():
        go = gr.Button(label, variant="primary", elem_id=elem_id)
        stop = gr.Button("Stop", variant="stop", size="sm")
    return go, stop, gr.HTML()


def curve_and_result(label: str) -> tuple[Any, Any]:
    """(live curve plot, result card) side by side."""
    import gradio as gr

    with gr.Row():
        return gr.Plot(label=label), gr.HTML()


def peft_table(label: str) -> Any:
    """The "PEFT explained by numbers" table with the book's GPT-3 example under it."""
    import gradio as gr

    table = gr.Dataframe(headers=PARAM_HEADERS, interactive=False, label=label)
    gr.Markdown(gpt3_note(), elem_classes="lab-note")
    return table


def download_fn(kind: str) -> Any:
    """A click handler: the session's latest ``kind`` artifact as a zip (a gr.Error when there is none)."""
    import gradio as gr

    from core.errors import LabError
    from core.training import artifacts

    def fn(request: gr.Request) -> str:
        from apps.common.labsession import current

        lab_id, page = current(), getattr(request, "session_hash", None)  # Zoo runs: lab id; arena: page
        session = lab_id if artifacts.get(lab_id, kind) is not None else page
        try:
            return str(artifacts.zip_artifact(session, kind))
        except LabError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
    fn.__name__ = f"download_{kind}"
    return fn
