"""Multimodal Captioner (book ch. 9): zero-shot image labels, image–text similarity, what the
model sees, captions re-ranked by CLIP, and questions about an image (BLIP-2).

Layout and wiring only; the logic lives in :mod:`core.vision`. Offline, the same UI runs an
honest, clearly labelled fallback (EfficientNet-Lite0 + MiniLM + SmolLM2).
"""
from __future__ import annotations

from typing import Any

import gradio as gr

import core.vision  # noqa: F401  (registers the clip/blip/blip2/efficientnet loaders; light)
from apps.vision import MANIFEST
from apps.common import HEAVY, app_title, esc, heavy_limit, user_errors, warn_html
from core.settings import get_settings
from core.vision.images import builtin_choices, load_inputs

SLUG = "vision"

CSS = MANIFEST.css

DEFAULT_LABELS = "cat, dog, car, cup of coffee, rocket, astronaut, motorcycle"
DEFAULT_TEMPLATES = "a photo of a {}\n{}\na blurry sketch of a {}"
DEFAULT_CAPTIONS = ("a cat lying on a blanket\na cup of espresso on a saucer\nan astronaut in a space suit\n"
                    "a rocket lifting off")


EXPLAINER = """
**Vision Transformer.** An image is cut into patches (16×16 or, for CLIP ViT-B/32, 32×32 pixels), each patch is
flattened and *linearly embedded* (patches rarely repeat, so they cannot get fixed ids like text tokens), and the
sequence goes through a standard Transformer encoder.

**CLIP** trains an image encoder and a text encoder together on (image, caption) pairs with a *contrastive* loss:
matching pairs get a high cosine similarity, mismatched pairs a low one. Zero-shot labels are captions built from
a template (“a photo of a {}”); the softmax over the labels uses CLIP's logit scale (100). Raw cosines are small
(the book's matching pairs score about 0.33), so read them relative to each other — that is the similarity matrix.

**BLIP-2** bridges a frozen ViT and a frozen LLM (OPT-2.7b) with a small trained *Q-Former*: learned query
embeddings read the image and are projected into the LLM's input space as soft visual prompts. Chat with it uses
the plain-text protocol `Question: … Answer:`, with earlier turns prepended.

**Offline** there are no CLIP/BLIP weights in any package, so this app says so and runs a labelled stand-in:
EfficientNet-Lite0 (an ImageNet-1k classifier) + MiniLM sentence embeddings + SmolLM2 for caption sentences.
"""


def _banner() -> str:
    if get_settings().offline:
        return warn_html(
            "Offline mode: no package ships CLIP or BLIP weights, so this app runs an honest fallback — "
            "EfficientNet-Lite0 ImageNet probabilities mapped onto your labels by MiniLM, and captions written "
            "by SmolLM2 from the top classes. Every result says which method produced it. Question answering "
            "needs BLIP-2 and is not faked.")
    return ('<div class="lab-note">Hub mode: CLIP ViT-B/32 (openai/clip-vit-base-patch32), BLIP base on the CPU, '
            'BLIP-2 OPT-2.7b under ZeroGPU.</div>')


def _info(method: str, model: str, notes: list[str], extra: str = "") -> str:
    proxy = method != "clip" and "clip" not in method
    badge = (f'<span class="method {"proxy" if proxy else "clip"}">'
             f'{"offline proxy — not CLIP" if proxy else esc(method)}</span>')
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return (f'<div class="vision-info">{badge}<b>Model:</b> {esc(model)}{extra}'
            f'{"<ul>" + items + "</ul>" if items else ""}</div>')


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
    notes = all_notes(images)
    html = "".join(f'<div class="lab-note">ℹ️ {esc(n)}</div>' for n in notes)
    if not images:
        html = '<div class="lab-note">Pick a built-in photo, upload images or take a webcam shot.</div>'
    return gallery, html


@user_errors
def run_labels(builtins: Any, files: Any, webcam: Any, labels: str, template: str, templates: str,
               progress: gr.Progress = gr.Progress()) -> tuple[Any, Any, Any, str]:
    import pandas as pd

    from core.vision import charts, service

    progress(0.1, desc="Reading images")
    images = _images(builtins, files, webcam)
    progress(0.3, desc="Scoring labels")
    result = service.zero_shot(images, labels, template)
    rows = []
    for i, name in enumerate(result.images):
        for label, prob in result.ranking(i):
            j = result.labels.index(label)
            row = {"image": name, "label": label, "prompt": result.prompts[j], "probability": round(prob, 4),
                   "cosine" if result.method == "clip" else "proxy similarity": round(result.scores[i][j], 4)}
            if result.evidence:
                row["closest ImageNet class"] = result.evidence[i][j]
            rows.append(row)
    compare = None
    if templates and templates.strip():
        progress(0.7, desc="Comparing templates")
        compare = charts.template_bars(service.compare_templates(images, labels, templates))
    extra = ""
    if result.top_classes:
        tops = "; ".join(f"{esc(name)}: " + ", ".join(f"{esc(c)} {p:.0%}" for c, p in tc[:3])
                         for name, tc in zip(result.images, result.top_classes))
        extra = f"<br><b>EfficientNet-Lite0 top ImageNet classes:</b> {tops}"
    return charts.label_bars(result), pd.DataFrame(rows), compare, _info(result.method, result.model, result.notes, extra)


