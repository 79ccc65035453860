"""The Multimodal Captioner's take-home row: a link to the image choice (built-in photos, or uploaded
images stored with the link), labels, templates and captions; the scores and captions as JSON under a
provenance header; and the notebook (:mod:`core.vision.notebook`)."""
from __future__ import annotations

import base64
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from apps.common import error_html
from apps.common.takehome import TakeHome, restore, takehome
from core.errors import LabError
from core.links import param_float, param_list
from core.tempfiles import scratch_dir
from apps.vision import MANIFEST

SLUG = "vision"
#: Link keys of the text settings, in the order given to :func:`build` (after builtins, files, webcam).
KEYS = ("labels", "template", "templates", "captions", "cap_model", "cap_n")


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _split(values: tuple[Any, ...]) -> tuple[list[str], Any, Any, dict[str, Any], Any]:
    builtins, files, webcam = values[:3]
    return list(builtins or []), files, webcam, dict(zip(KEYS, values[3:3 + len(KEYS)])), values[3 + len(KEYS)]


def _uploads(files: Any, webcam: Any) -> list[tuple[str, bytes]]:
    from core.vision.images import load_inputs

    if not files and not webcam:
        return []
    return [(it.name, _png(it.image)) for it in load_inputs([], files, webcam)]


def link_state(*values: Any) -> dict[str, Any]:
    builtins, files, webcam, state, _ = _split(values)
    state["builtins"] = builtins
    images = _uploads(files, webcam)
    if images:
        state["images"] = [{"name": n, "png": base64.b64encode(b).decode()} for n, b in images]
    if not builtins and not images:
        raise LabError("Pick a built-in photo or upload an image first: the link reopens the app with it.")
    return state


def _lists(state: dict[str, Any]) -> dict[str, Any]:
    from core.vision.images import parse_list

    lines = lambda text: [t.strip() for t in str(text or "").replace("\r", "").split("\n") if t.strip()]  # noqa: E731
    return {"labels": parse_list(state.get("labels"), what="label"), "template": state.get("template") or "{}",
            "templates": list(dict.fromkeys(lines(state.get("templates")))),
            "captions": parse_list(lines(state.get("captions")), what="caption", limit=12, max_chars=300)
            if lines(state.get("captions")) else [], "cap_model": state.get("cap_model"), "cap_n": state.get("cap_n")}


def make_notebook(*values: Any) -> Any:
    from core.vision.notebook import notebook

    builtins, files, webcam, state, _ = _split(values)
    uploads = _uploads(files, webcam)
    if not builtins and not uploads:
        raise LabError("Pick a built-in photo or upload an image first: the notebook scores it.")
    return notebook({**_lists(state), "builtins": builtins}, uploads, app=MANIFEST)


def results(*values: Any) -> tuple[str, bytes]:
    """Label scores (and the template comparison), the similarity matrix and the captions shown."""
    from core.provenance import header
    from core.settings import get_settings
    from core.vision import service
    from core.vision.images import load_inputs

    builtins, files, webcam, state, cap_table = _split(values)
    images = load_inputs(builtins, files, webcam)
    lists = _lists(state)
    labels = service.zero_shot(images, lists["labels"], lists["template"])
    compare = service.compare_templates(images, lists["labels"], lists["templates"]) if lists["templates"] else []
    sim = service.similarity(images, lists["captions"]) if lists["captions"] else None
    shown = cap_table.to_dict(orient="records") if hasattr(cap_table, "to_dict") and len(cap_table) else []
    models = ["efficientnet-lite0", "embed-minilm"] if get_settings().offline else ["clip-vit-b32"]
    doc = {"provenance": header(SLUG, models, {**lists, "images": [it.name for it in images]}),
           "labels": {"method": labels.method, "model": labels.model, "images": labels.images, "prompts": labels.prompts,
                      "probabilities": labels.probs, "scores": labels.scores, "top_classes": labels.top_classes,
                      "evidence": labels.evidence, "notes": labels.notes},
           "templates": [{"template": r.template, "probabilities": r.probs} for r in compare],
           "similarity": None if sim is None else {"images": sim.images, "captions": sim.captions,
                                                   "cosine": sim.cosine, "probabilities": sim.probs,
                                                   "method": sim.method},
           "captions": shown}
    return "llm-lab-vision.json", json.dumps(doc, indent=1, ensure_ascii=False, default=str).encode()


def _restored(params: dict[str, Any]) -> list[Any]:
    """Updates for builtins, files, then :data:`KEYS`."""
    from core.vision.images import builtin_keys

    builtins = [k for k in param_list(params.get("builtins")) if k in builtin_keys()] if "builtins" in params else None
    files: Any = gr.skip()
    if isinstance(params.get("images"), list) and params["images"]:
        folder = scratch_dir(Path(tempfile.gettempdir()), "llm-lab-vision-link-")  # Gradio copies the images
        paths = []
        for i, item in enumerate(params["images"]):
            try:
                data = base64.b64decode(str(item["png"]), validate=True)
            except (KeyError, TypeError, ValueError):
                raise LabError("An image stored with this link is damaged; the other settings are not restored.") from None
            name = Path(str(item.get("name") or f"image-{i}")).stem[:60] or f"image-{i}"
            path = folder / f"{name}.png"
            path.write_bytes(data)
            paths.append(str(path))
        files = paths

    def text(key: str) -> Any:
        return str(params[key]) if key in params else gr.skip()

    return [builtins if builtins is not None else gr.skip(), files, text("labels"), text("template"),
            text("templates"), text("captions"), text("cap_model"),
            param_float(params["cap_n"], 3) if "cap_n" in params else gr.skip()]


def build(demo: gr.Blocks, sources: list[Any], settings: list[Any], cap_table: Any) -> TakeHome:
    """The row and the link restore on page load (sources: builtins, files, webcam)."""
    row = takehome(SLUG, [*sources, *settings, cap_table], link_state=link_state, results=results,
                   notebook=make_notebook)
    targets = [sources[0], sources[1], *settings]

    def on_load(request: gr.Request) -> list[Any]:
        try:
            params = restore(SLUG, request)
            if not params:
                return [gr.skip()] * (len(targets) + 1)
            return _restored(params) + ['<div class="lab-note">Restored from the link: press Score labels (or '
                                        'another tab\'s button) to compute the same results again.</div>']
        except LabError as exc:
            return [gr.skip()] * len(targets) + [error_html(str(exc))]

    demo.load(on_load, None, targets + [row.message], api_visibility="private", show_progress="hidden")
    return row
