"""On ZeroGPU, when the visitor's GPU quota is out, chat generation falls back to the CPU where the
model fits, with a note in the job's status; a model too large for the CPU gets the quota message."""
from __future__ import annotations

from typing import Any, Iterator

import gradio as gr
import pytest

from core.errors import LabError
from core.generation import GREEDY
from core.generation import transformers_engine as te
from core.jobs import Job, running


def _no_quota(*args: Any, **kwargs: Any) -> Iterator[str]:
    raise gr.Error("You have exceeded your free ZeroGPU quota (90s requested vs. 10s left).",
                   title="ZeroGPU quota exceeded")
    yield ""  # a generator, like the GPU function


def test_quota_error_falls_back_to_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(te, "_local_stream", _no_quota)
    job = Job("prompts", "generate")
    with running(job):
        text = te.LocalBackend("chat-smollm2-135m").generate(
            [{"role": "user", "content": "Say hi."}], GREEDY.__class__(max_new_tokens=8, greedy=True))
    assert text.strip()
    assert "running on the CPU" in job.text


def test_too_large_for_the_cpu_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import override_settings

    monkeypatch.setattr(te, "_local_stream", _no_quota)
    with override_settings(cpu_fallback_mb=10), pytest.raises(LabError, match="Sign in with Hugging Face"):
        te.LocalBackend("chat-smollm2-135m").generate([{"role": "user", "content": "Say hi."}],
                                                      GREEDY.__class__(max_new_tokens=8, greedy=True))


def test_other_errors_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Iterator[str]:
        raise RuntimeError("a real bug")
        yield ""

    monkeypatch.setattr(te, "_local_stream", broken)
    with pytest.raises(RuntimeError, match="a real bug"):
        te.LocalBackend("chat-smollm2-135m").generate([{"role": "user", "content": "Say hi."}])
