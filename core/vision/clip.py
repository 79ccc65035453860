"""CLIP (book §9.2): zero-shot labels, the image–text similarity matrix, caption re-ranking,
and "what the model sees" (the processor's 224×224 input, de-normalised for display).

Every function takes a :class:`ClipBundle` (model + processor) so the same code runs with the
book's ``openai/clip-vit-base-patch32`` and with the tiny randomly initialised models of the tests.
torch/transformers are imported inside functions only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence


@dataclass
class ClipBundle:
    """A CLIP model with its processor (what the ``clip`` loader returns)."""

    model: Any  # transformers.CLIPModel
    processor: Any  # transformers.CLIPProcessor
    label: str = "CLIP"

    @property
    def logit_scale(self) -> float:
        return float(self.model.logit_scale.detach().exp().item())


def default_image_processor() -> Any:
    """CLIP's image preprocessing with the defaults of ``openai/clip-vit-base-patch32``
    (shortest edge 224, bicubic, centre crop 224×224, OpenAI mean/std). Needs no weights."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from transformers import CLIPImageProcessorPil as Processor  # no torchvision needed
        except ImportError:  # older transformers
            from transformers import CLIPImageProcessor as Processor
        return Processor()


def _image_processor(processor: Any) -> Any:
    return getattr(processor, "image_processor", processor)


@dataclass
class ModelView:
    """What a vision model receives for one image."""

    image: Any  # PIL.Image: the de-normalised model input (e.g. 224×224)
    shape: tuple[int, ...]  # pixel_values shape, e.g. (1, 3, 224, 224)
    steps: list[str]
    value_range: tuple[float, float]  # of the normalised tensor


def processor_view(processor: Any, image: Any) -> ModelView:
    """Run the real image processor and undo the normalisation so the input can be shown."""
    import numpy as np
    from PIL import Image

    ip = _image_processor(processor)
    pixels = np.asarray(ip(images=image, return_tensors="np")["pixel_values"], dtype=np.float32)
    mean = np.asarray(getattr(ip, "image_mean", (0.5, 0.5, 0.5)), dtype=np.float32)[:, None, None]
    std = np.asarray(getattr(ip, "image_std", (0.5, 0.5, 0.5)), dtype=np.float32)[:, None, None]
    chw = pixels[0]
    shown = np.clip((chw * std + mean) * 255.0, 0, 255).round().astype("uint8")
    shown = np.einsum("chw->hwc", shown)  # the book's permute for plt.imshow
    size = getattr(ip, "size", None)
    crop = getattr(ip, "crop_size", None)
    edge = getattr(size, "shortest_edge", None) or (size.get("shortest_edge") if isinstance(size, dict) else None)
    steps = []
    if edge:
        steps.append(f"resize the shorter side to {edge} px (aspect ratio kept)")
    elif size is not None:
        h = getattr(size, "height", None) or (size.get("height") if isinstance(size, dict) else None)
        w = getattr(size, "width", None) or (size.get("width") if isinstance(size, dict) else None)
        steps.append(f"resize to {w}×{h} (aspect ratio NOT kept)")
    if crop is not None and getattr(ip, "do_center_crop", False):
        ch = getattr(crop, "height", None) or crop.get("height")
        cw = getattr(crop, "width", None) or crop.get("width")
        steps.append(f"centre-crop {cw}×{ch} (the edges of wide or tall images are cut off)")
    steps.append("scale to 0–1, subtract the mean and divide by the std per channel "
                 f"(mean {tuple(round(float(m), 3) for m in mean.ravel())}, "
                 f"std {tuple(round(float(s), 3) for s in std.ravel())})")
    return ModelView(Image.fromarray(shown), tuple(pixels.shape), steps,
                     (float(chw.min()), float(chw.max())))


def _inputs(bundle: ClipBundle, images: Sequence[Any] | None, texts: Sequence[str] | None) -> Any:
    kwargs: dict[str, Any] = {"return_tensors": "pt"}
    if texts is not None:
        kwargs.update(text=list(texts), padding=True, truncation=True, max_length=77)
    if images is not None:
        kwargs["images"] = list(images)
    inputs = bundle.processor(**kwargs)
    device = next(bundle.model.parameters()).device
    return {k: v.to(device) for k, v in inputs.items()}


def _features(out: Any) -> Any:
    """``get_*_features`` return a tensor (transformers 4) or an output with ``pooler_output`` (5)."""
    return out if hasattr(out, "norm") else out.pooler_output


def image_embeddings(bundle: ClipBundle, images: Sequence[Any]) -> Any:
    """L2-normalised image embeddings, numpy [N, D]."""
    import torch

    inputs = _inputs(bundle, images, None)
    with torch.inference_mode():
        feats = _features(bundle.model.get_image_features(pixel_values=inputs["pixel_values"]))
    feats = feats / feats.norm(dim=-1, keepdim=True)
    return feats.float().cpu().numpy()


def text_embeddings(bundle: ClipBundle, texts: Sequence[str]) -> Any:
    """L2-normalised text embeddings, numpy [M, D]."""
    import torch

    inputs = _inputs(bundle, None, texts)
    with torch.inference_mode():
        feats = _features(bundle.model.get_text_features(
            input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask")))
    feats = feats / feats.norm(dim=-1, keepdim=True)
    return feats.float().cpu().numpy()


@dataclass
class ClipScores:
    """Cosine similarities and CLIP's softmax over the texts, images × texts."""

    cosine: Any  # numpy [N, M]
    probs: Any  # numpy [N, M], softmax over texts of logit_scale · cosine
    logit_scale: float


def score(bundle: ClipBundle, images: Sequence[Any], texts: Sequence[str]) -> ClipScores:
    """One forward pass of CLIP over N images and M texts (the book's similarity matrix)."""
    import torch

    inputs = _inputs(bundle, images, texts)
    with torch.inference_mode():
        out = bundle.model(**inputs)
    img = out.image_embeds / out.image_embeds.norm(dim=-1, keepdim=True)
    txt = out.text_embeds / out.text_embeds.norm(dim=-1, keepdim=True)
    cosine = (img @ txt.T).float().cpu()
    probs = out.logits_per_image.float().softmax(dim=-1).cpu()
    return ClipScores(cosine.numpy(), probs.numpy(), bundle.logit_scale)


def rerank(bundle: ClipBundle, image: Any, candidates: Sequence[str]) -> list[tuple[str, float]]:
    """Order candidate captions for one image by CLIP cosine similarity, best first."""
    if not candidates:
        return []
    scores = score(bundle, [image], list(candidates))
    ranked = sorted(zip(candidates, scores.cosine[0].tolist()), key=lambda p: -p[1])
    return [(text, float(s)) for text, s in ranked]


def load_clip(hub_id: str, revision: str = "main") -> ClipBundle:
    """The book's loading code (``CLIPModel``/``CLIPProcessor``)."""
    from transformers import CLIPModel, CLIPProcessor

    from core.gpu import device

    processor = CLIPProcessor.from_pretrained(hub_id, revision=revision)
    model = CLIPModel.from_pretrained(hub_id, revision=revision).to(device()).eval()
    return ClipBundle(model, processor, hub_id)
