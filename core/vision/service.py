"""What the Multimodal Captioner's UI calls: one function per feature, dispatching on the mode.

Hub mode runs the book's models (CLIP ViT-B/32, BLIP base, BLIP-2 under ZeroGPU). Offline mode
runs the honest fallback of :mod:`core.vision.offline` and says so in ``method``/``notes``.
Results are small dataclasses that the UI renders and the tests assert on.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Sequence

from core.errors import LabError, ModelUnavailable
from core.settings import get_settings
from core.vision.images import InputImage, all_notes, apply_template, parse_list

CLIP = "clip-vit-b32"
BLIP = "blip-caption-base"
BLIP2 = "blip2-opt-2.7b"
EFFNET = "efficientnet-lite0"

OFFLINE_LABELS = ("Offline fallback — not CLIP: EfficientNet-Lite0 ImageNet probabilities, mapped onto "
                  "your labels by MiniLM similarity between each label and the ImageNet class names/glosses.")
OFFLINE_SIMILARITY = ("Offline fallback — not CLIP: each image is represented by the MiniLM embedding of its "
                      "top ImageNet classes (EfficientNet-Lite0), compared with each caption's MiniLM embedding.")
OFFLINE_CAPTIONS = ("Offline fallback — not BLIP: SmolLM2-135M writes candidate captions from the "
                    "EfficientNet-Lite0 top classes (it never sees the pixels); candidates are re-ranked by "
                    "the same MiniLM proxy similarity, not by CLIP.")
NEEDS_BLIP2 = ("Visual question answering needs BLIP-2 (Salesforce/blip2-opt-2.7b), which is only available "
               "in hub mode on a GPU (a ZeroGPU Space). Nothing offline can look at the image and answer, so "
               "no answer is made up. This is the exact prompt BLIP-2 would receive:")

CAPTION_MODELS = {BLIP: "BLIP base (CPU)", BLIP2: "BLIP-2 OPT-2.7b (ZeroGPU)"}


def mode() -> str:
    return get_settings().mode


def _display(name: str) -> str:
    from core import catalogue

    return catalogue.get(name).display(mode())


# --------------------------------------------------------------------------------------------
# offline ImageNet probabilities, cached per image content
# --------------------------------------------------------------------------------------------

def _probs_cache() -> Any:
    from core.cache import budget_cache

    return budget_cache("vision.probs", max_items=256)  # 4 KB per image, in the lab-wide budget


def _image_key(img: Any) -> str:
    return hashlib.blake2b(img.tobytes(), digest_size=16).hexdigest() + f"{img.size}"


def offline_probs(images: Sequence[InputImage]) -> Any:
    """ImageNet probabilities of each image, ``[n, 1000]`` (cached per image content)."""
    import numpy as np

    from core.vision import offline

    cache = _probs_cache()
    keys = [_image_key(it.image) for it in images]
    found = {k: v for k in keys if (v := cache.get(k)) is not None}
    missing = [i for i, k in enumerate(keys) if k not in found]
    if missing:
        fresh = offline.imagenet_probs([images[i].image for i in missing])
        for i, p in zip(missing, fresh):
            found[keys[i]] = p
            cache.put(keys[i], p)
    return np.stack([found[k] for k in keys])


# --------------------------------------------------------------------------------------------
# zero-shot labels
# --------------------------------------------------------------------------------------------

@dataclass
class LabelResult:
    images: list[str]
    labels: list[str]
    template: str
    prompts: list[str]
    probs: list[list[float]]  # images × labels, softmax over labels
    scores: list[list[float]]  # images × labels: CLIP cosine (hub) or proxy similarity (offline)
    method: str  # "clip" | "offline-proxy"
    model: str
    notes: list[str] = field(default_factory=list)
    evidence: list[list[str]] = field(default_factory=list)  # offline: ImageNet class behind each label
    top_classes: list[list[tuple[str, float]]] = field(default_factory=list)  # offline: top ImageNet classes

    def ranking(self, i: int = 0) -> list[tuple[str, float]]:
        return sorted(zip(self.labels, self.probs[i]), key=lambda p: -p[1])

    def top(self, i: int = 0) -> str:
        return self.ranking(i)[0][0]


def zero_shot(images: Sequence[InputImage], labels: str | Sequence[str], template: str = "a photo of a {}",
              *, _probs: Any = None) -> LabelResult:
    """Score free-text labels for each image (CLIP in hub mode, the proxy offline)."""
    labels = parse_list(labels, what="label")
    prompts = apply_template(template, labels)
    if not images:
        raise LabError("No image given.")
    names = [it.name for it in images]
    notes = all_notes(images)
    if mode() == "hub":
        from core.loader import load
        from core.vision.clip import score

        bundle = load(CLIP)
        s = score(bundle, [it.image for it in images], prompts)
        notes.append(f"Softmax over the {len(labels)} prompts of CLIP's logit scale ({s.logit_scale:.0f}) × cosine "
                     "similarity: scores are relative to the labels you typed.")
        return LabelResult(names, labels, template, prompts, s.probs.tolist(), s.cosine.tolist(), "clip",
                           _display(CLIP), notes)
    from core.vision import offline

    probs = _probs if _probs is not None else offline_probs(images)
    match = offline.match_labels(probs, prompts)
    notes.insert(0, OFFLINE_LABELS)
    return LabelResult(names, labels, template, prompts, match.probs.tolist(), match.raw.tolist(), "offline-proxy",
                       "EfficientNet-Lite0 + MiniLM (offline)", notes, match.best_class, match.top_classes)


def compare_templates(images: Sequence[InputImage], labels: str | Sequence[str],
                      templates: str | Sequence[str]) -> list[LabelResult]:
    """The same labels under several templates (how much does the template matter?)."""
    lines = templates.replace("\r", "").split("\n") if isinstance(templates, str) else list(templates)
    tmpl = list(dict.fromkeys(t.strip() for t in lines if t and t.strip()))  # one per line (commas allowed)
    if not tmpl:
        raise LabError("Type at least one template, one per line, each with a {} placeholder.")
    if len(tmpl) > 6:
        raise LabError(f"{len(tmpl)} templates given; compare at most 6 at a time.")
    for t in tmpl:
        apply_template(t, ["x"])  # validate before running anything
    probs = offline_probs(images) if mode() != "hub" else None
    return [zero_shot(images, labels, t, _probs=probs) for t in tmpl]


# --------------------------------------------------------------------------------------------
# similarity matrix
# --------------------------------------------------------------------------------------------

@dataclass
class SimilarityResult:
    images: list[str]
    captions: list[str]
    cosine: list[list[float]]  # images × captions
    probs: list[list[float]]  # images × captions, softmax over captions
    method: str
    model: str
    notes: list[str] = field(default_factory=list)

    def best_caption(self, i: int) -> str:
        row = self.cosine[i]
        return self.captions[max(range(len(row)), key=row.__getitem__)]


def similarity(images: Sequence[InputImage], captions: str | Sequence[str]) -> SimilarityResult:
    import numpy as np

    lines = captions.replace("\r", "").split("\n") if isinstance(captions, str) else list(captions)
    captions = parse_list(lines, what="caption", limit=12, max_chars=300)  # one per line (commas allowed)
    if not images:
        raise LabError("No image given.")
    names = [it.name for it in images]
    notes = all_notes(images)
    if mode() == "hub":
        from core.loader import load
        from core.vision.clip import score

        s = score(load(CLIP), [it.image for it in images], captions)
        notes.append("Raw CLIP cosine values are small (the book's matching pairs score about 0.3); "
                     "read them relative to each other.")
        return SimilarityResult(names, captions, s.cosine.tolist(), s.probs.tolist(), "clip", _display(CLIP), notes)
    from core.vision import offline

    img = offline.proxy_image_embeddings(offline_probs(images))
    txt = offline.embed(captions)
    cos = img @ txt.T
    z = cos * offline.LABEL_SCALE
    z = np.exp(z - z.max(axis=1, keepdims=True))
    notes.insert(0, OFFLINE_SIMILARITY)
    return SimilarityResult(names, captions, cos.tolist(), (z / z.sum(axis=1, keepdims=True)).tolist(),
                            "offline-proxy", "EfficientNet-Lite0 + MiniLM (offline)", notes)


# --------------------------------------------------------------------------------------------
# what the model sees
# --------------------------------------------------------------------------------------------

@dataclass
class ViewResult:
    name: str
    original: Any  # PIL image as given (after EXIF/RGB/downscale)
    views: list[tuple[str, Any]]  # (title, core.vision.clip.ModelView)
    notes: list[str] = field(default_factory=list)


def model_views(item: InputImage) -> ViewResult:
    """The real preprocessing of CLIP (weights not needed) and, offline, of EfficientNet-Lite0."""
    from core.vision.clip import default_image_processor, processor_view

    notes = list(item.notes)
    views = []
    processor = None
    if mode() == "hub":
        from core.loader import load

        processor = load(CLIP).processor
    title = "CLIP ViT-B/32 input" + ("" if processor is not None else " (processor defaults; no CLIP weights offline)")
    views.append((title, processor_view(processor or default_image_processor(), item.image)))
    if mode() != "hub":
        from core.vision.offline import efficientnet_view

        views.append(("EfficientNet-Lite0 input (the offline model)", efficientnet_view(item.image)))
    w, h = item.image.size
    if max(w, h) / max(1, min(w, h)) > 1.3:
        notes.append(f"The image is {w}×{h} (aspect {max(w, h) / min(w, h):.2f}:1): the centre crop drops "
                     f"{(1 - min(w, h) / max(w, h)):.0%} of the longer side, so objects near the edges are not seen.")
    return ViewResult(item.name, item.image, views, notes)


# --------------------------------------------------------------------------------------------
# captions
# --------------------------------------------------------------------------------------------

@dataclass
class ImageCaptions:
    name: str
    candidates: list[tuple[str, float]]  # best first

    @property
    def best(self) -> str:
        return self.candidates[0][0] if self.candidates else ""


@dataclass
class CaptionResult:
    items: list[ImageCaptions]
    method: str  # "blip+clip" | "blip2+clip" | "offline-smollm2"
    model: str
    ranked_by: str
    notes: list[str] = field(default_factory=list)


def rerank_loop(images: Sequence[Any], candidates: Sequence[Sequence[str]], scorer: Any) -> list[list[tuple[str, float]]]:
    """Score each image's candidates with ``scorer(image, texts) -> list[float]``; best first."""
    out = []
    for img, cands in zip(images, candidates):
        cands = list(dict.fromkeys(c for c in cands if c))
        scores = list(scorer(img, cands)) if cands else []
        out.append(sorted(zip(cands, [float(s) for s in scores]), key=lambda p: -p[1]))
    return out


