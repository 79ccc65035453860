"""Export votes (JSONL/CSV) and a DPO preference dataset (prompt, chosen, rejected), book ch. 12."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Sequence

from core.arena.store import Vote
from core.errors import LabError
from core.exports import to_csv_text
from core.tempfiles import download_dir

FIELDS = ["vote_id", "battle_id", "room", "winner", "model_a", "model_b", "prompt", "answer_a", "answer_b",
          "len_a", "len_b", "flagged", "flag_reason", "created_at", "mode"]


def votes_jsonl(votes: Sequence[Vote]) -> str:
    return "".join(json.dumps({k: v.record()[k] for k in FIELDS}, ensure_ascii=False) + "\n" for v in votes)


def votes_csv(votes: Sequence[Vote]) -> str:
    """Votes as CSV through the lab's one safe writer (:mod:`core.exports`: every text cell that
    starts with = + - @ tab or CR is neutralised; numbers stay numbers)."""
    return to_csv_text((v.record() for v in votes), FIELDS)


def dpo_records(votes: Sequence[Vote], include_flagged: bool = False) -> list[dict[str, Any]]:
    """One (prompt, chosen, rejected) row per decisive vote; ties and 'both bad' are dropped, as the
    book filters ``status != "tie"`` in its DPO data."""
    out = []
    for v in votes:
        if v.winner not in ("model_a", "model_b") or (v.flagged and not include_flagged):
            continue
        if v.answer_a.strip() == v.answer_b.strip():
            continue
        a_wins = v.winner == "model_a"
        out.append({"prompt": v.prompt,
                    "chosen": v.answer_a if a_wins else v.answer_b,
                    "rejected": v.answer_b if a_wins else v.answer_a,
                    "chosen_model": v.model_a if a_wins else v.model_b,
                    "rejected_model": v.model_b if a_wins else v.model_a,
                    "vote_id": v.vote_id})
    return out


def dpo_jsonl(votes: Sequence[Vote], include_flagged: bool = False) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in dpo_records(votes, include_flagged))


KINDS = {"jsonl": ("arena-votes", ".jsonl"), "csv": ("arena-votes", ".csv"), "dpo": ("arena-dpo", ".jsonl")}


def export_file(votes: Sequence[Vote], room: str, kind: str, folder: Path | None = None) -> Path:
    """Write the room's votes as ``kind`` (jsonl | csv | dpo) to a fresh temporary folder; the path."""
    if kind not in KINDS:
        raise LabError(f"Unknown export {kind!r}.")
    if not votes:
        raise LabError("No votes in this room yet: nothing to export.")
    text = {"jsonl": votes_jsonl, "csv": votes_csv, "dpo": dpo_jsonl}[kind](votes)
    if not text:
        raise LabError("No decisive, unflagged votes yet: ties and 'both bad' are not preference pairs.")
    prefix, ext = KINDS[kind]
    folder = folder or download_dir("arena-export-")
    path = folder / f"{prefix}-{room or 'public'}-{time.strftime('%Y%m%d-%H%M%S')}{ext}"
    path.write_text(text, encoding="utf-8", newline="")
    return path
