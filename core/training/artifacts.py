"""Trained artifacts, kept per browser session in the lab's one budgeted cache (:mod:`core.cache`),
each with a folder on disk that downloads as a zip (the adapter, or the whole fine-tuned model).

An artifact evicted under the memory budget loses its in-memory model; its folder stays until the
session's next run of the same kind replaces it (or the temporary folder is cleaned).
"""
from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.cache import budget_cache
from core.errors import LabError
from core.tempfiles import download_dir

_CACHE = budget_cache("training-artifacts", max_items=64)


@dataclass
class Artifact:
    kind: str  # encoder | embedder | sft | dpo
    session: str
    folder: Path
    summary: dict[str, Any]
    model: Any = field(default=None, repr=False)
    created: float = field(default_factory=time.time)
    #: a fresh id per run: part of the session model name (core.training.session_models), so the
    #: vectors a previous run of the same session cached are never served for a retrained model
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


def new_folder(kind: str) -> Path:
    """A fresh folder for one run's files."""
    return Path(tempfile.mkdtemp(prefix=f"lab-{kind}-"))


def keep(session: str | None, kind: str, folder: Path, summary: dict[str, Any], model: Any = None) -> Artifact:
    """Keep the session's latest ``kind`` artifact (the previous one of that kind is replaced and its
    folder removed)."""
    key = (session or "", kind)
    old = _CACHE.get(key)
    art = Artifact(kind, session or "", Path(folder), summary, model)
    _CACHE.put(key, art)
    if old is not None and Path(old.folder) != Path(folder):
        shutil.rmtree(old.folder, ignore_errors=True)
    return art


def get(session: str | None, kind: str) -> Artifact | None:
    return _CACHE.get((session or "", kind))


def save_model(model: Any, tokenizer: Any, kind: str) -> Path:
    """Save a transformers / sentence-transformers model (and its tokenizer) to a new folder."""
    folder = new_folder(kind)
    model.save_pretrained(str(folder))
    if tokenizer is not None:
        tokenizer.save_pretrained(str(folder))
    return folder


def zip_artifact(session: str | None, kind: str) -> Path:
    """A zip of the session's latest ``kind`` artifact folder (clear message when there is none)."""
    art = get(session, kind)
    if art is None or not Path(art.folder).exists():
        raise LabError(f"No trained {kind} in this session yet (or it was evicted): run the training first.")
    out = download_dir("training-download-") / f"llm-lab-{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    return Path(shutil.make_archive(str(out), "zip", root_dir=art.folder))
