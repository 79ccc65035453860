"""The arena's board, live view, judge, exports and room controls, as event handlers.

Each handler checks access on the server (:mod:`core.arena.access`): in an instructor's room only
the key holder gets the board, live view, judge, exports, reset and close.
"""
from __future__ import annotations

from typing import Any, Callable

from apps.arena import views as V
from apps.common import themed
from core.arena import access as acl


def frame(rows: list[list[Any]], headers: list[str]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=headers)


class Instructor:
    """Handlers bound to the arena returned by ``get_arena`` (resolved on first use)."""

    def __init__(self, get_arena: Callable[[], Any]) -> None:
        self.A = get_arena

    def leaderboard(self, room: str, include_flagged: bool, length_control: bool, k: float, include_named: bool,
                    key: str = "") -> tuple:
        from core.arena import leaderboard as lb

        arena_ = self.A()
        acc = acl.for_instructor(arena_.rooms, room, key)
        votes = arena_.store.votes(acc.room, mode=None if include_named else "anonymous")
        board = lb.compute(votes, arena_.label, include_flagged=include_flagged, style_control=length_control,
                           k=float(k), rounds=300)
        rows = [[r.rank, r.label, round(r.bt), f"{r.lower:.0f} – {r.upper:.0f}", round(r.elo), r.votes,
                 f"{r.win_rate:.0%}"] for r in board.rows]
        table = frame(rows, ["rank", "contestant", "Bradley–Terry", "95% CI", f"online Elo (K={k:g})", "battles",
                              "win rate"])
        return (V.board_note(board, acc.room, length_control), table, *(themed(f) for f in lb.figures(board)))

    def live(self, room: str, key: str = "") -> tuple:
        from core.arena.leaderboard import live as live_board

        arena_ = self.A()
        acc = acl.for_instructor(arena_.rooms, room, key)
        lb = live_board(arena_.store, acc.room, arena_.label)
        r = acc.managed
        return (V.kpis(lb.counts, acc.room, r.title if r else "", bool(r and r.closed)),
                frame(lb.rows, ["rank", "contestant", "Elo (K=4)", "battles"]),
                frame(V.voters_rows(lb.voters), ["participant", "votes"]))

    def run_judge(self, judge_id: str, room: str, n: float, key: str = "") -> tuple:
        from core.arena.judge import judge_room

        arena_ = self.A()
        acc = acl.for_instructor(arena_.rooms, room, key)
        run = judge_room(arena_, judge_id, acc.room, int(n))
        table = [[r["battle_id"][:8], arena_.label(r["judge"]), r["verdict_ab"], r["verdict_ba"], r["final"],
                  r["human"] or "—"] for r in run.rows[-50:]]
        return V.judge_summary(run.agreement), frame(
            table, ["battle", "judge", "A|B order", "B|A order (mapped)", "judge final", "human vote"])

    def export(self, room: str, kind: str, key: str = "") -> str:
        from core.arena.export import export_file

        arena_ = self.A()
        acc = acl.for_instructor(arena_.rooms, room, key)
        return str(export_file(arena_.store.votes(acc.room), acc.room, kind))

    def create_room(self, title: str, base: str = "") -> tuple:
        from core.rooms import links

        room, key = self.A().rooms.create(acl.APP, title)
        participant, instructor = links(base, room.code, key)
        return V.room_links(room.code, participant, instructor), room.code, participant, instructor

    def reset_room(self, room: str, key: str) -> str:
        n = acl.reset(self.A().rooms, self.A().store, room, key)
        return V.status(f"Board reset: {n} votes archived (kept in the database, no longer on this room's board).")

    def close_room(self, room: str, key: str) -> str:
        self.A().rooms.close(room, key, acl.APP)
        return V.status("Room closed: participants can no longer battle or vote; the board and exports stay.")


    def api_create_room(self, title: str = "", page_url: str = "") -> dict:
        _, code, participant, instructor = self.create_room(title, page_url)
        return {"code": code, "participant": participant, "instructor": instructor}
