"""Multimodal Captioner benchmark: ``python -m bench.bench_vision``.

Figures (all measured in this run, on this machine's CPU):
* offline zero-shot labelling (EfficientNet-Lite0 + MiniLM label mapping): images/s, and as a ratio
  against a direct EfficientNet-Lite0 forward pass on the same images (the baseline);
* offline captioning (EfficientNet-Lite0 + SmolLM2-135M, 1 candidate): images/s;
* the CLIP code path with a tiny randomly initialised CLIP: the lab's ``zero_shot`` (hub dispatch,
  template filling, processor, softmax) vs a direct ``model(**processor(...))`` call;
* the BLIP caption + CLIP re-rank loop with tiny models vs a direct ``generate`` call.
"""
from __future__ import annotations

import os
import statistics

os.environ.setdefault("LLM_LAB_MODE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


from bench.common import best_of  # noqa: E402


def main() -> None:
    import torch

    from core.settings import override_settings
    from core.vision import offline, service
    from core.vision.images import builtin_keys, load_inputs
    from core.vision.tiny import install, tiny_blip, tiny_clip, uninstall

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    images = load_inputs([k for k in builtin_keys()])
    n = len(images)
    labels = "cat, dog, car, cup of coffee, rocket, astronaut, motorcycle, person"
    print(f"Multimodal Captioner benchmark · {n} built-in photos · torch threads {torch.get_num_threads()}")

    # ---- offline zero-shot labelling -------------------------------------------------------
    from core.loader import load

    model = load("efficientnet-lite0")
    service.zero_shot(images[:1], labels)  # warm up: models, class embeddings

    def direct() -> None:
        with torch.inference_mode():
            model(offline.preprocess([it.image for it in images])).softmax(-1)

    def labelled() -> None:
        service._probs_cache.clear()  # noqa: SLF001 - measure the full path, no cached probabilities
        service.zero_shot(images, labels)

    t_direct, t_lab = best_of(direct), best_of(labelled)
    print(f"offline zero-shot labels : {n / t_lab:6.2f} images/s  ({t_lab / n * 1000:.0f} ms/image)")
    print(f"  baseline EfficientNet-Lite0 forward only: {n / t_direct:6.2f} images/s; "
          f"label mapping + pipeline overhead = {t_lab / t_direct:.2f}× the forward pass")

    # ---- offline captioning ----------------------------------------------------------------
    cap_imgs = images[:2]
    service.captions(cap_imgs[:1], n=1)  # warm up SmolLM2
    t_cap = best_of(lambda: service.captions(cap_imgs, n=1), repeats=1)
    print(f"offline captions (1 cand.): {len(cap_imgs) / t_cap:6.2f} images/s  ({t_cap / len(cap_imgs):.1f} s/image)")

    # ---- tiny CLIP: lab path vs direct call -------------------------------------------------
    clip = tiny_clip()
    key = install(service.CLIP, clip)
    try:
        pics = [it.image for it in images]
        label_list = [s.strip() for s in labels.split(",")]
        prompts = [f"a photo of a {x}" for x in label_list]

        def clip_direct() -> None:
            inputs = clip.processor(text=prompts, images=pics, return_tensors="pt", padding=True)
            with torch.inference_mode():
                clip.model(**inputs).logits_per_image.softmax(-1)

        with override_settings(mode="hub"):
            service.zero_shot(images, labels)
            clip_direct()
            t_cd = statistics.median(best_of(clip_direct, 1) for _ in range(5))
            t_cl = statistics.median(best_of(lambda: service.zero_shot(images, labels), 1) for _ in range(5))
        print(f"tiny CLIP zero-shot      : lab path {n / t_cl:6.1f} images/s vs direct model call {n / t_cd:6.1f} "
              f"images/s → overhead {t_cl / t_cd:.2f}×")

        blip = tiny_blip()
        bkey = install(service.BLIP, blip)
        try:
            def blip_direct() -> None:
                for img in pics[:3]:
                    inputs = blip.processor(images=img, return_tensors="pt")
                    with torch.inference_mode():
                        blip.model.generate(**inputs, max_new_tokens=30, num_beams=3, num_return_sequences=3)

            with override_settings(mode="hub"):
                t_bd = best_of(blip_direct, 2)
                t_bl = best_of(lambda: service.captions(images[:3], service.BLIP, n=3), 2)
            print(f"tiny BLIP captions+rerank: lab path {3 / t_bl:6.1f} images/s vs direct generate {3 / t_bd:6.1f} "
                  f"images/s → overhead (incl. CLIP re-rank) {t_bl / t_bd:.2f}×")
        finally:
            uninstall(bkey)
    finally:
        uninstall(key)


if __name__ == "__main__":
    main()