def captions(images: Sequence[InputImage], model: str = BLIP, n: int = 3) -> CaptionResult:
    if not images:
        raise LabError("No image given.")
    n = int(n)
    if not 1 <= n <= 8:
        raise LabError("Ask for between 1 and 8 candidate captions.")
    notes = all_notes(images)
    pics = [it.image for it in images]
    if mode() == "hub":
        from core.loader import load
        from core.vision import blip as blipmod
        from core.vision.clip import score

        if model == BLIP2:
            from core.gpu import call_with_cpu_fallback, device

            if device() != "cuda":
                raise ModelUnavailable("BLIP-2 OPT-2.7b needs a GPU (it runs under ZeroGPU on the Space).",
                                       hint="Choose BLIP base, which runs on the CPU.")
            def on_cpu(_name: str, imgs: Sequence[Any], k: int) -> list[list[str]]:
                bundle = load(BLIP)  # BLIP base fits the CPU; BLIP-2 does not
                return [blipmod.generate(bundle, img, n=k) for img in imgs]

            cands = call_with_cpu_fallback(blipmod.gpu_captions, on_cpu, BLIP2, pics, n,
                                           on_fallback=lambda msg: notes.append(msg + " (BLIP base)"))
            if any("Running on the CPU" in n_ for n_ in notes):
                model = BLIP
        elif model == BLIP:
            bundle = load(BLIP)
            cands = [blipmod.generate(bundle, img, n=n) for img in pics]
        else:
            raise LabError(f"Unknown captioning model {model!r}; choose one of {', '.join(CAPTION_MODELS)}.")
        clip_bundle = load(CLIP)
        ranked = rerank_loop(pics, cands, lambda img, texts: score(clip_bundle, [img], texts).cosine[0])
        kind = "blip2" if model == BLIP2 else "blip"
        notes.append(f"{len(cands[0]) if cands else 0} beam-search candidates per image, re-ranked by CLIP cosine "
                     "similarity (the best match to the image first).")
        return CaptionResult([ImageCaptions(it.name, r) for it, r in zip(images, ranked)], f"{kind}+clip",
                             _display(model), f"CLIP ({_display(CLIP)}) cosine similarity", notes)
    from core.vision import offline

    probs = offline_probs(images)
    proxies = offline.proxy_image_embeddings(probs)
    info = offline.imagenet_info()
    import numpy as np

    cands = []
    for p in probs:
        idx = np.argsort(-p)[:5]
        cands.append(offline.write_captions([(info.short(j), float(p[j])) for j in idx], n=n))
    proxy_of = {id(img): proxies[i] for i, img in enumerate(pics)}
    ranked = rerank_loop(pics, cands, lambda img, texts: offline.embed(texts) @ proxy_of[id(img)])
    notes.insert(0, OFFLINE_CAPTIONS)
    return CaptionResult([ImageCaptions(it.name, r) for it, r in zip(images, ranked)], "offline-smollm2",
                         "SmolLM2-135M + EfficientNet-Lite0 (offline)",
                         "MiniLM similarity to the image's top ImageNet classes (proxy, not CLIP)", notes)


# --------------------------------------------------------------------------------------------
# visual question answering (BLIP-2)
# --------------------------------------------------------------------------------------------

@dataclass
class VqaResult:
    prompt: str  # the exact `Question: … Answer:` text BLIP-2 receives
    answer: str | None  # None when BLIP-2 is not available (never made up)
    available: bool
    message: str = ""


def ask(item: InputImage | None, question: str, history: Sequence[tuple[str, str]] = ()) -> VqaResult:
    from core.vision.blip import vqa_prompt

    question = " ".join((question or "").split())
    if not question:
        raise LabError("Type a question about the image first.")
    if len(question) > 500:
        raise LabError(f"The question has {len(question)} characters; keep it under 500.")
    prompt = vqa_prompt(question, list(history)[-4:])
    from core.gpu import device

    if mode() != "hub" or device() != "cuda":
        return VqaResult(prompt, None, False, NEEDS_BLIP2)
    if item is None:
        raise LabError("No image given.")
    from core.gpu import call_with_cpu_fallback
    from core.vision.blip import gpu_answer

    answer = call_with_cpu_fallback(gpu_answer, None, BLIP2, item.image, prompt)
    return VqaResult(prompt, answer, True, "")
