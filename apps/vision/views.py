"""The Multimodal Captioner's HTML: banner, method badges, the model's-view notes, caption cards,
the BLIP-2 conversation, and the explainer text."""
from __future__ import annotations

from typing import Any

from apps.common import esc, warn_html
from core.settings import get_settings

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

PICK_IMAGES = '<div class="lab-note">Pick a built-in photo, upload images or take a webcam shot.</div>'


def banner() -> str:
    """One line on what runs here; the details fold away (a phone's first screen is for the app)."""
    if get_settings().offline:
        return ('<details class="lab-warn vision-offline"><summary><b>Offline mode:</b> labelled stand-ins run '
                "here, not CLIP or BLIP — why?</summary>No package ships CLIP or BLIP weights, so this app runs an "
                "honest fallback: EfficientNet-Lite0 ImageNet probabilities mapped onto your labels by MiniLM, and "
                "captions written by SmolLM2 from the top classes. Every result says which method produced it. "
                "Question answering needs BLIP-2 and is not faked.</details>")
    return ('<div class="lab-note">Hub mode: CLIP ViT-B/32 (openai/clip-vit-base-patch32), BLIP base on the CPU, '
            'BLIP-2 OPT-2.7b under ZeroGPU.</div>')


def info(method: str, model: str, notes: list[str], extra: str = "") -> str:
    """The method badge (CLIP or an offline proxy), the model, and the result's notes."""
    proxy = method != "clip" and "clip" not in method
    badge = (f'<span class="method {"proxy" if proxy else "clip"}">'
             f'{"offline proxy — not CLIP" if proxy else esc(method)}</span>')
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return (f'<div class="vision-info">{badge}<b>Model:</b> {esc(model)}{extra}'
            f'{"<ul>" + items + "</ul>" if items else ""}</div>')


def input_notes(notes: list[str]) -> str:
    return "".join(f'<div class="lab-note">ℹ️ {esc(n)}</div>' for n in notes)


def top_classes(result: Any) -> str:
    """EfficientNet-Lite0's top ImageNet classes per image (offline labels), or ''."""
    if not result.top_classes:
        return ""
    tops = "; ".join(f"{esc(name)}: " + ", ".join(f"{esc(c)} {p:.0%}" for c, p in tc[:3])
                     for name, tc in zip(result.images, result.top_classes))
    return f"<br><b>EfficientNet-Lite0 top ImageNet classes:</b> {tops}"


def best_captions(result: Any) -> str:
    best = "; ".join(f"{esc(name)} → “{esc(result.best_caption(i))}”" for i, name in enumerate(result.images))
    return f"<br><b>Best caption per image:</b> {best}"


def model_view(result: Any, n_images: int) -> tuple[list, str]:
    """Gallery items (original + each model's input) and the preprocessing steps."""
    w, h = result.original.size
    gallery = [(result.original, f"original · {w}×{h}")]
    steps = []
    for title, view in result.views:
        short = title.split(" (")[0].replace(" input", "")
        gallery.append((view.image, f"{short} sees {view.image.size[0]}×{view.image.size[1]}"))
        steps.append(f"<li><b>{esc(title)}</b>: " + "; ".join(esc(s) for s in view.steps) +
                     f" → tensor {esc(list(view.shape))}, values {view.value_range[0]:.2f} … {view.value_range[1]:.2f}</li>")
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
    more = f" (showing the first of {n_images} images)" if n_images > 1 else ""
    html = (f'<div class="vision-info"><b>What the model sees for “{esc(result.name)}”</b>{esc(more)}'
            f'<ul>{"".join(steps)}{notes}</ul>The displayed inputs are de-normalised (× std + mean) so they can be '
            'shown as pictures; the model receives the normalised numbers.</div>')
    return gallery, html


def caption_cards(result: Any) -> str:
    cards = []
    for item in result.items:
        lis = "".join(f'<li>{esc(text)} <span class="score">{score:.3f}</span></li>' for text, score in item.candidates)
        cards.append(f'<div class="vision-cap"><h4>🖼️ {esc(item.name)}</h4><ol>{lis}</ol></div>')
    return (info(result.method, result.model, result.notes, f"<br><b>Ranked by:</b> {esc(result.ranked_by)}")
            + f'<div class="vision-caps">{"".join(cards)}</div>')


def conversation(result: Any, history: list[tuple[str, str]]) -> str:
    """The prompt BLIP-2 receives and the turns so far (or why it cannot answer here)."""
    html = "" if result.available else warn_html(result.message)
    html += f'<div class="lab-note">Prompt sent to BLIP-2:</div><div class="vision-prompt">{esc(result.prompt)}</div>'
    return html + "".join(f'<div class="vision-turn"><b>Q:</b> {esc(q)}<br><b>BLIP-2:</b> {esc(a)}</div>'
                          for q, a in history)
