"""Scratch folders for files the lab hands to Gradio (downloads, images restored from a link).

Gradio copies every file an event returns into its own cache before the browser asks for it (and
that cache is swept by the ``delete_cache`` setting of the lab's Blocks), so the lab's copy is needed
only for the moment of the copy. Each new folder therefore first removes its siblings older than
:data:`MAX_AGE_S`: over a workshop day the folder holds about an hour's files, not the whole day's.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

#: how long a scratch folder is kept (Gradio has copied what it serves within a second)
MAX_AGE_S = 3600.0


def prune(parent: Path, prefix: str, max_age_s: float = MAX_AGE_S) -> int:
    """Remove the entries of ``parent`` named ``<prefix>…`` last modified over ``max_age_s`` ago;
    returns how many went. A missing ``parent``, or an entry another process removes first, is fine."""
    cutoff = time.time() - max_age_s
    removed = 0
    try:
        entries = [p for p in Path(parent).iterdir() if p.name.startswith(prefix)]
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.lstat().st_mtime >= cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except OSError:
            continue
    return removed


def scratch_dir(parent: Path, prefix: str, max_age_s: float = MAX_AGE_S) -> Path:
    """A new empty folder ``parent/<prefix>XXXX`` (created with ``parent`` if needed), after removing
    the ``<prefix>…`` entries older than ``max_age_s``."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    prune(parent, prefix, max_age_s)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def download_dir(prefix: str) -> Path:
    """A scratch folder for a file the lab hands to Gradio to serve (exports, share-link files)."""
    return scratch_dir(Path(tempfile.gettempdir()) / "llm-lab-downloads", prefix)
