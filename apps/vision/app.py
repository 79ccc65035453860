"""Multimodal Captioner (book ch. 9): zero-shot image labels, image–text similarity, what the
model sees, captions re-ranked by CLIP, and questions about an image (BLIP-2).

Layout and wiring only; the logic lives in :mod:`core.vision`. Offline, the same UI runs an
honest, clearly labelled fallback (EfficientNet-Lite0 + MiniLM + SmolLM2).
"""
from __future__ import annotations

from typing import Any

import gradio as gr

import core.vision  # noqa: F401  (registers the clip/blip/blip2/efficientnet loaders; light)
from apps.common import HEAVY, app_title, errors_inline, heavy_limit, section_link, themed, user_errors, warn_html
from apps.vision import MANIFEST, takehome_row, views
from core.jobs import report
from core.settings import get_settings
from core.vision.images import builtin_choices, load_inputs

SLUG = "vision"
CSS = MANIFEST.css

DEFAULT_LABELS = "cat, dog, car, cup of coffee, rocket, astronaut, motorcycle"
DEFAULT_TEMPLATES = "a photo of a {}\n{}\na blurry sketch of a {}"
DEFAULT_CAPTIONS = ("a cat lying on a blanket\na cup of espresso on a saucer\nan astronaut in a space suit\n"
                    "a rocket lifting off")


def clear_image_errors(image: gr.Image) -> gr.Image:
    """Make ``image``'s preprocessing turn an unreadable file into a clear message.

    Gradio opens the image with PIL before the handler runs, so an API caller's garbage or
    decompression bomb would otherwise end as Gradio's generic error. (Wrapping the instance's
    method, not subclassing: Gradio writes a ``.pyi`` next to any module defining a component.)
    """
    original = image.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return original(payload)
        except gr.Error:
            raise
        except Exception:  # noqa: BLE001 - say what is wrong with the file instead
            from core.errors import InvalidUpload
            from core.uploads import open_image

            try:
                open_image(getattr(payload, "path", None))
            except InvalidUpload as exc:
                raise gr.Error(f"Webcam image: {exc}", print_exception=False) from None
            raise gr.Error("The webcam image could not be read; take the picture again.",
                           print_exception=False) from None

    image.preprocess = preprocess  # type: ignore[method-assign]
    return image


def _images(builtins: Any, files: Any, webcam: Any) -> list:
    return load_inputs(builtins or [], files, webcam)


@user_errors
def preview(builtins: Any, files: Any, webcam: Any) -> tuple[list, str]:
    from core.vision.images import all_notes, thumbnail

    images = load_inputs(builtins or [], files, webcam, require=False)
    gallery = [(thumbnail(it.image, 256), f"{it.name} · {it.original_size[0]}×{it.original_size[1]}") for it in images]
    return gallery, views.input_notes(all_notes(images)) if images else views.PICK_IMAGES


def run_labels(builtins: Any, files: Any, webcam: Any, labels: str, template: str,
               templates: str) -> tuple[Any, Any, Any, str]:
    import pandas as pd

    from core.vision import charts, service
    from core.vision.tables import label_rows

    report(0.1, "Reading images")
    images = _images(builtins, files, webcam)
    report(0.3, "Scoring labels")
    result = service.zero_shot(images, labels, template)
    compare = None
    if templates and templates.strip():
        report(0.7, "Comparing templates")
        compare = themed(charts.template_bars(service.compare_templates(images, labels, templates)))
    return (themed(charts.label_bars(result)), pd.DataFrame(label_rows(result)), compare,
            views.info(result.method, result.model, result.notes, views.top_classes(result)))


def run_similarity(builtins: Any, files: Any, webcam: Any, captions: str) -> tuple[Any, str]:
    from core.vision import charts, service

    report(0.1, "Reading images")
    images = _images(builtins, files, webcam)
    report(0.3, "Embedding images and captions")
    result = service.similarity(images, captions)
    return (themed(charts.similarity_heatmap(result)),
            views.info(result.method, result.model, result.notes, views.best_captions(result)))


@user_errors
def run_view(builtins: Any, files: Any, webcam: Any) -> tuple[list, str]:
    from core.vision import service

    images = _images(builtins, files, webcam)
    return views.model_view(service.model_views(images[0]), len(images))


