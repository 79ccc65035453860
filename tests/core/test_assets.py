import hashlib
import zipfile

import pytest

from core import assets
from core.assets import ASSETS, Asset, _strip
from core.errors import ModelUnavailable
from core.settings import override_settings


def test_every_asset_is_pinned_with_a_hash():
    for a in ASSETS:
        assert "==" in a.requirement and len(a.sha256) == 64 and a.members, a.name


def test_strip_handles_the_sdist_root_wildcard():
    assert _strip("llama_cpp_python-0.3.36/vendor/llama.cpp/models/ggml-vocab-gpt-2.gguf",
                  "*/vendor/llama.cpp/models/") == "ggml-vocab-gpt-2.gguf"
    assert _strip("pkg/data/x.csv", "pkg/data/") == "x.csv"
    assert _strip("pkg/other/x.csv", "pkg/data/") is None


def _fake_wheel(folder, name="demo_pkg", version="1.0"):
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}/data/a.txt", "alpha")
        zf.writestr(f"{name}/data/sub/b.txt", "beta")
        zf.writestr(f"{name}/code.py", "print()")
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_extracts_only_wanted_members_and_is_idempotent(tmp_path, monkeypatch):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    wheel, digest = _fake_wheel(downloads)
    spec = Asset("demo", "demo-pkg==1.0", digest, ("demo_pkg/data/*",), "demo_pkg/data/", "demo data")
    monkeypatch.setattr(assets, "ASSETS", (spec,))
    lines = []
    with override_settings(cache_dir=tmp_path):
        assets.fetch(report=lines.append, prepare=False)
        folder = assets.asset_dir("demo")
        assert (folder / "a.txt").read_text() == "alpha" and (folder / "sub" / "b.txt").exists()
        assert not (folder / "code.py").exists()
        assets.fetch(report=lines.append, prepare=False)
    assert any("ok (cached)" in line for line in lines)


def test_fetch_rejects_a_tampered_archive(tmp_path, monkeypatch):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    _fake_wheel(downloads)
    spec = Asset("demo", "demo-pkg==1.0", "0" * 64, ("demo_pkg/data/*",), "demo_pkg/data/", "demo data")
    monkeypatch.setattr(assets, "ASSETS", (spec,))
    with override_settings(cache_dir=tmp_path), pytest.raises(RuntimeError, match="sha256 mismatch"):
        assets.fetch(report=lambda _: None, prepare=False)
    assert not (tmp_path / "assets" / "demo").exists()  # nothing half-extracted is left visible


def test_missing_asset_gives_one_actionable_line(tmp_path):
    with override_settings(cache_dir=tmp_path), pytest.raises(ModelUnavailable) as err:
        assets.asset_dir("minilm")
    assert "python -m core.assets fetch" in str(err.value)


def test_the_real_assets_are_installed():
    # .ci/run and the README run `python -m core.assets fetch` before the tests
    for name, ok, _ in assets.status():
        assert ok, f"asset {name} missing: run python -m core.assets fetch"
    assert (assets.asset_dir("smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf").exists()
