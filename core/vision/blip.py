"""BLIP and BLIP-2 (book §9.3): captions and visual question answering.

Captions: BLIP base (``Salesforce/blip-image-captioning-base``) runs on the CPU; BLIP-2
(``Salesforce/blip2-opt-2.7b``) runs under ZeroGPU. Both produce several candidates with beam
search, which :func:`core.vision.clip.rerank` orders by CLIP similarity. VQA uses the book's
``Question: … Answer:`` chat protocol with the conversation so far prepended.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from core.gpu import estimate_duration, gpu_task

#: The book's prompt for "describe the picture" chat (§9.3.4).
DESCRIBE = "Write down what you see in this picture."


@dataclass
class BlipBundle:
    """A BLIP or BLIP-2 model with its processor (what the ``blip``/``blip2`` loaders return)."""

    model: Any
    processor: Any
    kind: str  # "blip" | "blip2"
    label: str = "BLIP"


def vqa_prompt(question: str, history: Sequence[tuple[str, str]] = ()) -> str:
    """The book's BLIP-2 chat prompt: earlier turns as ``Question: q Answer: a.`` then the question."""
    question = " ".join((question or "").split())
    turns = " ".join(f"Question: {q} Answer: {a.rstrip('.')}." for q, a in history)
    prompt = f"Question: {question} Answer:"
    return f"{turns} {prompt}".strip()


def clean_answer(text: str) -> str:
    """The book's post-processing: keep the text before any hallucinated next ``Question``."""
    return text.split("Question")[0].strip()


def _decode_new(bundle: BlipBundle, out: Any, prompt_len: int) -> list[str]:
    ids = out
    if bundle.kind == "blip2" and prompt_len and out.shape[1] > prompt_len:
        ids = out[:, prompt_len:]  # decoder-only LM: generate() returns the prompt too
    texts = bundle.processor.batch_decode(ids, skip_special_tokens=True)
    return [" ".join(t.split()) for t in texts]


def generate(bundle: BlipBundle, image: Any, *, prompt: str | None = None, n: int = 1,
             max_new_tokens: int = 30) -> list[str]:
    """Captions (``prompt=None``) or answers for one image; ``n`` beams returned, duplicates dropped."""
    import torch

    kwargs: dict[str, Any] = {"images": image, "return_tensors": "pt"}
    if prompt:
        kwargs["text"] = prompt
    inputs = bundle.processor(**kwargs)
    device = next(bundle.model.parameters()).device
    dtype = next(bundle.model.parameters()).dtype
    inputs = {k: (v.to(device, dtype) if k == "pixel_values" else v.to(device)) for k, v in inputs.items()}
    prompt_len = int(inputs["input_ids"].shape[1]) if "input_ids" in inputs else 0
    n = max(1, int(n))
    gen: dict[str, Any] = {"max_new_tokens": max_new_tokens}
    if n > 1:
        gen.update(num_beams=max(n, 3), num_return_sequences=n)
    with torch.inference_mode():
        out = bundle.model.generate(**inputs, **gen)
    texts = _decode_new(bundle, out.cpu(), prompt_len)
    unique: list[str] = []
    for t in texts:
        if bundle.kind == "blip2" and prompt:
            t = clean_answer(t)
        if t and t.lower() not in {u.lower() for u in unique}:
            unique.append(t)
    return unique


def _caption_duration(model_name: str, images: Sequence[Any], n: int = 3, *a: Any, **k: Any) -> int:
    return estimate_duration(len(images) * max(1, n), per_unit_s=1.5, base_s=10)


@gpu_task(duration=_caption_duration)
def gpu_captions(model_name: str, images: Sequence[Any], n: int = 3, max_new_tokens: int = 30) -> list[list[str]]:
    """BLIP-2 captions for several images (runs in the ZeroGPU worker; returns plain strings)."""
    from core.loader import load

    bundle = load(model_name)
    return [generate(bundle, img, n=n, max_new_tokens=max_new_tokens) for img in images]


def _answer_duration(model_name: str, image: Any, prompt: str, *a: Any, **k: Any) -> int:
    return estimate_duration(1, per_unit_s=8, base_s=8)


@gpu_task(duration=_answer_duration)
def gpu_answer(model_name: str, image: Any, prompt: str, max_new_tokens: int = 60) -> str:
    """BLIP-2's answer to a ``Question: … Answer:`` prompt (ZeroGPU worker; returns a string)."""
    from core.loader import load

    bundle = load(model_name)
    answers = generate(bundle, image, prompt=prompt, n=1, max_new_tokens=max_new_tokens)
    return answers[0] if answers else ""


def load_blip(hub_id: str, revision: str = "main") -> BlipBundle:
    from transformers import BlipForConditionalGeneration, BlipProcessor

    from core.gpu import device

    processor = BlipProcessor.from_pretrained(hub_id, revision=revision)
    model = BlipForConditionalGeneration.from_pretrained(hub_id, revision=revision).to(device()).eval()
    return BlipBundle(model, processor, "blip", hub_id)


def load_blip2(hub_id: str, revision: str = "main") -> BlipBundle:
    """The book's loading code: float16 on the GPU (float32 on a CPU)."""
    import torch
    from transformers import Blip2ForConditionalGeneration, Blip2Processor

    from core.gpu import device

    dev = device()
    processor = Blip2Processor.from_pretrained(hub_id, revision=revision)
    model = Blip2ForConditionalGeneration.from_pretrained(
        hub_id, revision=revision, dtype=torch.float16 if dev == "cuda" else torch.float32).to(dev).eval()
    return BlipBundle(model, processor, "blip2", hub_id)
