import subprocess
import sys
import textwrap

import pytest

from core import gpu
from core.errors import LabError


def test_gpu_task_is_identity_off_zero_gpu():
    def f(x):
        return x * 2

    assert gpu.gpu_task(duration=10)(f) is f
    assert gpu.device() == "cpu"


def test_duration_estimate_is_bounded():
    assert gpu.estimate_duration(0, per_unit_s=0.05) == 5
    assert gpu.estimate_duration(200, per_unit_s=0.05) == 15
    assert gpu.estimate_duration(10**6, per_unit_s=0.05) == 90


class FakeZeroGPUError(Exception):
    def __init__(self, title):
        super().__init__("You have exceeded your free ZeroGPU quota (90s requested vs. 20s left).")
        self.title = title


def test_quota_errors_fall_back_to_cpu_with_a_friendly_message():
    def on_gpu(x):
        raise FakeZeroGPUError("ZeroGPU quota exceeded")

    messages = []
    assert gpu.call_with_cpu_fallback(on_gpu, lambda x: x + 1, 1, on_fallback=messages.append) == 2
    assert "Sign in with Hugging Face" in messages[0] and "CPU" in messages[0]
    with pytest.raises(LabError, match="not available right now"):
        gpu.call_with_cpu_fallback(on_gpu, None, 1)


def test_other_errors_are_not_swallowed():
    def broken(x):
        raise ValueError("bug")

    with pytest.raises(ValueError):
        gpu.call_with_cpu_fallback(broken, lambda x: x, 1)


def test_importing_every_app_initialises_no_cuda_and_loads_no_model_library():
    """ZeroGPU forbids CUDA at import; the lab must also start fast (models load lazily)."""
    code = textwrap.dedent("""
        import os, sys
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
        os.environ["LLM_LAB_TOPICS_WARMUP"] = "0"  # the deliberate background numba warm-up
        import torch
        def boom(*a, **k):
            raise SystemExit("CUDA was initialised at import")
        torch.cuda._lazy_init = boom
        torch.cuda.init = boom
        import apps, apps.lab, importlib
        from apps import manifests
        found = [m.build_fn() for m in manifests()]  # imports every app module
        apps.lab.build_lab()
        heavy = [m for m in ("transformers", "sentence_transformers", "bertopic", "umap", "hdbscan",
                             "faiss", "setfit", "sklearn", "llguidance") if m in sys.modules]
        print("APPS", len(found), "HEAVY", ",".join(heavy))
        assert not torch.cuda.is_initialized()
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("APPS")][-1]
    assert line.endswith("HEAVY "), f"heavy libraries imported at app import: {line}"
