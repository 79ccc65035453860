"""The training runs' "Open as notebook": each notebook reruns the training with sentence-transformers /
transformers directly on a tiny slice and prints LAB_RESULT with the before/after metrics."""
from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

from core.notebooks import execute, outputs_json
from core.training import data as D
from core.training.notebook import embedder_notebook, encoder_notebook


def _unpack(nb, folder: Path) -> Path:
    name, content = nb.bundle()
    assert name.endswith(".zip")
    zipfile.ZipFile(io.BytesIO(content)).extractall(folder)
    return folder / nb.filename()


def test_embedder_notebook_trains_and_prints_before_after(tmp_path: Path) -> None:
    pos, neg = [f"great wonderful film {w}" for w in "abcdefgh"], [f"awful terrible film {w}" for w in "abcdefgh"]
    pairs = D.labelled_pairs(pos + neg, ["pos"] * 8 + ["neg"] * 8, n_train=8, n_eval=4, seed=1)
    nb = embedder_notebook(pairs, steps=2, lr=5e-5, batch=4, lab={"after": "hit@1 0.750"})
    text = nb.to_json()
    assert "MultipleNegativesRankingLoss" in text and "hit@1 0.750" in text and "chapter10" in text
    started = time.perf_counter()
    result = outputs_json(execute(str(_unpack(nb, tmp_path)), timeout_s=120))
    assert time.perf_counter() - started < 60
    assert result["steps"] == 2
    assert set(result["before"]) == {"hit@1", "hit@5", "mrr"} and 0.0 <= result["after"]["mrr"] <= 1.0


def test_encoder_notebook_trains_and_prints_f1_before_after(tmp_path: Path) -> None:
    from tests.core.training.test_training import easy_data

    nb = encoder_notebook(easy_data(), freeze_blocks=4, head_only=False, steps=2, lr=2e-4, batch=8)
    assert "requires_grad_(False)" in nb.to_json()
    started = time.perf_counter()
    result = outputs_json(execute(str(_unpack(nb, tmp_path)), timeout_s=120))
    assert time.perf_counter() - started < 60
    assert result["steps"] == 2 and 0 < result["trainable"] < result["total"]  # 4 of 6 MiniLM blocks frozen
    assert 0.0 <= result["f1_before"] <= 1.0 and 0.0 <= result["f1_after"] <= 1.0
