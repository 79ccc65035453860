"""The offline fallback (no CLIP/BLIP weights exist in any package; see shared/MODELS.md).

* **Labels**: EfficientNet-Lite0 gives ImageNet-1k probabilities; the user's free-text labels are
  matched to ImageNet classes by MiniLM similarity between the label and each class's names and
  WordNet gloss; a label's score is the probability-weighted similarity over the image's top
  classes. It is a proxy, not CLIP, and the UI says so.
* **Similarity matrix**: the same proxy: an image is represented by the probability-weighted
  MiniLM embedding of its top classes, compared with each caption's MiniLM embedding.
* **Captions**: SmolLM2 writes a sentence from the top classes (it never sees the pixels).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Sequence

from core.errors import ModelUnavailable

WEIGHTS = "efficientnet-lite0-57934424.pth"
CLASS_EMB_CACHE = "vision-imagenet-minilm-v1.npz"
TOP_K = 10  # ImageNet classes that represent an image
LABEL_SCALE = 10.0  # softmax temperature for label scores (cosine units → probabilities)


@dataclass(frozen=True)
class ImageNetInfo:
    synsets: list[str]
    names: list[str]  # "tabby, tabby cat"
    glosses: list[str]

    def short(self, i: int) -> str:
        return self.names[i].split(",")[0].strip()


@functools.lru_cache(maxsize=1)
def imagenet_info() -> ImageNetInfo:
    from core.assets import asset_file

    def table(rel: str) -> dict[str, str]:
        out = {}
        for line in asset_file("imagenet-info", rel).read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                k, v = line.split("\t", 1)
                out[k.strip()] = v.strip()
        return out

    synsets = [s.strip() for s in asset_file("imagenet-info", "imagenet_synsets.txt").read_text().split() if s.strip()]
    lemma, gloss = table("imagenet_synset_to_lemma.txt"), table("imagenet_synset_to_definition.txt")
    if len(synsets) != 1000:
        raise ModelUnavailable(f"imagenet-info lists {len(synsets)} classes, expected 1000; re-run the asset fetch.")
    return ImageNetInfo(synsets, [lemma.get(s, s) for s in synsets], [gloss.get(s, "") for s in synsets])


def load_efficientnet(entry: Any = None, settings: Any = None) -> Any:
    """EfficientNet-Lite0 with the packaged ImageNet weights (model code: efficientnet-lite-pytorch)."""
    import contextlib
    import io

    from core.assets import asset_file

    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:  # pragma: no cover - requirements install it
        raise ModelUnavailable("The efficientnet-lite-pytorch package is not installed.",
                               hint="pip install efficientnet-lite-pytorch==0.1.0") from exc
    weights = asset_file("efficientnet-lite0", WEIGHTS)
    if not weights.exists():
        found = sorted(weights.parent.glob("*.pth"))
        if not found:
            raise ModelUnavailable("EfficientNet-Lite0 weights are missing.", hint="Run `python -m core.assets fetch`.")
        weights = found[0]
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints "Loaded pretrained weights"
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights))
    return model.eval()


def preprocess(images: Sequence[Any]) -> Any:
    """EfficientNet-Lite0's input: shorter side 256, centre crop 224, (x/255 − 0.5)/0.5, NCHW."""
    import numpy as np
    import torch
    from PIL import Image

    batch = []
    for img in images:
        w, h = img.size
        s = 256 / min(w, h)
        im = img.convert("RGB").resize((max(224, round(w * s)), max(224, round(h * s))), Image.BICUBIC)
        W, H = im.size
        left, top = (W - 224) // 2, (H - 224) // 2
        im = im.crop((left, top, left + 224, top + 224))
        batch.append(np.asarray(im, dtype=np.float32))
    x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2) / 255.0
    return (x - 0.5) / 0.5


def efficientnet_view(image: Any) -> Any:
    """What EfficientNet-Lite0 sees, de-normalised (a :class:`core.vision.clip.ModelView`)."""
    import numpy as np
    from PIL import Image

    from core.vision.clip import ModelView

    x = preprocess([image])
    arr = ((x[0].permute(1, 2, 0).numpy() * 0.5 + 0.5) * 255).clip(0, 255).round().astype(np.uint8)
    steps = ["resize the shorter side to 256 px (aspect ratio kept)",
             "centre-crop 224×224 (the edges of wide or tall images are cut off)",
             "scale to 0–1, then (x − 0.5) / 0.5 → values in [−1, 1]"]
    return ModelView(Image.fromarray(arr), tuple(x.shape), steps, (float(x.min()), float(x.max())))


def imagenet_probs(images: Sequence[Any]) -> Any:
    """ImageNet-1k probabilities, numpy [N, 1000]."""
    import torch

    from core.loader import load

    model = load("efficientnet-lite0")
    with torch.inference_mode():
        return model(preprocess(images)).softmax(dim=-1).cpu().numpy()


def embed(texts: Sequence[str]) -> Any:
    """MiniLM sentence embeddings (normalised), numpy [n, 384] (the lab's cached embed path)."""
    from core.embeddings import embed as embed_texts

    return embed_texts("embed-minilm", texts, disk=False)


