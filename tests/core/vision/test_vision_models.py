"""CLIP / BLIP / BLIP-2 code paths with tiny randomly initialised models (real code, no weights)."""
from __future__ import annotations

import numpy as np
import pytest

from core.settings import override_settings
from core.vision import service
from core.vision.images import InputImage, builtin_image


@pytest.fixture(scope="module")
def pics() -> list:
    return [builtin_image("cat").image, builtin_image("coffee").image, builtin_image("rocket").image]


@pytest.fixture(scope="module")
def clip():
    from core.vision.tiny import tiny_clip

    return tiny_clip()


@pytest.fixture(scope="module")
def blip():
    from core.vision.tiny import tiny_blip

    return tiny_blip()


@pytest.fixture(scope="module")
def blip2():
    from core.vision.tiny import tiny_blip2

    return tiny_blip2()


def test_clip_processor_preprocessing(clip, pics) -> None:
    from core.vision.clip import processor_view

    inputs = clip.processor(images=pics[:1], return_tensors="pt")
    assert tuple(inputs["pixel_values"].shape) == (1, 3, 224, 224)  # the book's [1, 3, 224, 224]
    view = processor_view(clip.processor, pics[0])
    assert view.image.size == (224, 224) and view.shape == (1, 3, 224, 224)
    assert any("centre-crop 224×224" in s for s in view.steps)
    assert view.value_range[0] < -1.0 and view.value_range[1] > 1.0  # normalised, not 0..1
    # de-normalising gives back the centre of the original: compare with a plain resize+crop
    w, h = pics[0].size
    s = 224 / min(w, h)
    ref = pics[0].resize((round(w * s), round(h * s)))
    left = (ref.size[0] - 224) // 2
    ref = np.asarray(ref.crop((left, 0, left + 224, 224)), dtype=np.float32)
    assert np.abs(np.asarray(view.image, dtype=np.float32) - ref).mean() < 6.0


def test_clip_embeddings_and_similarity_matrix(clip, pics) -> None:
    from core.vision.clip import image_embeddings, score, text_embeddings

    texts = ["a photo of a cat", "a cup of coffee", "a rocket", "a dog"]
    img, txt = image_embeddings(clip, pics), text_embeddings(clip, texts)
    assert img.shape == (3, 16) and txt.shape == (4, 16)
    assert np.allclose(np.linalg.norm(img, axis=1), 1, atol=1e-5)
    s = score(clip, pics, texts)
    assert s.cosine.shape == (3, 4) and s.probs.shape == (3, 4)
    assert np.allclose(s.cosine, img @ txt.T, atol=1e-4)  # forward pass == separate encoders
    assert np.allclose(s.probs.sum(axis=1), 1, atol=1e-5)  # softmax over the labels
    expected = np.exp(s.logit_scale * s.cosine)
    assert np.allclose(s.probs, expected / expected.sum(axis=1, keepdims=True), atol=1e-4)
    assert s.logit_scale == pytest.approx(1 / 0.07, rel=1e-3)  # CLIP's initial temperature


def test_clip_rerank_orders_by_cosine(clip, pics) -> None:
    from core.vision.clip import rerank, score

    cands = ["a cat", "a car", "a red rocket", "coffee on a table"]
    ranked = rerank(clip, pics[0], cands)
    assert sorted(t for t, _ in ranked) == sorted(cands)
    values = [s for _, s in ranked]
    assert values == sorted(values, reverse=True)
    assert np.allclose(sorted(score(clip, [pics[0]], cands).cosine[0], reverse=True), values, atol=1e-5)


def test_blip_candidates_and_rerank_loop(blip, clip, pics) -> None:
    from core.vision.blip import generate
    from core.vision.clip import score

    inputs = blip.processor(images=pics[0], return_tensors="pt")
    assert tuple(inputs["pixel_values"].shape) == (1, 3, 224, 224)
    cands = generate(blip, pics[0], n=3, max_new_tokens=6)
    assert 1 <= len(cands) <= 3 and all(isinstance(c, str) and c for c in cands)
    assert len({c.lower() for c in cands}) == len(cands)  # duplicates dropped
    calls = []

    def scorer(img, texts):
        calls.append(len(texts))
        return score(clip, [img], texts).cosine[0]

    ranked = service.rerank_loop(pics[:2], [cands, cands + [cands[0]]], scorer)
    assert calls == [len(cands), len(cands)]  # one CLIP call per image, duplicates removed
    for r in ranked:
        assert [s for _, s in r] == sorted((s for _, s in r), reverse=True)


