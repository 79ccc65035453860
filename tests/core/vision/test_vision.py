"""Image inputs (bad files of every kind) and the offline fallback on the built-in photos."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.errors import InvalidUpload, LabError
from core.settings import Limits, override_settings
from core.vision import service
from core.vision.images import apply_template, builtin_image, builtin_keys, builtin_path, load_inputs, parse_list


# --------------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------------

def test_every_builtin_photo_loads_offline() -> None:
    for key in builtin_keys():
        item = builtin_image(key)
        assert item.image.mode == "RGB" and min(item.image.size) >= 256, key
    assert any("grayscale" in n for n in builtin_image("cameraman").notes)
    assert builtin_path("cat").exists()


def _save(tmp: Path, name: str, img: Image.Image, **kw) -> Path:
    path = tmp / name
    img.save(path, **kw)
    return path


def test_bad_and_unusual_files(tmp_path: Path) -> None:
    cat = builtin_image("cat").image
    text = tmp_path / "notes.png"
    text.write_text("this is not an image at all\n" * 20)
    with pytest.raises(InvalidUpload, match="looks like a text file"):
        load_inputs([], [str(text)])
    good = _save(tmp_path, "cat.png", cat)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    with pytest.raises(InvalidUpload, match="truncated or corrupted"):
        load_inputs([], [str(truncated)])
    with override_settings(limits=Limits(image_pixels=100_000)):  # decompression-bomb guard
        with pytest.raises(InvalidUpload, match="too large in pixels|limit is"):
            load_inputs([], [str(good)])
    with override_settings(limits=Limits(image_side=200)):  # downscale, said so
        item = load_inputs([], [str(good)])[0]
        assert max(item.image.size) == 200 and item.original_size == (451, 300)
        assert any("Downscaled" in n for n in item.notes)
    gif = Path(__import__("skimage").data.data_dir) / "no_time_for_that_tiny.gif"
    item = load_inputs([], [str(gif)])[0]
    assert item.image.mode == "RGB" and any("animated" in n and "first frame" in n for n in item.notes)
    cmyk = _save(tmp_path, "cmyk.jpg", cat.convert("CMYK"))
    assert load_inputs([], [str(cmyk)])[0].image.mode == "RGB"
    arr16 = (np.asarray(cat.convert("L"), dtype=np.uint16) * 257)
    png16 = _save(tmp_path, "deep.png", Image.fromarray(arr16))
    item = load_inputs([], [str(png16)])[0]
    assert item.image.mode == "RGB" and any("16-bit" in n for n in item.notes)
    gray = _save(tmp_path, "gray.png", cat.convert("L"))
    assert load_inputs([], [str(gray)])[0].image.mode == "RGB"
    rgba = cat.convert("RGBA")
    rgba.putalpha(0)
    alpha = _save(tmp_path, "alpha.png", rgba)
    item = load_inputs([], [str(alpha)])[0]
    assert item.image.getpixel((5, 5)) == (255, 255, 255) and any("Transparent" in n for n in item.notes)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    rotated = _save(tmp_path, "rotated.jpg", cat, exif=exif.tobytes())
    assert load_inputs([], [str(rotated)])[0].image.size == (300, 451)
    with pytest.raises(InvalidUpload, match="No image given"):
        load_inputs([], None, None)
    many = load_inputs(["cat"], [str(good), str(good)])  # unique names for charts
    assert [m.name for m in many] == ["cat", "cat.png", "cat.png (2)"]


def test_labels_and_templates_validation() -> None:
    assert parse_list("cat, car ,, Cat, dog") == ["cat", "car", "dog"]
    assert parse_list("a red car, fast\nsome cat") == ["a red car, fast", "some cat"]
    with pytest.raises(InvalidUpload, match="label list is empty"):
        parse_list(" ,  \n ")
    assert apply_template("a photo of a {}", ["cat"]) == ["a photo of a cat"]
    assert apply_template("", ["cat"]) == ["cat"]
    with pytest.raises(InvalidUpload, match="no \\{\\} placeholder"):
        apply_template("a photo of a cat", ["cat"])
    with pytest.raises(InvalidUpload, match="more than one"):
        apply_template("{} and {}", ["cat"])
    cat = load_inputs(["cat"])
    with pytest.raises(LabError):
        service.zero_shot(cat, "", "a photo of a {}")
    with pytest.raises(LabError, match="placeholder"):
        service.compare_templates(cat, "cat, car", "a photo of a {}\nno placeholder here")


# --------------------------------------------------------------------------------------------
# the offline fallback (EfficientNet-Lite0 + MiniLM + SmolLM2) on the built-in photos
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def photos() -> list:
    return load_inputs(["cat", "coffee", "rocket", "motorcycle"])


def test_imagenet_classifier_on_builtins(photos) -> None:
    from core.vision.offline import imagenet_info

    probs = service.offline_probs(photos)
    assert probs.shape == (4, 1000) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    info = imagenet_info()
    top = [info.short(int(np.argmax(p))) for p in probs]
    assert top[0] in {"tiger cat", "Egyptian cat", "tabby"}  # measured: tiger cat 0.38, Egyptian cat 0.36
    assert top[1] == "espresso" and probs[1].max() > 0.85  # measured 0.95
    assert top[2] in {"missile", "projectile"}  # measured: missile 0.30
    assert top[3] in {"moped", "motor scooter", "crash helmet", "disk brake"}


def test_offline_zero_shot_ranks_cat_above_car(photos) -> None:
    labels = "cat, car, dog, cup of coffee, rocket, motorcycle"
    res = service.zero_shot(photos, labels, "a photo of a {}")
    assert res.method == "offline-proxy" and "not CLIP" in res.notes[0]
    assert np.allclose(np.sum(res.probs, axis=1), 1, atol=1e-6)
    p = dict(zip(res.labels, res.probs[0]))
    assert p["cat"] > p["car"] and p["cat"] > 0.8  # measured 0.90 (car 0.01)
    assert [res.top(i) for i in range(4)] == ["cat", "cup of coffee", "rocket", "motorcycle"]
    assert res.evidence[0][0] in {"tiger cat", "Egyptian cat", "tabby"}
    comps = service.compare_templates(photos[:1], "cat, car", "a photo of a {}\n{}\na drawing of a {}")
    assert [c.template for c in comps] == ["a photo of a {}", "{}", "a drawing of a {}"]
    assert all(c.top(0) == "cat" for c in comps)
    assert len({round(c.probs[0][0], 6) for c in comps}) > 1  # the template changes the scores


def test_offline_similarity_matrix_diagonal(photos) -> None:
    caps = "a cat lying down\na cup of espresso\na rocket launch\na motorcycle"
    res = service.similarity(photos, caps)
    cos = np.asarray(res.cosine)
    assert cos.shape == (4, 4) and res.method == "offline-proxy"
    assert list(cos.argmax(axis=1)) == [0, 1, 2, 3]  # every photo matches its own caption best


def test_model_views_offline(photos) -> None:
    view = service.model_views(photos[0])
    titles = [t for t, _ in view.views]
    assert "no CLIP weights" in titles[0] and "EfficientNet" in titles[1]
    assert all(v.image.size == (224, 224) for _, v in view.views)
    assert any("centre crop drops 33%" in n for n in view.notes)


def test_offline_caption_and_vqa(photos) -> None:
    res = service.captions(photos[1:2], n=1)
    assert res.method == "offline-smollm2" and "not BLIP" in res.notes[0]
    (item,) = res.items
    assert len(item.candidates) == 1 and 3 <= len(item.best.split()) <= 21
    assert any(w in item.best.lower() for w in ("espresso", "coffee", "cup"))
    ans = service.ask(photos[0], "What colour is the cat?")
    assert not ans.available and ans.answer is None and "BLIP-2" in ans.message
    assert ans.prompt == "Question: What colour is the cat? Answer:"
    with pytest.raises(LabError, match="Type a question"):
        service.ask(photos[0], "   ")
