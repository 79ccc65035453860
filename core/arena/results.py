"""Pairwise Eval Arena take-home: the link state (room and the board's settings — never the instructor
key) and the leaderboard download (CSV under provenance lines)."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from core.links import param_bool, param_float


def link_state(room: str, include_flagged: bool, length_control: bool, k: float,
               include_named: bool) -> dict[str, Any]:
    """``?room=CODE&flagged=1&length=1&k=8&named=1`` (defaults left out; the key never goes in a link)."""
    return {"room": room or None, "flagged": True if include_flagged else None,
            "length": True if length_control else None, "k": None if float(k or 4) == 4.0 else float(k),
            "named": True if include_named else None}


def board_settings(state: Mapping[str, Any]) -> tuple[bool, bool, float, bool]:
    """(include flagged, length control, K, include named) from a link, clamped to the slider's range."""
    k = min(64.0, max(1.0, param_float(state.get("k"), 4.0)))
    return (param_bool(state.get("flagged")), param_bool(state.get("length")), k, param_bool(state.get("named")))


COLUMNS = ["rank", "contestant", "label", "Bradley-Terry", "95% CI low", "95% CI high", "online Elo", "battles",
           "win rate"]


def results(votes: Sequence[Any], state: Mapping[str, Any], label: Callable[[str], str] = str,
            model_of: Callable[[str], str | None] = lambda _: None) -> tuple[str, bytes]:
    """The leaderboard of ``votes`` with the state's settings as CSV, provenance lines on top
    (``model_of``: a contestant's catalogue model name, for model ids and revisions)."""
    from core.arena import leaderboard as lb
    from core.errors import LabError
    from core.exports import to_csv_text
    from core.provenance import header, header_lines

    flagged, length, k, named = board_settings(state)
    used = [v for v in votes if named or v.mode == "anonymous"]
    if not used:
        raise LabError("No votes in this room yet: nothing to download.")
    board = lb.compute(used, label, include_flagged=flagged, style_control=length, k=k, rounds=300)
    rows = [[r.rank, r.model, r.label, round(r.bt, 2), round(r.lower, 2), round(r.upper, 2), round(r.elo, 2),
             r.votes, round(r.win_rate, 4)] for r in board.rows]
    models = [m for m in (model_of(c) for c in board.models) if m]
    block = header("arena", models, {"room": state.get("room") or "public", "include_flagged": flagged,
                                     "include_named": named, "length_control": length, "k": k,
                                     "bootstrap_rounds": 300, "reg": 0.5},
                   votes={"used": board.n_votes, "excluded_flagged": board.n_excluded},
                   length_coefficient=board.length_coef)
    text = "\n".join(header_lines(block)) + "\n" + to_csv_text(rows, COLUMNS)
    return f"arena-leaderboard-{state.get('room') or 'public'}.csv", text.encode("utf-8")