def run_captions(builtins: Any, files: Any, webcam: Any, model: str, n: float) -> tuple[str, Any]:
    import pandas as pd

    from core.vision import service
    from core.vision.tables import caption_rows

    report(0.05, "Reading images")
    images = _images(builtins, files, webcam)
    report(0.2, "Writing candidate captions")
    result = service.captions(images, model, int(n))
    return views.caption_cards(result), pd.DataFrame(caption_rows(result))


@user_errors
def run_ask(builtins: Any, files: Any, webcam: Any, question: str, history: list | None) -> tuple[str, list, str]:
    from core.vision import service

    history = [tuple(t) for t in (history or [])]
    images = load_inputs(builtins or [], files, webcam, require=get_settings().mode == "hub")
    result = service.ask(images[0] if images else None, question, history)
    if result.available and result.answer is not None:
        history.append((" ".join(question.split()), result.answer))
    return views.conversation(result, history), [list(t) for t in history], ""


def build() -> gr.Blocks:
    from apps.common.jobs import job_on
    from core.vision.availability import caption_choices, vqa_reason

    cap_choices, cap_default, cap_missing = caption_choices()
    no_vqa = vqa_reason()
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        gr.HTML(views.banner(), elem_classes="vision-banner")
        with gr.Row():
            with gr.Column(scale=1, min_width=280):
                builtins = gr.CheckboxGroup(builtin_choices(), value=["cat", "coffee"], label="Built-in photos",
                                            elem_id="vision-builtins")
                files = gr.File(file_count="multiple", file_types=["image"], type="filepath",
                                label="Upload images (PNG, JPEG, WebP, GIF, TIFF…)", elem_id="vision-files")
                # image_mode=None: preprocessing only reads the header; core.uploads.open_image does the rest
                webcam = clear_image_errors(gr.Image(sources=["webcam"], type="filepath", image_mode=None,
                                                     label="Webcam", height=160, elem_id="vision-webcam"))
                gallery = gr.Gallery(label="Images in this request", columns=3, height=200, object_fit="contain",
                                     allow_preview=False, elem_id="vision-gallery")
                input_notes = gr.HTML()
            with gr.Column(scale=3, min_width=280, elem_classes="vision-main"):
                with gr.Tabs():
                    with gr.Tab("Zero-shot labels", id="vision-labels-tab"):
                        section_link(MANIFEST, "§9.2 CLIP: zero-shot classification")
                        with gr.Row():
                            labels = gr.Textbox(DEFAULT_LABELS, label="Candidate labels (comma-separated or one per "
                                                "line)", lines=2, scale=3, min_width=240, elem_id="vision-labels")
                            template = gr.Textbox("a photo of a {}", label="Template ({} = the label)", scale=2,
                                                  min_width=200, elem_id="vision-template")
                        with gr.Row():
                            label_btn = gr.Button("Score labels", variant="primary", elem_id="vision-label-btn")
                            label_stop = gr.Button("Stop", variant="stop", size="sm", scale=0, min_width=80)
                        templates = gr.Textbox(DEFAULT_TEMPLATES, lines=3, elem_id="vision-templates",
                                               label="Compare templates (one per line; empty = skip)")
                        label_status = gr.HTML(elem_id="vision-label-status")
                        label_info = gr.HTML(elem_id="vision-label-info")
                        label_plot = gr.Plot(label="Scores per label", elem_id="vision-label-plot")
                        template_plot = gr.Plot(label="How much the template matters (first image)")
                        label_table = gr.Dataframe(label="All scores", interactive=False, wrap=True, max_height=300)
                    with gr.Tab("Similarity matrix", id="vision-sim-tab"):
                        section_link(MANIFEST, "§9.2 CLIP: image and text in one embedding space")
                        captions = gr.Textbox(DEFAULT_CAPTIONS, lines=4, label="Captions (one per line)",
                                              elem_id="vision-captions")
                        with gr.Row():
                            sim_btn = gr.Button("Compute the matrix", variant="primary", elem_id="vision-sim-btn")
                            sim_stop = gr.Button("Stop", variant="stop", size="sm", scale=0, min_width=80)
                        sim_status = gr.HTML()
                        sim_info = gr.HTML()
                        sim_plot = gr.Plot(label="Images × captions", elem_id="vision-sim-plot")
                    with gr.Tab("What the model sees", id="vision-view-tab"):
                        section_link(MANIFEST, "§9.1 Vision Transformer: patches, not pixels")
                        view_btn = gr.Button("Show the model's input", variant="primary", elem_id="vision-view-btn")
                        view_status = gr.HTML()
                        view_gallery = gr.Gallery(label="Original and model inputs", columns=3, height=330,
                                                  object_fit="contain", elem_id="vision-view-gallery")
                        view_info = gr.HTML()
                    with gr.Tab("Captions", id="vision-cap-tab"):
                        section_link(MANIFEST, "§9.3 BLIP-2: captions, re-ranked by CLIP")
                        with gr.Row():
                            cap_model = gr.Dropdown(cap_choices, value=cap_default, label="Captioning model",
                                                    info=cap_missing or None, elem_id="vision-cap-model",
                                                    min_width=240)
                            cap_n = gr.Slider(1, 5, value=3, step=1, label="Candidate captions per image",
                                              min_width=200)
                        with gr.Row():
                            cap_btn = gr.Button("Write captions", variant="primary", elem_id="vision-cap-btn")
                            cap_stop = gr.Button("Stop", variant="stop", size="sm", scale=0, min_width=80)
                        cap_status = gr.HTML(elem_id="vision-cap-status")
                        cap_html = gr.HTML(elem_id="vision-cap-html")
                        cap_table = gr.Dataframe(label="Candidates and scores", interactive=False, wrap=True,
                                                 max_height=260)
                    with gr.Tab("Ask about the image", id="vision-ask-tab"):
                        section_link(MANIFEST, "§9.3 BLIP-2: chat about an image")
                        gr.Markdown("BLIP-2 answers with the book's chat format: earlier turns are prepended as "
                                    "`Question: … Answer: ….` and the new question ends with `Answer:`.")
                        if no_vqa:
                            gr.HTML(warn_html(no_vqa), elem_id="vision-ask-off")
                        history = gr.State([])
                        with gr.Row():
                            question = gr.Textbox("Write down what you see in this picture.", label="Question",
                                                  scale=4, min_width=220, elem_id="vision-question",
                                                  interactive=not no_vqa)
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80,
                                                elem_id="vision-ask-btn", interactive=not no_vqa)
                        ask_status = gr.HTML()
                        ask_html = gr.HTML()
                        clear_btn = gr.Button("Clear the conversation", size="sm", variant="secondary")
        with gr.Accordion("How it works (book §9.1–9.3)", open=False):
            gr.Markdown(views.EXPLAINER)
        sources = [builtins, files, webcam]
        errors_inline(gr.on([c.change for c in sources] + [demo.load], preview, sources, [gallery, input_notes],
                            api_visibility="private", show_progress="hidden"), input_notes, preview)
        job_on(label_btn.click, run_labels, [*sources, labels, template, templates],
               [label_plot, label_table, template_plot, label_info], slug=SLUG, kind="labels",
               status=label_status, stop=label_stop, api_name="vision_labels", expect_s=5)
        job_on(sim_btn.click, run_similarity, [*sources, captions], [sim_plot, sim_info], slug=SLUG,
               kind="similarity", status=sim_status, stop=sim_stop, api_name="vision_similarity", expect_s=5)
        job_on(cap_btn.click, run_captions, [*sources, cap_model, cap_n], [cap_html, cap_table], slug=SLUG,
               kind="captions", status=cap_status, stop=cap_stop, api_name="vision_caption", expect_s=20)
        heavy = {"concurrency_id": HEAVY, "concurrency_limit": heavy_limit()}
        errors_inline(view_btn.click(run_view, sources, [view_gallery, view_info], api_name="vision_view", **heavy),
                      view_status, run_view)
        errors_inline(gr.on([ask_btn.click, question.submit], run_ask, [*sources, question, history],
                            [ask_html, history, question], api_name="vision_ask", **heavy), ask_status, run_ask)
        clear_btn.click(lambda: ([], ""), None, [history, ask_html], api_visibility="private", queue=False)
        takehome_row.build(demo, sources, [labels, template, templates, captions, cap_model, cap_n], cap_table)
    return demo
