"""Picking the engine: llama.cpp on CPU when it imports, transformers on GPU, when logits are needed,
when asked, or when llama-cpp-python is missing (the lab still runs and says which engine it uses)."""
from __future__ import annotations

import sys

import pytest

from core.errors import LabError
from core.generation import (LOCAL, REMOTE, LlamaCppBackend, LocalBackend, OpenAIBackend, choose_engine,
                             engine_info, engine_name, llamacpp_available, make_backend)
from core.settings import load_settings, override_settings


@pytest.fixture
def no_llama_cpp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import llama_cpp`` fail, as on a machine where it is not installed."""
    monkeypatch.setitem(sys.modules, "llama_cpp", None)


def test_fallback_to_transformers_when_llama_cpp_cannot_be_imported(no_llama_cpp: None) -> None:
    assert not llamacpp_available()
    backend = make_backend(LOCAL, "chat-smollm2-135m")
    assert type(backend) is LocalBackend and backend.engine == "transformers"
    assert engine_name() == "transformers"
    info = engine_info()
    assert info["engine"] == "transformers" and info["llama_cpp"] == "not installed"
    assert "not installed" in info["reason"]
    with override_settings(engine="llamacpp"):  # asked for, but missing: still runs
        assert type(make_backend(LOCAL)) is LocalBackend


@pytest.mark.skipif(not llamacpp_available(), reason="llama-cpp-python is not installed")
def test_llama_cpp_is_the_cpu_default() -> None:
    backend = make_backend(LOCAL, "chat-smollm2-135m")
    assert type(backend) is LlamaCppBackend and backend.engine == "llama.cpp"
    assert isinstance(backend, LocalBackend)  # callers asking "is this a local model?" keep working
    assert engine_name() == "llama.cpp"
    info = engine_info()
    assert info["engine"] == "llama.cpp" and info["llama_cpp"] == "0.3.36"
    assert info["instances"] >= 1 and info["threads_per_instance"] >= 1


def test_transformers_when_logits_are_needed_asked_for_or_on_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    assert type(make_backend(LOCAL, need_logits=True)) is LocalBackend
    assert type(make_backend(LOCAL, engine="transformers")) is LocalBackend
    with override_settings(engine="transformers"):
        assert choose_engine("chat-smollm2-135m") == ("transformers", "LLM_LAB_ENGINE=transformers")
    with override_settings(zero_gpu=True):  # ZeroGPU: core.gpu.device() says cuda (torch not imported)
        engine, reason = choose_engine("chat-smollm2-135m")
        assert engine == "transformers" and "GPU" in reason
        assert type(make_backend(LOCAL)) is LocalBackend


def test_make_backend_refuses_bad_values_and_builds_remote() -> None:
    with pytest.raises(LabError, match="Unknown model"):
        make_backend(LOCAL, "nope")
    with pytest.raises(LabError, match="not a chat model"):
        make_backend(LOCAL, "embed-minilm")
    with pytest.raises(LabError, match="Unknown backend"):
        make_backend("carrier pigeon")
    remote = make_backend(REMOTE, base_url=" http://127.0.0.1:9/v1 ", model=" m ", api_key=" k ")
    assert isinstance(remote, OpenAIBackend) and (remote.base_url, remote.model, remote.api_key) == (
        "http://127.0.0.1:9/v1", "m", "k")


def test_engine_settings_from_the_environment() -> None:
    s = load_settings({"LLM_LAB_ENGINE": "llama.cpp", "LLM_LAB_ENGINE_THREADS": "2", "LLM_LAB_ENGINE_INSTANCES": "1"})
    assert (s.engine, s.engine_threads, s.engine_instances) == ("llamacpp", 2, 1)
    assert load_settings({}).engine == "auto"
    assert load_settings({"LLM_LAB_ENGINE": "Transformers"}).engine == "transformers"
    with override_settings(engine="warp-drive"):  # unknown: auto, with a warning in the log
        assert choose_engine("chat-smollm2-135m")[0] in ("llamacpp", "transformers")


def test_old_import_paths_still_work() -> None:
    from core.generation import make_backend as new
    from core.prompts import run

    assert run.make_backend is new
    for name in ("Stats", "UserStop", "timed_stream", "sampling", "chat_models", "LOCAL", "REMOTE"):
        assert getattr(run, name) is getattr(sys.modules["core.generation"], name)
