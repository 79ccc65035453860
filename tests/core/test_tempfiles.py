"""Scratch folders remove their own prefix's leftovers older than the age limit, nothing else."""
from __future__ import annotations

import os
import time
from pathlib import Path

from core.tempfiles import MAX_AGE_S, prune, scratch_dir


def _aged(path: Path, seconds: float) -> Path:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))
    return path


def test_new_folder_removes_only_old_entries_of_its_prefix(tmp_path: Path) -> None:
    parent = tmp_path / "takehome"
    old = parent / "th-old"
    (old / "sub").mkdir(parents=True)
    (old / "sub" / "results.csv").write_text("x")
    _aged(old, MAX_AGE_S + 60)
    recent = parent / "th-recent"
    recent.mkdir()
    (recent / "nb.ipynb").write_text("{}")
    _aged(recent, MAX_AGE_S - 60)
    old_file = parent / "th-stray.json"  # a plain file with the prefix goes too
    old_file.write_text("{}")
    _aged(old_file, MAX_AGE_S + 60)
    other = parent / "keep-me"
    other.mkdir()
    _aged(other, 10 * MAX_AGE_S)  # another prefix: not ours to remove

    made = scratch_dir(parent, "th-")
    assert made.is_dir() and made.parent == parent and made.name.startswith("th-") and not any(made.iterdir())
    assert not old.exists() and not old_file.exists()
    assert recent.exists() and other.exists()
    assert scratch_dir(parent, "th-") != made  # a fresh folder each time


def test_prune_counts_and_tolerates_a_missing_parent(tmp_path: Path) -> None:
    assert prune(tmp_path / "absent", "th-") == 0
    assert not (tmp_path / "absent").exists()
    for i in range(3):
        _aged(scratch_dir(tmp_path, "x-"), 120)
    assert prune(tmp_path, "x-", max_age_s=60) == 3 and not list(tmp_path.iterdir())
    assert scratch_dir(tmp_path / "new" / "deep", "x-").parent.is_dir()  # the parent is made on first use
