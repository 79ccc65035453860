"""Arena take-home: the notebook's scikit-learn Bradley–Terry and online Elo, computed from the
exported votes, match the lab's leaderboard; the download has provenance; links keep the room, not the key."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from core.arena.store import Vote
from core.notebooks import execute, outputs_json
from apps.arena import MANIFEST

MODELS = ["smollm2-135m", "qwen-0.5b", "tinyllama", "phi3"]


def votes(n: int = 120, seed: int = 3) -> list[Vote]:
    rng = random.Random(seed)
    strength = {"smollm2-135m": 0.2, "qwen-0.5b": 0.6, "tinyllama": 0.35, "phi3": 0.8}
    out = []
    for i in range(n):
        a, b = rng.sample(MODELS, 2)
        r = rng.random()
        p = strength[a] / (strength[a] + strength[b])
        winner = "tie" if r < 0.1 else "tie (bothbad)" if r < 0.15 else "model_a" if rng.random() < p else "model_b"
        la, lb = rng.randint(20, 400), rng.randint(20, 400)
        out.append(Vote(f"v{i}", f"b{i}", "", f"s{i % 7}", winner, a, b, f"prompt {i}", "x" * la, "y" * lb, la, lb,
                        i % 17 == 0, "flag" if i % 17 == 0 else "", 1000.0 + i, "named" if i % 11 == 0 else "anonymous"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("length", [False, True])
def test_notebook_reproduces_bradley_terry_and_elo(tmp_path: Path, length: bool) -> None:
    from core.arena import leaderboard as lb
    from core.arena.notebook import notebook

    all_votes = votes()
    state = {"room": "", "flagged": False, "named": False, "length": length, "k": 8}
    board = lb.compute([v for v in all_votes if v.mode == "anonymous"], include_flagged=False,
                       style_control=length, k=8, rounds=50)
    name, content = notebook(all_votes, state, app=MANIFEST).bundle()
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        zf.extractall(tmp_path)
        assert "data/arena-votes.jsonl" in zf.namelist()
    got = outputs_json(execute(str(tmp_path / "llm-lab-arena.ipynb"), timeout_s=120))
    for row in board.rows:
        assert got["bt"][row.model] == pytest.approx(row.bt, abs=0.05), row.model
        assert got["elo"][row.model] == pytest.approx(row.elo, abs=1e-6), row.model


def test_download_and_link_state() -> None:
    from core.arena.results import board_settings, link_state, results

    state = link_state("ROOM42", True, False, 16, False)
    assert state == {"room": "ROOM42", "flagged": True, "length": None, "k": 16.0, "named": None}
    assert board_settings({"k": "999", "length": "1"}) == (False, True, 64.0, False)
    name, content = results(votes(), state)
    text = content.decode()
    assert name == "arena-leaderboard-ROOM42.csv" and text.startswith("# lab: ")
    assert '"k": 16.0' in text and "\nrank,contestant,label,Bradley-Terry" in text
    assert sum(1 for line in text.splitlines() if line and line[0].isdigit()) == len(MODELS)
