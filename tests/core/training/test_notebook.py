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


def test_dpo_notebook_runs_sft_then_dpo_and_prints_held_out_rewards(tmp_path: Path) -> None:
    from core.training.notebook_dpo import dpo_notebook

    full = D.builtin_preferences()
    data = D.PreferenceData("4 built-in pairs", full.train[:4], full.held_out[:2])
    nb = dpo_notebook(data, dpo={"rank": 4, "alpha": 8, "beta": 0.1, "steps": 2, "lr": 1e-3, "batch": 2,
                                 "max_length": 48},
                      sft={"rank": 4, "alpha": 8, "steps": 2, "lr": 1e-3, "batch": 2, "max_length": 48},
                      sft_first=True, lab={"held-out margin": "0.123"}, max_new_tokens=8)
    text = nb.to_json()
    assert "DPOTrainer(" in text and "SFTTrainer(" in text and "LoraConfig(r=rank" in text and "chapter12" in text
    assert "beta=BETA" in text and "BETA = 0.1" in text and "0.123" in text
    assert text.count("train_args(2, 2, 0.001, 48)") == 2 and text.count("lora(4, 8.0)") == 2  # SFT and DPO
    name, content = nb.bundle()
    assert {"data/sft.json", "data/preferences.json"} <= set(zipfile.ZipFile(io.BytesIO(content)).namelist())
    started = time.perf_counter()
    result = outputs_json(execute(str(_unpack(nb, tmp_path)), timeout_s=240))
    assert time.perf_counter() - started < 120
    assert result["steps"] == 2 and result["sft_steps"] == 2 and result["held_out"] == 2
    assert 0.0 <= result["accuracy_after"] <= 1.0 and result["margin_after"] != 0.0  # the adapter moved π off π_ref
    assert 0.0 <= result["prefers_chosen_before"] <= 1.0


def test_dpo_notebook_offline_base_is_dequantised_from_the_packaged_gguf(tmp_path: Path, monkeypatch) -> None:
    """Without the lab's converted folder the notebook makes its own plain fp32 folder from the GGUF file."""
    from core.assets import asset_dir
    from core.training.notebook_dpo import dpo_notebook

    cache = tmp_path / "cache"
    (cache / "assets").mkdir(parents=True)
    (cache / "assets" / "smollm2").symlink_to(asset_dir("smollm2"))  # only the packaged GGUF, nothing converted
    full = D.builtin_preferences()
    nb = dpo_notebook(D.PreferenceData("pairs", full.train[:4], full.held_out[:2]))
    base = next(i for i, c in enumerate(nb.cells) if "BASE = base_source()" in c.source)
    nb.cells = nb.cells[:base + 1]  # setup, data helper, base model: the rest is the test above
    monkeypatch.setenv("LLM_LAB_CACHE", str(cache))
    executed = execute(str(_unpack(nb, tmp_path / "nb")), timeout_s=240)
    shown = executed.cells[base].outputs[-1]["data"]["text/plain"]
    assert "'smollm2-135m-instruct'" in shown and "134,515,008 parameters" in shown  # SmolLM2-135M, tied embeddings
    config = (tmp_path / "nb" / "smollm2-135m-instruct" / "config.json").read_text()
    assert '"quantization_config"' not in config and '"dtype": "float32"' in config
