"""What produced a result: the header block every download and notebook carries.

Lab version, mode, the models (Hub id + pinned revision, or the offline file and its sha256), the
library versions and every parameter — enough to reproduce a figure later.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

LIBRARIES = ("gradio", "torch", "transformers", "sentence-transformers", "tokenizers", "tiktoken", "bertopic",
             "umap-learn", "hdbscan", "scikit-learn", "bm25s", "faiss-cpu", "llama-cpp-python", "openai", "pypdf",
             "numpy", "pandas", "setfit", "trl", "peft", "llguidance")


def lab_version() -> str:
    try:
        return importlib.metadata.version("llm-lab")
    except importlib.metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        for line in pyproject.read_text(encoding="utf-8").splitlines() if pyproject.exists() else []:
            if line.startswith("version"):
                return line.split("=", 1)[1].strip().strip('"')
    return "unknown"


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str]:
    """Installed versions of the libraries the lab wraps (absent ones left out)."""
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


@lru_cache(maxsize=64)
def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_record(name: str) -> dict[str, Any]:
    """How catalogue model ``name`` runs in the current mode: Hub id + revision, or the offline source."""
    from core import catalogue
    from core.settings import get_settings

    entry = catalogue.get(name)
    settings = get_settings()
    if settings.offline:
        record: dict[str, Any] = {"name": name, "runs": entry.display("offline"), "offline_source": entry.offline_source}
        try:
            from core.assets import asset_dir

            folder = asset_dir(entry.offline_source) if entry.offline_source else None
            gguf = sorted(folder.glob("*.gguf")) if folder else []
            if gguf:
                record["file"] = gguf[0].name
                record["sha256"] = file_sha256(str(gguf[0]))
        except Exception:  # noqa: BLE001 - provenance must never break a download
            pass
        return record
    return {"name": name, "hub_id": entry.hub_id, "revision": entry.hub_revision}


def header(slug: str, models: Iterable[str] = (), parameters: Mapping[str, Any] | None = None,
           **extra: Any) -> dict[str, Any]:
    """The provenance block of a result of app ``slug``."""
    from core.settings import get_settings

    settings = get_settings()
    return {"lab": "LLM Lab", "lab_version": lab_version(), "app": slug, "mode": settings.mode,
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(),
            "models": [model_record(m) for m in models], "libraries": library_versions(),
            "parameters": dict(parameters or {}), **extra}


def header_lines(block: Mapping[str, Any]) -> list[str]:
    """The provenance block as ``# key: value`` lines (for the top of a CSV)."""
    import json

    return [f"# {key}: {json.dumps(value, ensure_ascii=False, default=str)}" for key, value in block.items()]