@user_errors
def run_similarity(builtins: Any, files: Any, webcam: Any, captions: str,
                   progress: gr.Progress = gr.Progress()) -> tuple[Any, str]:
    from core.vision import charts, service

    progress(0.1, desc="Reading images")
    images = _images(builtins, files, webcam)
    progress(0.3, desc="Embedding images and captions")
    result = service.similarity(images, captions)
    best = "; ".join(f"{esc(name)} → “{esc(result.best_caption(i))}”" for i, name in enumerate(result.images))
    return charts.similarity_heatmap(result), _info(result.method, result.model, result.notes,
                                                    f"<br><b>Best caption per image:</b> {best}")


@user_errors
def run_view(builtins: Any, files: Any, webcam: Any) -> tuple[list, str]:
    from core.vision import service

    images = _images(builtins, files, webcam)
    result = service.model_views(images[0])
    w, h = result.original.size
    gallery = [(result.original, f"original · {w}×{h}")]
    steps = []
    for title, view in result.views:
        short = title.split(" (")[0].replace(" input", "")
        gallery.append((view.image, f"{short} sees {view.image.size[0]}×{view.image.size[1]}"))
        steps.append(f"<li><b>{esc(title)}</b>: " + "; ".join(esc(s) for s in view.steps) +
                     f" → tensor {esc(list(view.shape))}, values {view.value_range[0]:.2f} … {view.value_range[1]:.2f}</li>")
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
    more = f" (showing the first of {len(images)} images)" if len(images) > 1 else ""
    html = (f'<div class="vision-info"><b>What the model sees for “{esc(result.name)}”</b>{esc(more)}'
            f'<ul>{"".join(steps)}{notes}</ul>The displayed inputs are de-normalised (× std + mean) so they can be '
            'shown as pictures; the model receives the normalised numbers.</div>')
    return gallery, html


@user_errors
def run_captions(builtins: Any, files: Any, webcam: Any, model: str, n: float,
                 progress: gr.Progress = gr.Progress()) -> tuple[str, Any]:
    import pandas as pd

    from core.vision import service

    progress(0.05, desc="Reading images")
    images = _images(builtins, files, webcam)
    progress(0.2, desc="Writing candidate captions")
    result = service.captions(images, model, int(n))
    cards, rows = [], []
    for item in result.items:
        lis = "".join(f'<li>{esc(text)} <span class="score">{score:.3f}</span></li>' for text, score in item.candidates)
        cards.append(f'<div class="vision-cap"><h4>🖼️ {esc(item.name)}</h4><ol>{lis}</ol></div>')
        rows += [{"image": item.name, "rank": r + 1, "caption": t, "score": round(s, 4)}
                 for r, (t, s) in enumerate(item.candidates)]
    html = (_info(result.method, result.model, result.notes, f"<br><b>Ranked by:</b> {esc(result.ranked_by)}")
            + f'<div class="vision-caps">{"".join(cards)}</div>')
    return html, pd.DataFrame(rows)