def test_blip2_vqa_prompt_and_generation(blip2, pics) -> None:
    from core.vision.blip import clean_answer, generate, vqa_prompt

    assert vqa_prompt("What is this?") == "Question: What is this? Answer:"
    hist = [("Write down what you see in this picture.", "A sports car driving on the road at sunset")]
    assert vqa_prompt("What would it cost me to drive that car?", hist) == (
        "Question: Write down what you see in this picture. Answer: A sports car driving on the road at sunset. "
        "Question: What would it cost me to drive that car? Answer:")
    assert clean_answer(" $1,000,000 Question: why") == "$1,000,000"
    enc = blip2.processor(images=pics[0], text="Question: what is this? Answer:", return_tensors="pt")
    assert int((enc["input_ids"] == blip2.model.config.image_token_index).sum()) == 4  # query tokens
    answers = generate(blip2, pics[0], prompt="Question: what is this? Answer:", n=1, max_new_tokens=5)
    assert len(answers) <= 1 and all("Question: what is this" not in a for a in answers)  # prompt stripped
    caps = generate(blip2, pics[0], n=2, max_new_tokens=4)
    assert 1 <= len(caps) <= 2


def test_hub_mode_service_with_tiny_models(clip, blip, pics) -> None:
    """The hub dispatch (load → CLIP/BLIP → results) with the tiny models in the model cache."""
    from core.vision.tiny import install, uninstall

    keys = [install(service.CLIP, clip), install(service.BLIP, blip)]
    items = [InputImage("cat", pics[0], pics[0].size), InputImage("coffee", pics[1], pics[1].size)]
    try:
        with override_settings(mode="hub"):
            res = service.zero_shot(items, "cat, car, dog", "a photo of a {}")
            assert res.method == "clip" and res.prompts == ["a photo of a cat", "a photo of a car", "a photo of a dog"]
            assert np.allclose(np.sum(res.probs, axis=1), 1, atol=1e-5)
            sim = service.similarity(items, "a cat\na cup of coffee\na rocket")
            assert np.asarray(sim.cosine).shape == (2, 3) and sim.method == "clip"
            view = service.model_views(items[0])
            assert len(view.views) == 1 and view.views[0][1].shape == (1, 3, 224, 224)
            caps = service.captions(items, service.BLIP, n=2)
            assert caps.method == "blip+clip" and len(caps.items) == 2
            for it in caps.items:
                assert [s for _, s in it.candidates] == sorted((s for _, s in it.candidates), reverse=True)
            from core.errors import ModelUnavailable

            with pytest.raises(ModelUnavailable, match="needs a GPU"):
                service.captions(items, service.BLIP2, n=2)
            ans = service.ask(items[0], "What is this?")
            assert not ans.available and ans.answer is None and ans.prompt == "Question: What is this? Answer:"
    finally:
        for k in keys:
            uninstall(k)


def test_hub_models_refuse_offline() -> None:
    from core.errors import ModelUnavailable
    from core.loader import load

    with override_settings(mode="offline"):
        for name in (service.CLIP, service.BLIP, service.BLIP2):
            with pytest.raises(ModelUnavailable):
                load(name)


def test_blip2_gpu_functions_with_tiny_model(blip2, pics) -> None:
    """The ZeroGPU-decorated functions (identity off Spaces) load BLIP-2 and return plain strings."""
    from core.vision import blip as blipmod
    from core.vision.tiny import install, uninstall

    assert blipmod._caption_duration(service.BLIP2, pics[:2], 3) == 19  # 10 s + 2 images × 3 × 1.5 s
    key = install(service.BLIP2, blip2)
    try:
        with override_settings(mode="hub"):
            caps = blipmod.gpu_captions(service.BLIP2, pics[:2], 2, 4)
            assert len(caps) == 2 and all(isinstance(c, str) for cs in caps for c in cs)
            answer = blipmod.gpu_answer(service.BLIP2, pics[0], "Question: what is this? Answer:", 4)
            assert isinstance(answer, str) and "Question" not in answer
    finally:
        uninstall(key)


def test_blip2_quota_error_falls_back_to_blip_base(clip, blip, pics, monkeypatch) -> None:
    """On a ZeroGPU quota error the captions come from BLIP base on the CPU, and the UI is told."""
    import core.gpu
    from core.vision import blip as blipmod
    from core.vision.tiny import install, uninstall

    class Quota(Exception):
        title = "ZeroGPU quota exceeded"

    def no_gpu(*a, **k):
        raise Quota("quota")

    monkeypatch.setattr(core.gpu, "device", lambda: "cuda")
    monkeypatch.setattr(blipmod, "gpu_captions", no_gpu)
    keys = [install(service.CLIP, clip), install(service.BLIP, blip)]
    try:
        with override_settings(mode="hub"):
            res = service.captions([InputImage("cat", pics[0], pics[0].size)], service.BLIP2, n=2)
        assert res.method == "blip+clip" and any("Running on the CPU instead" in n for n in res.notes)
        assert res.items[0].candidates
    finally:
        for k in keys:
            uninstall(k)
