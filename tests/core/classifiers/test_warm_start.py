"""Warm start (issue 16): the offline task model is stored under the cache keyed by its training data's
hash, trained at start-up in the background, and reused by a second process without training."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.settings import get_settings

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = """
import json, sys
from core.classifiers import data as cdata
from core.classifiers.methods import ZooConfig, get_method, task_model
data = cdata.builtin(test_size=20, train_size=40)
config = ZooConfig(task_steps=2, task_max_train=40)
said = []
if sys.argv[1] == "warm":
    trained = task_model.warm(data, config)
else:
    from core.classifiers.evaluate import run_methods
    (r,) = run_methods(["task"], data, data.test_texts[:3], config, progress=lambda f, d: said.append(d))
    assert r.ok, r.error
    trained = None
print(json.dumps({"trained": trained, "stats": task_model.stats, "said": said[:2],
                  "folder": str(task_model.cache_folder(data, config))}))
"""


def _run(cache: Path, mode: str) -> dict:
    env = {**os.environ, "LLM_LAB_CACHE": str(cache), "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_task_model_trained_once_then_reused_by_a_new_process(tmp_path):
    if not get_settings().offline:
        pytest.skip("the offline task model is trained only in offline mode")
    (tmp_path / "assets").symlink_to(get_settings().assets_dir)
    first = _run(tmp_path, "warm")
    assert first["trained"] is True and first["stats"]["trained"] == 1
    folder = Path(first["folder"])
    assert folder.is_relative_to(tmp_path / "models" / "classifiers" / "task") and (folder / "model_head.pkl").exists()
    second = _run(tmp_path, "use")  # a restart: loads from disk, no training, no "first use" notice
    assert second["stats"] == {"trained": 0, "loaded": 1}, second
    assert not any("first use" in s for s in second["said"]), second["said"]


def test_first_use_that_trains_says_so_before_it_starts(monkeypatch, tmp_path):
    from core.classifiers import data as cdata
    from core.classifiers.evaluate import run_methods
    from core.classifiers.methods import ZooConfig, task_model
    from core.settings import override_settings

    (tmp_path / "assets").symlink_to(get_settings().assets_dir)
    with override_settings(cache_dir=tmp_path):
        data = cdata.builtin(test_size=20, train_size=40)
        config = ZooConfig(task_steps=7, task_max_train=40)
        said: list[str] = []

        def fake_train(*a, **k):
            raise RuntimeError("stop here")  # the notice must come before training starts

        monkeypatch.setattr(task_model, "train_setfit", fake_train)
        (r,) = run_methods(["task"], data, ["x"], config, progress=lambda f, d: said.append(d))
    assert not r.ok
    assert said and f"first use: trains a model, about {task_model.train_estimate_s(config)} s" in said[0]


def test_startup_trains_in_the_background(monkeypatch):
    from apps.classifiers import app
    from core.classifiers.methods import task_model

    calls = []
    monkeypatch.setattr(task_model, "warm", lambda: (time.sleep(1.0), calls.append(1)))
    app._warm.clear()
    started = time.perf_counter()
    app.startup()
    assert time.perf_counter() - started < 0.5  # the first page is not delayed
    app._warm["task"].join(10)
    assert calls == [1]