def _read_class_embeddings() -> tuple[Any, Any]:
    import numpy as np

    from core.settings import get_settings

    path = get_settings().models_dir / CLASS_EMB_CACHE
    if path.exists():
        data = np.load(path)
        return data["names"], data["glossed"]
    info = imagenet_info()
    names = embed([n.replace(",", " /") for n in info.names])
    glossed = embed([f"{n}: {g}" for n, g in zip(info.names, info.glosses)])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial.npz")
    np.savez_compressed(tmp, names=names.astype("float32"), glossed=glossed.astype("float32"))
    tmp.replace(path)
    return names, glossed


def class_embeddings() -> tuple[Any, Any]:
    """MiniLM embeddings of the 1,000 class names and of "names: gloss" (cached on disk and in the
    lab's memory budget; concurrent first calls compute them once)."""
    from core.cache import budget_cache

    return budget_cache("vision.class_embeddings").get_or_create("imagenet-minilm", _read_class_embeddings)


def prepare_class_embeddings(report: Any = print) -> None:
    """One-time step: embed the ImageNet classes with MiniLM (≈20 s once; cached)."""
    report("  embedding the 1,000 ImageNet class names with MiniLM (once)")
    class_embeddings()


def label_class_similarity(labels: Sequence[str]) -> Any:
    """Cosine similarity of each label with each ImageNet class, numpy [M, 1000] (max over the
    names-only and names+gloss embeddings)."""
    import numpy as np

    names, glossed = class_embeddings()
    lab = embed(labels)
    return np.maximum(lab @ names.T, lab @ glossed.T)


@dataclass
class LabelMatch:
    """Offline label scores for N images × M labels, with the evidence behind them."""

    raw: Any  # numpy [N, M]: probability-weighted similarity of the label to the top classes
    probs: Any  # numpy [N, M]: softmax over labels of LABEL_SCALE · raw
    top_classes: list[list[tuple[str, float]]]  # per image: (class name, probability)
    best_class: list[list[str]]  # per image, per label: the closest of the image's top classes


def match_labels(probs: Any, labels: Sequence[str], top_k: int = TOP_K) -> LabelMatch:
    import numpy as np

    info = imagenet_info()
    sim = label_class_similarity(labels)  # [M, 1000]
    raw = np.zeros((probs.shape[0], len(labels)), dtype=np.float64)
    tops, best = [], []
    for i, p in enumerate(probs):
        idx = np.argsort(-p)[:top_k]
        w = p[idx] / p[idx].sum()
        raw[i] = sim[:, idx] @ w
        tops.append([(info.short(j), float(p[j])) for j in idx])
        best.append([info.short(idx[int(np.argmax(sim[m, idx]))]) for m in range(len(labels))])
    z = raw * LABEL_SCALE
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return LabelMatch(raw, z / z.sum(axis=1, keepdims=True), tops, best)


def proxy_image_embeddings(probs: Any, top_k: int = TOP_K) -> Any:
    """An image as the probability-weighted MiniLM embedding of its top ImageNet classes [N, 384]."""
    import numpy as np

    _, glossed = class_embeddings()
    out = []
    for p in probs:
        idx = np.argsort(-p)[:top_k]
        v = (p[idx][:, None] * glossed[idx]).sum(axis=0)
        out.append(v / (np.linalg.norm(v) or 1.0))
    return np.stack(out)


def caption_messages(top: Sequence[tuple[str, float]]) -> list[dict[str, str]]:
    """The prompt SmolLM2 gets: the image's top ImageNet classes (it never sees the pixels)."""
    likely = [name for name, p in top[:4] if p >= 0.05] or [top[0][0]]
    main, rest = likely[0], likely[1:]
    seen = f"most likely a {main}" + (f" (or perhaps {', '.join(rest)})" if rest else "")
    return [
        {"role": "system", "content": "You write short, plain image captions."},
        {"role": "user", "content": (
            f"An image classifier says this photo shows {seen}. "
            "Write one short caption, under 12 words, for the photo. Reply with the caption only.")},
    ]


def clean_caption(text: str) -> str:
    text = " ".join(text.strip().split())
    for prefix in ("Caption:", "caption:", "Here is a caption:", "Sure!"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
    text = text.strip('"“”').strip()
    if ". " in text:  # keep the first sentence
        text = text.split(". ")[0] + "."
    words = text.split()
    if len(words) > 20:  # ran out of tokens mid-sentence
        text = " ".join(words[:20]).rstrip(",;:") + "…"
    return text[:200]


def write_captions(top: Sequence[tuple[str, float]], n: int = 3, max_new_tokens: int = 28) -> list[str]:
    """``n`` candidate captions from SmolLM2 (seeded sampling, so reruns are reproducible), on the
    engine the lab's factory picks for it (llama.cpp on CPU when installed); Stop ends a caption early."""
    from core.generation import LOCAL, SamplingParams, make_backend
    from core.jobs import check_stop, stop_event

    backend = make_backend(LOCAL, "chat-smollm2-135m")
    messages = caption_messages(top)
    out: list[str] = []
    for seed in range(n):
        check_stop()
        params = SamplingParams(max_new_tokens=max_new_tokens, temperature=0.7, top_p=0.95, seed=seed,
                                greedy=(seed == 0))
        text = clean_caption(backend.generate(messages, params, stop=stop_event()))
        if text and text.lower() not in {o.lower() for o in out}:
            out.append(text)
    return out