@user_errors
def run_ask(builtins: Any, files: Any, webcam: Any, question: str, history: list | None) -> tuple[str, list, str]:
    from core.vision import service

    history = [tuple(t) for t in (history or [])]
    images = load_inputs(builtins or [], files, webcam, require=get_settings().mode == "hub")
    result = service.ask(images[0] if images else None, question, history)
    if result.available and result.answer is not None:
        history.append((" ".join(question.split()), result.answer))
    turns = "".join(f'<div class="vision-turn"><b>Q:</b> {esc(q)}<br><b>BLIP-2:</b> {esc(a)}</div>' for q, a in history)
    html = ""
    if not result.available:
        html += warn_html(result.message)
    html += f'<div class="lab-note">Prompt sent to BLIP-2:</div><div class="vision-prompt">{esc(result.prompt)}</div>'
    html += turns
    return html, [list(t) for t in history], ""


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        app_title(MANIFEST)
        gr.HTML(_banner(), elem_classes="vision-banner")
        with gr.Accordion("How it works (book §9.1–9.3)", open=False):
            gr.Markdown(EXPLAINER)
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
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
            with gr.Column(scale=3):
                with gr.Tabs():
                    with gr.Tab("Zero-shot labels", id="vision-labels-tab"):
                        with gr.Row():
                            labels = gr.Textbox(DEFAULT_LABELS, label="Candidate labels (comma-separated or one per line)",
                                                lines=2, scale=3, elem_id="vision-labels")
                            template = gr.Textbox("a photo of a {}", label="Template ({} = the label)", scale=2,
                                                  elem_id="vision-template")
                        templates = gr.Textbox(DEFAULT_TEMPLATES, lines=3, elem_id="vision-templates",
                                               label="Compare templates (one per line; empty = skip)")
                        label_btn = gr.Button("Score labels", variant="primary", elem_id="vision-label-btn")
                        label_info = gr.HTML(elem_id="vision-label-info")
                        label_plot = gr.Plot(label="Scores per label", elem_id="vision-label-plot")
                        template_plot = gr.Plot(label="How much the template matters (first image)")
                        label_table = gr.Dataframe(label="All scores", interactive=False, wrap=True, max_height=300)
                    with gr.Tab("Similarity matrix", id="vision-sim-tab"):
                        captions = gr.Textbox(DEFAULT_CAPTIONS, lines=4, label="Captions (one per line)",
                                              elem_id="vision-captions")
                        sim_btn = gr.Button("Compute the matrix", variant="primary", elem_id="vision-sim-btn")
                        sim_info = gr.HTML()
                        sim_plot = gr.Plot(label="Images × captions", elem_id="vision-sim-plot")
                    with gr.Tab("What the model sees", id="vision-view-tab"):
                        view_btn = gr.Button("Show the model's input", variant="primary", elem_id="vision-view-btn")
                        view_gallery = gr.Gallery(label="Original and model inputs", columns=3, height=330,
                                                  object_fit="contain", elem_id="vision-view-gallery")
                        view_info = gr.HTML()
                    with gr.Tab("Captions", id="vision-cap-tab"):
                        from core.vision.service import CAPTION_MODELS

                        with gr.Row():
                            cap_model = gr.Dropdown([(v, k) for k, v in CAPTION_MODELS.items()],
                                                    value="blip-caption-base", label="Captioning model (hub mode)")
                            cap_n = gr.Slider(1, 5, value=3, step=1, label="Candidate captions per image")
                        cap_btn = gr.Button("Write captions", variant="primary", elem_id="vision-cap-btn")
                        cap_html = gr.HTML(elem_id="vision-cap-html")
                        cap_table = gr.Dataframe(label="Candidates and scores", interactive=False, wrap=True,
                                                 max_height=260)
                    with gr.Tab("Ask about the image", id="vision-ask-tab"):
                        gr.Markdown("BLIP-2 answers with the book's chat format: earlier turns are prepended as "
                                    "`Question: … Answer: ….` and the new question ends with `Answer:`.")
                        history = gr.State([])
                        with gr.Row():
                            question = gr.Textbox("Write down what you see in this picture.", label="Question",
                                                  scale=4, elem_id="vision-question")
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="vision-ask-btn")
                        ask_html = gr.HTML()
                        clear_btn = gr.Button("Clear the conversation", size="sm", variant="secondary")
        sources = [builtins, files, webcam]
        for comp in sources:
            comp.change(preview, sources, [gallery, input_notes], api_visibility="private", show_progress="hidden")
        demo.load(preview, sources, [gallery, input_notes], api_visibility="private", show_progress="hidden")
        heavy = {"concurrency_id": HEAVY, "concurrency_limit": heavy_limit()}
        label_btn.click(run_labels, [*sources, labels, template, templates],
                        [label_plot, label_table, template_plot, label_info], api_name="vision_labels", **heavy)
        sim_btn.click(run_similarity, [*sources, captions], [sim_plot, sim_info], api_name="vision_similarity", **heavy)
        view_btn.click(run_view, sources, [view_gallery, view_info], api_name="vision_view", **heavy)
        cap_btn.click(run_captions, [*sources, cap_model, cap_n], [cap_html, cap_table], api_name="vision_caption",
                      **heavy)
        ask_btn.click(run_ask, [*sources, question, history], [ask_html, history, question], api_name="vision_ask",
                      **heavy)
        question.submit(run_ask, [*sources, question, history], [ask_html, history, question], api_visibility="private", **heavy)
        clear_btn.click(lambda: ([], ""), None, [history, ask_html], api_visibility="private", queue=False)
    return demo

