"""A stand-in app module for the builder's self-test (copied into a scratch repo as an app)."""
import gradio as gr

from apps.common import app_title, user_errors
from apps.tokenizers import MANIFEST

CSS = MANIFEST.css


@user_errors
def count(text: str) -> dict:
    from core.errors import LabError

    if not text:
        raise LabError("Type something.")
    return {"chars": len(text), "words": len(text.split())}


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        text = gr.Textbox(label="Text")
        out = gr.JSON()
        gr.Button("Count").click(count, text, out, api_name="tokenizers_count")
    return demo
