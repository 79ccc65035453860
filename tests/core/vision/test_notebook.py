"""The Multimodal Captioner's "Open as notebook": run with nbclient (offline path: EfficientNet-Lite0 +
MiniLM, called directly), it gives the lab's label probabilities, raw scores and similarity matrix for
a built-in photo and an uploaded image (to 1e-4)."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from core.notebooks import execute, outputs_json
from core.vision import service
from core.vision.images import builtin_image
from core.vision.notebook import notebook
from apps.vision import MANIFEST

LABELS = ["cat", "dog", "cup of coffee", "rocket"]
CAPTIONS = ["a cat lying on a blanket", "a cup of espresso on a saucer"]
TEMPLATES = ["a photo of a {}", "a blurry sketch of a {}"]


def _upload() -> tuple[str, bytes]:
    buffer = io.BytesIO()
    builtin_image("coffee").image.rotate(90, expand=True).save(buffer, format="PNG")
    return "my photo.png", buffer.getvalue()


def test_notebook_names_the_book_and_both_paths() -> None:
    nb = notebook({"builtins": ["cat"], "labels": LABELS, "template": "a photo of a {}", "templates": TEMPLATES,
                   "captions": CAPTIONS}, [_upload()], app=MANIFEST)
    text = "".join("".join(c["source"]) for c in json.loads(nb.to_json())["cells"])
    assert "chapter 9" in text and "EfficientNet.from_pretrained" in text and "CLIPModel.from_pretrained" in text
    assert "BlipForConditionalGeneration" in text and list(nb.data) == ["my_photo.png"]


def test_notebook_reproduces_label_and_similarity_scores(tmp_path: Path) -> None:
    from core.uploads import open_image

    name, data = _upload()
    (tmp_path / "up.png").write_bytes(data)
    up = open_image(str(tmp_path / "up.png"))
    from core.vision.images import InputImage

    images = [builtin_image("cat"), InputImage(name, up.image, up.original_size)]
    labels = service.zero_shot(images, LABELS, "a photo of a {}")
    compare = service.compare_templates(images, LABELS, TEMPLATES)
    sim = service.similarity(images, CAPTIONS)
    png = io.BytesIO()
    up.image.save(png, format="PNG")
    nb = notebook({"builtins": ["cat"], "labels": LABELS, "template": "a photo of a {}", "templates": TEMPLATES,
                   "captions": CAPTIONS}, [(name, png.getvalue())], app=MANIFEST)
    _, content = nb.bundle()
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        zf.extractall(tmp_path)
    result = outputs_json(execute(str(tmp_path / "llm-lab-vision.ipynb"), timeout_s=240))
    assert result["prompts"] == labels.prompts
    assert result["probs"] == [pytest.approx(row, abs=1e-4) for row in labels.probs]
    assert result["raw"] == [pytest.approx(row, abs=1e-4) for row in labels.scores]
    for t, r in zip(TEMPLATES, compare):
        assert result["templates"][t] == [pytest.approx(row, abs=1e-4) for row in r.probs]
    assert result["sim_cosine"] == [pytest.approx(row, abs=1e-4) for row in sim.cosine]
    assert result["sim_probs"] == [pytest.approx(row, abs=1e-4) for row in sim.probs]
